package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/adapters/slack/slackfake"
	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/commands/commandstest"
	"github.com/lxcbot/lxcbot/internal/provision"
)

func TestBadSignaturesAreRefusedAndNothingHappens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	form := url.Values{"team_id": {team}, "channel_id": {channel}, "user_id": {slackAdmin.UserID}, "text": {"start web1"},
		"trigger_id": {"t1"}, "response_url": {b.fake.ResponseURL("t1")}}
	body := []byte(form.Encode())
	now := time.Now()
	cases := map[string]func(r *http.Request){
		"missing": func(r *http.Request) {
			r.Header.Del("X-Slack-Signature")
			r.Header.Del("X-Slack-Request-Timestamp")
		},
		"wrong secret": func(r *http.Request) {
			slackfake.Signer{Secret: "not-the-secret"}.Sign(r, body)
		},
		"tampered": func(r *http.Request) {
			r.Header.Set("X-Slack-Signature", slackfake.Signature(testSigningSecret, r.Header.Get("X-Slack-Request-Timestamp"), []byte("text=other")))
		},
		"stale": func(r *http.Request) {
			slackfake.Signer{Secret: testSigningSecret, Now: func() time.Time { return now.Add(-6 * time.Minute) }}.Sign(r, body)
		},
		"from the future": func(r *http.Request) {
			slackfake.Signer{Secret: testSigningSecret, Now: func() time.Time { return now.Add(6 * time.Minute) }}.Sign(r, body)
		},
		"malformed timestamp": func(r *http.Request) {
			r.Header.Set("X-Slack-Request-Timestamp", "yesterday")
		},
	}
	for name, spoil := range cases {
		for _, path := range []string{"/slack/commands", "/slack/interactions", "/slack/events"} {
			r := b.signer.SlashCommand(b.srv.URL+path, form)
			spoil(r)
			resp, _ := b.do(t, r)
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s %s", name, path)
		}
	}
	b.drain(t)
	require.Empty(t, b.fake.Calls(), "a refused request must cause no Slack call")
	require.Empty(t, b.mem.AuditEntries(), "a refused request must reach no command")
	st, _ := b.mem.Get("ct-web1")
	require.Equal(t, provision.StateReady, st.State)
}

func TestBodiesOverOneMebibyteAreRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := make([]byte, MaxBody+1)
	for i := range body {
		body[i] = 'a'
	}
	resp, _ := b.do(t, b.signer.Request(b.srv.URL+"/slack/events", "application/json", body))
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)

	// Exactly 1 MiB is read (and then judged on its content).
	resp, _ = b.do(t, b.signer.Request(b.srv.URL+"/slack/events", "application/json", body[:MaxBody]))
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestURLVerificationAnswersTheChallenge(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, body := b.do(t, b.signer.Event(b.srv.URL+"/slack/events", map[string]any{
		"type": "url_verification", "token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
	}))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", body)
}

func TestHelpIsAnsweredInTheAck(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, body := b.slash(t, slackOperator, "help", "trig-help")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var ack struct {
		ResponseType string          `json:"response_type"`
		Blocks       json.RawMessage `json:"blocks"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &ack), body)
	// The router answers help instantly; the adapter may still choose to
	// answer through response_url if the ack wait was cut short.
	b.drain(t)
	text := string(ack.Blocks)
	if ack.Blocks == nil || strings.Contains(body, textWorking) {
		msgs := webhookBodies(t, b.fake.Calls("response_url"))
		require.Len(t, msgs, 1)
		text = blocksText(t, msgs[0].Blocks)
	}
	require.Equal(t, "ephemeral", ack.ResponseType)
	require.Contains(t, text, "/lxc create")
	require.Contains(t, text, "/lxc list")
	require.Empty(t, b.fake.Calls("chat.postMessage"))
}

// blockingBackend holds Containers until released, like a slow Proxmox.
type blockingBackend struct {
	*commandstest.Mem
	release chan struct{}
	entered chan struct{}
}

func (bb *blockingBackend) Containers(ctx context.Context, f commands.ContainerFilter) ([]provision.Container, error) {
	select {
	case bb.entered <- struct{}{}:
	default:
	}
	select {
	case <-bb.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return bb.Mem.Containers(ctx, f)
}

func TestSlashCommandIsAckedBeforeTheWorkCompletes(t *testing.T) {
	t.Parallel()
	bb := &blockingBackend{release: make(chan struct{}), entered: make(chan struct{}, 1)}
	b := setup(t, func(o *setupOpts) {
		o.backend = func(m *commandstest.Mem) commands.Backend { bb.Mem = m; return bb }
	})
	resp, body := b.slash(t, slackAdmin, "list", "trig-list")
	// The work is still blocked: the ack came first.
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, textWorking)
	require.Contains(t, body, `"response_type":"ephemeral"`)
	<-bb.entered
	require.Empty(t, b.fake.Calls("response_url"))

	close(bb.release)
	waitFor(t, "the list through response_url", func() bool { return len(b.fake.Calls("response_url")) == 1 })
	msg := webhookBodies(t, b.fake.Calls("response_url"))[0]
	require.Equal(t, "ephemeral", msg.ResponseType)
	require.True(t, msg.ReplaceOriginal, "the answer replaces the working note")
	require.Contains(t, blocksText(t, msg.Blocks), "Containers (3)")
}

func TestTheSameDeliveryTwiceHasOneEffect(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// A slash command retried with the same trigger.
	for range 2 {
		resp, _ := b.slash(t, slackAdmin, "start web1", "trig-dup")
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	// A button pressed and delivered twice.
	for range 2 {
		resp, _ := b.press(t, slackAdmin, commands.ActCreateConfirm, "plan7 nginx web7", "1700000000.000001", true, "1700000001.1")
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	// An event retried by Slack.
	ev := map[string]any{"type": "event_callback", "team_id": team, "event_id": "Ev1", "event_time": 1,
		"event": map[string]any{"type": "app_home_opened", "user": slackAdmin.UserID, "channel": "D1", "tab": "home"}}
	for i := range 2 {
		r := b.signer.Event(b.srv.URL+"/slack/events", ev)
		if i > 0 {
			r.Header.Set("X-Slack-Retry-Num", strconv.Itoa(i))
			r.Header.Set("X-Slack-Retry-Reason", "http_timeout")
		}
		resp, _ := b.do(t, r)
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	waitFor(t, "the job card to finish", func() bool {
		c, ok := b.mem.Get(provision.ContainerIDFor("plan:slack:UADA:plan7"))
		return ok && c.State == provision.StateReady
	})
	b.drain(t)
	starts := 0
	for _, e := range b.mem.AuditEntries() {
		if e.Command == "start" {
			starts++
		}
	}
	require.Equal(t, 1, starts, "one start for a retried slash command")
	cards := 0
	for _, m := range b.fake.Messages(channel) {
		if m.ThreadTS == "" && strings.Contains(m.Blocks, "web7") {
			cards++
		}
	}
	require.Equal(t, 1, cards, "one job card for a button delivered twice")
	require.Len(t, b.fake.Calls("views.publish"), 1, "one home tab for a retried event: %s", b.logs.String())
}

func TestCreateFormOpensAtOnceAndShowsErrorsInline(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, body := b.slash(t, slackOperator, "create", "trig-form")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Empty(t, body, "the modal is the answer")
	waitFor(t, "the form", func() bool { return len(b.fake.Calls("views.update")) == 1 })
	open := b.fake.Calls("views.open")
	require.Len(t, open, 1)
	require.Equal(t, "trig-form", open[0].Param("trigger_id"), "the modal opens from the trigger before any lookup")
	var upd struct {
		View   slack.ModalViewRequest `json:"view"`
		ViewID string                 `json:"view_id"`
	}
	require.NoError(t, json.Unmarshal(b.fake.Calls("views.update")[0].JSON, &upd))
	require.NotEmpty(t, upd.ViewID)
	require.Equal(t, "lxc:create:C1:", upd.View.CallbackID)
	form := blocksText(t, upd.View.Blocks)
	require.Contains(t, form, `"dispatch_action":true`, "the node select refreshes its dependants")
	require.Contains(t, form, "debian-12-standard", "OS templates of the default node are offered")

	// A bad hostname keeps the modal open with the error on its field.
	submit := map[string]any{
		"type": "view_submission", "team": map[string]any{"id": team},
		"user": map[string]any{"id": slackOperator.UserID, "name": slackOperator.Name},
		"view": map[string]any{"id": upd.ViewID, "hash": "h1", "callback_id": upd.View.CallbackID, "type": "modal",
			"blocks": upd.View.Blocks,
			"state": map[string]any{"values": map[string]any{
				"f:template": map[string]any{"template": map[string]any{"type": "static_select", "selected_option": map[string]any{"value": "nginx"}}},
				"f:hostname": map[string]any{"hostname": map[string]any{"type": "plain_text_input", "value": "Bad_Host!"}},
				"f:node":     map[string]any{"node": map[string]any{"type": "static_select", "selected_option": map[string]any{"value": "pve1"}}},
			}}},
	}
	resp, body = b.do(t, b.signer.Interaction(b.srv.URL+"/slack/interactions", submit))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var verdict slack.ViewSubmissionResponse
	require.NoError(t, json.Unmarshal([]byte(body), &verdict), body)
	require.Equal(t, slack.RAErrors, verdict.ResponseAction)
	require.Contains(t, verdict.Errors, "f:hostname")

	// A good one closes the modal and posts the plan to the channel.
	vals := submit["view"].(map[string]any)["state"].(map[string]any)["values"].(map[string]any)
	vals["f:hostname"] = map[string]any{"hostname": map[string]any{"type": "plain_text_input", "value": "web5"}}
	submit["view"].(map[string]any)["hash"] = "h2"
	resp, body = b.do(t, b.signer.Interaction(b.srv.URL+"/slack/interactions", submit))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Empty(t, body)
	waitFor(t, "the plan", func() bool { return len(b.fake.Calls("chat.postEphemeral")) == 1 })
	plan := b.fake.Calls("chat.postEphemeral")[0]
	require.Equal(t, channel, plan.Param("channel"))
	require.Contains(t, plan.Param("blocks"), "Create web5 from nginx?")
}
