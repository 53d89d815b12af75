package slack

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/adapters/slack/slackfake"
	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/provision"
)

func TestJobCardIsEditedInPlaceCoalescedUnderRateLimits(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOpts) { o.cfg = func(c *Config) { c.EditInterval = 500 * time.Millisecond } })
	b.fake.SetRateLimit(100 * time.Millisecond)
	// The Create button on the ephemeral plan.
	resp, _ := b.press(t, slackOperator, commands.ActCreateConfirm, "plan9 nginx web9", "1700000000.000001", true, "1700000002.1")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	id := provision.ContainerIDFor("plan:slack:UALICE:plan9")
	waitFor(t, "the card to show the ready state", func() bool {
		for _, m := range b.fake.Messages(channel) {
			if m.ThreadTS == "" && strings.Contains(m.Blocks, "web9 is ready") {
				return true
			}
		}
		return false
	})
	b.drain(t)

	var cards []slackfake.Message
	var replies []slackfake.Message
	for _, m := range b.fake.Messages(channel) {
		if m.ThreadTS == "" {
			cards = append(cards, m)
		} else {
			replies = append(replies, m)
		}
	}
	require.Len(t, cards, 1, "one card, edited in place")
	card := cards[0]
	require.Contains(t, card.Blocks, "web9 is ready")
	require.Contains(t, card.Blocks, "100%")

	// Every reply is in the card's thread; together they hold an entry
	// per finished phase, batched into fewer replies than entries.
	require.NotEmpty(t, replies)
	phases := 0
	for _, r := range replies {
		require.Equal(t, card.TS, r.ThreadTS)
		phases += strings.Count(r.Blocks, "finished")
	}
	require.GreaterOrEqual(t, phases, 5)
	require.Less(t, len(replies), phases, "thread entries are batched")

	// Edits were coalesced: fewer successful edits than progress events.
	events, err := b.mem.Subscribe(context.Background(), "ct-web1", "") // a ready container emits nothing
	require.NoError(t, err)
	for range events {
	}
	updates := 0
	for _, c := range b.fake.Calls("chat.update") {
		if c.Status == http.StatusOK && c.Param("ts") == card.TS {
			updates++
		}
	}
	require.Equal(t, card.Edits, updates)
	require.LessOrEqual(t, updates, jobEventCount(t), "at most one edit per progress event")
	require.Less(t, updates, jobEventCount(t)/2, "edits are coalesced")

	// The fake's limit was hit and honoured: every 429 was followed by a
	// successful retry.
	limited := 0
	for _, c := range b.fake.Calls("chat.postMessage", "chat.update") {
		if c.Status == http.StatusTooManyRequests {
			limited++
		}
	}
	require.Positive(t, limited, "the test should exercise 429s")

	// The card's place is recorded for other replicas and restarts.
	o, ok := b.cards.get(id)
	require.True(t, ok)
	require.Equal(t, provision.Origin{Platform: provision.PlatformSlack, WorkspaceID: team, ChannelID: channel, ThreadID: card.TS, MessageID: card.TS}, o)

	// The ephemeral plan the button was on was removed.
	var deleted bool
	for _, m := range webhookBodies(t, b.fake.Calls("response_url")) {
		deleted = deleted || m.DeleteOriginal
	}
	require.True(t, deleted)
}

// jobEventCount is how many progress events the in-memory backend's job
// emits (its fixed sequence).
func jobEventCount(t *testing.T) int {
	t.Helper()
	b := setup(t)
	ct, err := b.mem.Create(context.Background(), slackOperator, provision.Origin{}, provision.CreateRequest{Template: "nginx", Hostname: "count1"}, "")
	require.NoError(t, err)
	evs, err := b.mem.Subscribe(context.Background(), ct.ID, "")
	require.NoError(t, err)
	n := 0
	for range evs {
		n++
	}
	return n
}

func TestFailedJobPostsTheFailingOutputInTheThread(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mem.Fail = provision.PhaseScripts
	resp, _ := b.press(t, slackOperator, commands.ActCreateConfirm, "plan3 nginx web3", "1700000000.000001", true, "1700000003.1")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	waitFor(t, "the failed card", func() bool {
		for _, m := range b.fake.Messages(channel) {
			if m.ThreadTS == "" && strings.Contains(m.Blocks, "Creating web3 failed") {
				return true
			}
		}
		return false
	})
	b.drain(t)
	var failure string
	for _, m := range b.fake.Messages(channel) {
		if m.ThreadTS != "" && strings.Contains(m.Blocks, "scripts failed") {
			failure = m.Blocks
		}
	}
	require.Contains(t, failure, "Unable to locate package nginx-extras")
}

func TestCredentialsTravelOnlyEphemerally(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Typed: answered through the ack or response_url.
	resp, ack := b.slash(t, slackAdmin, "creds web1", "trig-creds")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	// Pressed on an in-channel message ("Credentials" on a job card):
	// chat.postEphemeral, never the channel.
	resp, _ = b.press(t, slackAdmin, commands.ActCreds, "web1", "1700000000.000009", false, "1700000004.1")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	waitFor(t, "the ephemeral reveal", func() bool { return len(b.fake.Calls("chat.postEphemeral")) == 1 })
	b.drain(t)

	revealed := strings.Contains(ack, testCredential)
	for _, c := range b.fake.Calls("response_url") {
		revealed = revealed || strings.Contains(string(c.Body), testCredential)
	}
	require.True(t, revealed, "the typed command reveals ephemerally")
	eph := b.fake.Calls("chat.postEphemeral")[0]
	require.Contains(t, eph.Param("blocks"), testCredential)
	require.Equal(t, slackAdmin.UserID, eph.Param("user"))
	require.Contains(t, eph.Param("blocks"), "Reveal again")

	for _, c := range b.fake.Calls() {
		switch c.Method {
		case "chat.postEphemeral", "response_url":
			continue
		}
		require.NotContains(t, string(c.Body), testCredential, "credential in a non-ephemeral %s call", c.Method)
	}
	for _, m := range webhookBodies(t, b.fake.Calls("response_url")) {
		if strings.Contains(blocksText(t, m.Blocks), testCredential) {
			require.Equal(t, "ephemeral", m.ResponseType)
		}
	}
}

func TestNotifyPostsToTheTeamChannel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.adapter.Notify(context.Background(), "CNOTIFY", "web1 was deleted by ada"))
	calls := b.fake.Calls("chat.postMessage")
	require.Len(t, calls, 1)
	require.Equal(t, "CNOTIFY", calls[0].Param("channel"))
	require.Contains(t, calls[0].Param("blocks"), "web1 was deleted by ada")
}

func TestAppHomeShowsTheUsersContainers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mem.SetRole(provision.Principal{Platform: provision.PlatformSlack, UserID: "alice"}, provision.RoleOperator)
	ev := map[string]any{"type": "event_callback", "team_id": team, "event_id": "EvHome",
		"event": map[string]any{"type": "app_home_opened", "user": slackAdmin.UserID, "channel": "DADA", "tab": "home"}}
	resp, _ := b.do(t, b.signer.Event(b.srv.URL+"/slack/events", ev))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	waitFor(t, "the home tab", func() bool { return len(b.fake.Calls("views.publish")) == 1 })
	c := b.fake.Calls("views.publish")[0]
	require.Equal(t, slackAdmin.UserID, c.Param("user_id"))
	view := c.Param("view")
	require.Contains(t, view, `"type":"home"`)
	require.Contains(t, view, "Jobs in progress")
	require.Contains(t, view, `"private_metadata":"DADA"`)
}

func TestFileUploadsForLongInChannelOutput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	content := strings.Repeat("line of output\n", 500)
	o := &origin{team: team, channel: channel, user: slackAdmin.UserID}
	b.adapter.deliver(context.Background(), o, commands.Request{}, commands.Response{Visibility: commands.InChannel,
		Blocks: []commands.Block{commands.TextBlock("logs attached")}, Files: []commands.File{{Name: "web1-nginx.log", Content: []byte(content)}}})
	// Public posts leave the request worker at once and are sent in order.
	waitFor(t, "the upload to complete", func() bool { return len(b.fake.Calls("files.completeUploadExternal")) == 1 })
	require.Len(t, b.fake.Calls("files.getUploadURLExternal"), 1)
	up := b.fake.Calls("upload")
	require.Len(t, up, 1)
	require.Contains(t, string(up[0].Body), "line of output")
	done := b.fake.Calls("files.completeUploadExternal")
	require.Len(t, done, 1)
	require.Equal(t, channel, done[0].Param("channel_id"))

	// Ephemeral output is never uploaded: it is shown whole, in pages.
	b.adapter.deliver(context.Background(), o, commands.Request{}, commands.Response{
		Files: []commands.File{{Name: "big.log", Content: []byte(strings.Repeat("x", 200000))}}})
	require.Len(t, b.fake.Calls("files.getUploadURLExternal"), 1)
	eph := b.fake.Calls("chat.postEphemeral")
	require.Greater(t, len(eph), 1, "more than one message of at most 50 blocks")
	total := 0
	for _, c := range eph {
		total += strings.Count(c.Param("blocks"), "x")
	}
	require.GreaterOrEqual(t, total, 200000, "nothing is dropped")
}
