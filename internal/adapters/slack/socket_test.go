package slack

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func runSocket(t *testing.T, b *testBundle) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.adapter.RunSocketMode(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	waitFor(t, "a socket mode connection", func() bool { return b.fake.Connections() >= 1 })
}

func sendUntilAcked(t *testing.T, b *testBundle, typ string, payload any) json.RawMessage {
	t.Helper()
	// The client may still be reading hello; a sent envelope is acked once
	// it is connected.
	var ack json.RawMessage
	waitFor(t, "an acknowledged envelope", func() bool {
		id, err := b.fake.SendEnvelope(typ, payload)
		if err != nil {
			return false
		}
		var ok bool
		ack, ok = b.fake.WaitAck(id, 2*time.Second)
		return ok
	})
	return ack
}

func TestSocketModeAcksEveryEnvelope(t *testing.T) {
	t.Parallel()
	b := setup(t)
	runSocket(t, b)
	ack := sendUntilAcked(t, b, "slash_commands", map[string]any{
		"team_id": team, "channel_id": channel, "user_id": slackOperator.UserID, "user_name": "alice",
		"command": "/lxc", "text": "help", "trigger_id": "sock-1", "response_url": b.fake.ResponseURL("sock-1"),
	})
	require.Contains(t, string(ack), `"response_type":"ephemeral"`)
	ack = sendUntilAcked(t, b, "events_api", map[string]any{
		"type": "event_callback", "team_id": team, "event_id": "EvSock",
		"event": map[string]any{"type": "app_home_opened", "user": slackOperator.UserID, "channel": "D2", "tab": "home"},
	})
	require.Empty(t, ack)
	waitFor(t, "the home tab", func() bool { return len(b.fake.Calls("views.publish")) == 1 })
	sendUntilAcked(t, b, "interactive", map[string]any{
		"type": "block_actions", "team": map[string]any{"id": team}, "user": map[string]any{"id": slackAdmin.UserID},
		"channel": map[string]any{"id": channel}, "container": map[string]any{"type": "message", "message_ts": "1.1"},
		"actions": []map[string]any{{"action_id": "ct.show", "block_id": "b4", "type": "button", "value": "web1", "action_ts": "9.1"}},
	})
	waitFor(t, "the show answer", func() bool { return len(b.fake.Calls("chat.postEphemeral")) == 1 })
}

func TestSocketModeReconnectsOnDisconnect(t *testing.T) {
	t.Parallel()
	b := setup(t)
	runSocket(t, b)
	sendUntilAcked(t, b, "slash_commands", map[string]any{"team_id": team, "user_id": slackOperator.UserID, "text": "help", "trigger_id": "s-a"})
	require.NoError(t, b.fake.Disconnect("refresh_requested"))
	waitFor(t, "a second connection", func() bool { return b.fake.Connections() == 2 })
	// The new connection works.
	sendUntilAcked(t, b, "slash_commands", map[string]any{"team_id": team, "user_id": slackOperator.UserID, "text": "help", "trigger_id": "s-b"})
}

func TestSocketModeReplacesASilentConnection(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOpts) { o.cfg = func(c *Config) { c.SocketLiveness = 300 * time.Millisecond } })
	runSocket(t, b)
	sendUntilAcked(t, b, "slash_commands", map[string]any{"team_id": team, "user_id": slackOperator.UserID, "text": "help", "trigger_id": "s-c"})
	require.NoError(t, b.fake.Silence())
	waitFor(t, "a replacement connection", func() bool { return b.fake.Connections() >= 2 })
	sendUntilAcked(t, b, "slash_commands", map[string]any{"team_id": team, "user_id": slackOperator.UserID, "text": "help", "trigger_id": "s-d"})
}
