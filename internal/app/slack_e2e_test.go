package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/examples/templates"
	"github.com/lxcbot/lxcbot/internal/adapters/slack"
	"github.com/lxcbot/lxcbot/internal/adapters/slack/slackfake"
	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/pvesim/simenv"
	"github.com/lxcbot/lxcbot/internal/secret"
	"github.com/lxcbot/lxcbot/internal/store"
)

const (
	skTeam          = "T0E2E"
	skChannel       = "C0E2E"
	skBotToken      = "xoxb-e2e-bot-token-must-never-leak"
	skSigningSecret = "e2e-signing-secret"
)

// olga operates lxcbot from Slack.
var olga = provision.Principal{Platform: provision.PlatformSlack, UserID: "UOLGA", Name: "olga"}

// slackBundle is the assembled bot behind the Slack HTTP endpoints, talking
// to the Slack fake as its Web API.
type slackBundle struct {
	app      *App
	sim      *simenv.Env
	fake     *slackfake.Server
	ad       *slack.Adapter
	endpoint string
	signer   slackfake.Signer
	seq      atomic.Int64
}

// setupSlack builds the bot on Postgres, redis-server and the simulated
// cluster with the example templates, and the Slack adapter the way
// MountChat does (with test timings). The worker is the test's to start.
func setupSlack(t *testing.T) *slackBundle {
	t.Helper()
	sim := startSim(t)
	a := newApp(t, appOptions{templates: templates.FS, nodes: sim.Nodes(),
		roles: config.Roles{Operators: []provision.Principal{olga}}})
	fake := slackfake.New(t)
	ad, err := slack.New(slack.Config{BotToken: secret.String(skBotToken), SigningSecret: secret.String(skSigningSecret),
		APIURL: fake.APIURL(), RetryBase: 20 * time.Millisecond, EditInterval: 20 * time.Millisecond, Attempts: 20,
		ChannelInterval: 5 * time.Millisecond},
		slack.Deps{Router: a.Router(), Deduper: a.Deduper(), Cards: a.Store(), Log: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	srv := httptest.NewServer(ad.Handler())
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, ad.Close(ctx))
	})
	return &slackBundle{app: a, sim: sim, fake: fake, ad: ad, endpoint: srv.URL, signer: slackfake.Signer{Secret: skSigningSecret}}
}

// rawRequest is a signed delivery kept as bytes, so that it can be sent
// again exactly as Slack retries it.
type rawRequest struct {
	path        string
	contentType string
	body        []byte
	header      http.Header
}

func (b *slackBundle) signed(path, contentType string, body []byte) rawRequest {
	r := b.signer.Request(b.endpoint+path, contentType, body)
	return rawRequest{path: path, contentType: contentType, body: body, header: r.Header.Clone()}
}

// send delivers r, with extra headers, and returns the HTTP answer.
func (b *slackBundle) send(t *testing.T, r rawRequest, extra map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.endpoint+r.path, bytes.NewReader(r.body))
	require.NoError(t, err)
	req.Header = r.header.Clone()
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func (b *slackBundle) slashRequest(text, trigger string) rawRequest {
	form := url.Values{"team_id": {skTeam}, "channel_id": {skChannel}, "user_id": {olga.UserID}, "user_name": {olga.Name},
		"command": {"/lxc"}, "text": {text}, "trigger_id": {trigger}, "response_url": {b.fake.ResponseURL(trigger)}}
	return b.signed("/slack/commands", "application/x-www-form-urlencoded", []byte(form.Encode()))
}

func (b *slackBundle) interactionRequest(t *testing.T, payload any) rawRequest {
	t.Helper()
	raw, err := json.Marshal(payload)
	require.NoError(t, err)
	return b.signed("/slack/interactions", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(raw)}}.Encode()))
}

// press sends a button press on the message at msgTS and returns the id of
// its response_url.
func (b *slackBundle) press(t *testing.T, btn skButton, msgTS string, ephemeral bool) string {
	t.Helper()
	r, id := b.pressRequest(t, btn, msgTS, ephemeral)
	status, body := b.send(t, r, nil)
	require.Equal(t, http.StatusOK, status, body)
	return id
}

// pressRequest is a signed button press on the message at msgTS and the id
// of its response_url.
func (b *slackBundle) pressRequest(t *testing.T, btn skButton, msgTS string, ephemeral bool) (rawRequest, string) {
	t.Helper()
	actionTS := fmt.Sprintf("1700001000.%06d", b.seq.Add(1))
	payload := map[string]any{
		"type": "block_actions", "team": map[string]any{"id": skTeam},
		"user":    map[string]any{"id": olga.UserID, "name": olga.Name},
		"channel": map[string]any{"id": skChannel}, "trigger_id": "trig-" + actionTS,
		"response_url": b.fake.ResponseURL("act-" + actionTS),
		"container":    map[string]any{"type": "message", "message_ts": msgTS, "channel_id": skChannel, "is_ephemeral": ephemeral},
		"message":      map[string]any{"ts": msgTS},
		"actions": []map[string]any{{"action_id": btn.ActionID, "block_id": btn.BlockID, "type": "button",
			"value": btn.Value, "action_ts": actionTS}},
	}
	return b.interactionRequest(t, payload), "act-" + actionTS
}

// skButton is a button as the adapter rendered it.
type skButton struct {
	BlockID, ActionID, Value, Text string
}

// textObj is a text object, or (in a context block's elements) the text
// of one.
type textObj struct{ Text string }

func (o *textObj) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &o.Text)
	}
	var v struct {
		Text string `json:"text"`
	}
	err := json.Unmarshal(b, &v)
	o.Text = v.Text
	return err
}

// skBlock is the part of a Block Kit block the tests look at.
type skBlock struct {
	Type    string `json:"type"`
	BlockID string `json:"block_id"`
	Text    *struct {
		Text string `json:"text"`
	} `json:"text"`
	Fields []struct {
		Text string `json:"text"`
	} `json:"fields"`
	Elements  []skElement `json:"elements"`
	Accessory *skElement  `json:"accessory"`
}

type skElement struct {
	Type     string   `json:"type"`
	ActionID string   `json:"action_id"`
	Value    string   `json:"value"`
	Text     *textObj `json:"text"`
	Options  []struct {
		Text struct {
			Text string `json:"text"`
		} `json:"text"`
		Value string `json:"value"`
	} `json:"options"`
	Confirm *struct {
		Title, Text, Confirm, Deny struct {
			Text string `json:"text"`
		}
	} `json:"confirm"`
}

func parseBlocks(t *testing.T, raw string) []skBlock {
	t.Helper()
	var bs []skBlock
	require.NoError(t, json.Unmarshal([]byte(raw), &bs), raw)
	return bs
}

func buttons(bs []skBlock) []skButton {
	var out []skButton
	for _, b := range bs {
		els := b.Elements
		if b.Accessory != nil {
			els = append(els, *b.Accessory)
		}
		for _, e := range els {
			if e.Type == "button" && e.Text != nil {
				out = append(out, skButton{BlockID: b.BlockID, ActionID: e.ActionID, Value: e.Value, Text: e.Text.Text})
			}
		}
	}
	return out
}

func findSkButton(t *testing.T, bs []skBlock, actionID string) skButton {
	t.Helper()
	for _, btn := range buttons(bs) {
		if btn.ActionID == actionID {
			return btn
		}
	}
	require.FailNow(t, "no button "+actionID, "buttons: %+v", buttons(bs))
	return skButton{}
}

// requireSlackLimits checks one message's blocks against Block Kit's limits
// (PLATFORM-LIMITS.md): Slack refuses a message that breaks any of them.
func requireSlackLimits(t *testing.T, raw string) {
	t.Helper()
	n := utf8.RuneCountInString
	bs := parseBlocks(t, raw)
	require.LessOrEqual(t, len(bs), 50, "blocks in one message")
	ids := map[string]bool{}
	for _, b := range bs {
		if b.BlockID != "" {
			require.False(t, ids[b.BlockID], "block id %s used twice", b.BlockID)
			ids[b.BlockID] = true
		}
		if b.Text != nil {
			limit := 3000
			if b.Type == "header" {
				limit = 150
			}
			require.LessOrEqual(t, n(b.Text.Text), limit, "%s text", b.Type)
		}
		require.LessOrEqual(t, len(b.Fields), 10, "fields of a section")
		for _, f := range b.Fields {
			require.LessOrEqual(t, n(f.Text), 2000, "field text")
		}
		if b.Type == "actions" {
			require.LessOrEqual(t, len(b.Elements), 25, "elements of an actions block")
		}
		if b.Type == "context" {
			require.LessOrEqual(t, len(b.Elements), 10, "elements of a context block")
		}
		els := b.Elements
		if b.Accessory != nil {
			els = append(els, *b.Accessory)
		}
		actions := map[string]bool{}
		for _, e := range els {
			if e.ActionID != "" {
				require.LessOrEqual(t, len(e.ActionID), 255, "action_id")
				require.False(t, actions[e.ActionID], "action_id %s twice in block %s", e.ActionID, b.BlockID)
				actions[e.ActionID] = true
			}
			if e.Type == "button" {
				require.LessOrEqual(t, n(e.Text.Text), 75, "button text")
				require.LessOrEqual(t, n(e.Value), 2000, "button value")
			}
			if e.Confirm != nil {
				require.LessOrEqual(t, n(e.Confirm.Title.Text), 100)
				require.LessOrEqual(t, n(e.Confirm.Text.Text), 300)
				require.LessOrEqual(t, n(e.Confirm.Confirm.Text), 30)
				require.LessOrEqual(t, n(e.Confirm.Deny.Text), 30)
			}
			if strings.HasSuffix(e.Type, "_select") {
				require.NotEmpty(t, e.Options, "a select without options is refused")
				require.LessOrEqual(t, len(e.Options), 100, "options of a select")
				for _, o := range e.Options {
					require.LessOrEqual(t, n(o.Text.Text), 75, "option text")
					require.LessOrEqual(t, n(o.Value), 150, "option value")
					require.NotEmpty(t, o.Value)
				}
			}
		}
	}
}

// skView is a views.update call: the modal and which view it replaces.
type skView struct {
	ViewID string `json:"view_id"`
	View   struct {
		CallbackID      string            `json:"callback_id"`
		PrivateMetadata string            `json:"private_metadata"`
		Blocks          []json.RawMessage `json:"blocks"`
	} `json:"view"`
}

// inputBlockFor returns the block id of the input whose element has actionID.
func (v skView) inputBlockFor(t *testing.T, actionID string) string {
	t.Helper()
	for _, raw := range v.View.Blocks {
		var in struct {
			Type    string `json:"type"`
			BlockID string `json:"block_id"`
			Element struct {
				ActionID string `json:"action_id"`
			} `json:"element"`
		}
		require.NoError(t, json.Unmarshal(raw, &in))
		if in.Type == "input" && in.Element.ActionID == actionID {
			return in.BlockID
		}
	}
	require.FailNow(t, "no input "+actionID)
	return ""
}

// submission is the view_submission of the create form with values.
func (b *slackBundle) submission(t *testing.T, v skView, hash string, values map[string]string) map[string]any {
	t.Helper()
	state := map[string]any{}
	for name, val := range values {
		el := map[string]any{"type": "plain_text_input", "value": val}
		if name == "template" || name == "node" {
			el = map[string]any{"type": "static_select", "selected_option": map[string]any{"value": val}}
		}
		state[v.inputBlockFor(t, name)] = map[string]any{name: el}
	}
	return map[string]any{
		"type": "view_submission", "team": map[string]any{"id": skTeam},
		"user":       map[string]any{"id": olga.UserID, "name": olga.Name},
		"trigger_id": "trig-submit-" + hash,
		"view": map[string]any{"id": v.ViewID, "hash": hash, "type": "modal", "callback_id": v.View.CallbackID,
			"private_metadata": v.View.PrivateMetadata, "blocks": v.View.Blocks, "state": map[string]any{"values": state}},
	}
}

// card returns the channel's top-level message whose text contains s.
func (b *slackBundle) card(t *testing.T, s string) slackfake.Message {
	t.Helper()
	var card slackfake.Message
	waitFor(t, "a job card for "+s, func() bool {
		for _, m := range b.fake.Messages(skChannel) {
			if m.ThreadTS == "" && strings.Contains(m.Text, s) {
				card = m
				return true
			}
		}
		return false
	})
	return card
}

func (b *slackBundle) waitCard(t *testing.T, ts, want string) slackfake.Message {
	t.Helper()
	var m slackfake.Message
	waitFor(t, "the card to show "+want, func() bool {
		var ok bool
		m, ok = b.fake.Message(skChannel, ts)
		return ok && (strings.Contains(m.Text, want) || strings.Contains(m.Blocks, want))
	})
	return m
}

func (b *slackBundle) waitState(t *testing.T, hostname string, want provision.State) provision.Container {
	t.Helper()
	var ct provision.Container
	waitFor(t, hostname+" to be "+string(want), func() bool {
		cs, err := b.app.Store().ListContainers(context.Background(), store.ContainerFilter{IncludeDeleted: true})
		require.NoError(t, err)
		for _, c := range cs {
			if c.Hostname == hostname && c.State == want {
				ct = c
				return true
			}
		}
		return false
	})
	return ct
}

// responses returns the bodies posted to the response_url id.
func (b *slackBundle) responses(id string) []slackfake.Call {
	var out []slackfake.Call
	for _, c := range b.fake.Calls("response_url") {
		if c.Path == "/response/"+id {
			out = append(out, c)
		}
	}
	return out
}

// waitFor polls cond; the deadline only turns a hang into a failure.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// plan opens the create form from /lxc create, submits a bad hostname, then
// a good one (delivered twice), and returns the plan's Create button and
// the ts of the ephemeral plan.
func (b *slackBundle) plan(t *testing.T, host string) skButton {
	t.Helper()
	trigger := "trig-form-" + host
	status, body := b.send(t, b.slashRequest("create", trigger), nil)
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, body, "the modal is the answer")
	var v skView
	waitFor(t, "the create form", func() bool {
		for _, c := range b.fake.Calls("views.update") {
			if err := json.Unmarshal(c.JSON, &v); err == nil && strings.HasPrefix(v.View.CallbackID, "lxc:create:") {
				return true
			}
		}
		return false
	})
	var opened []string
	for _, c := range b.fake.Calls("views.open") {
		opened = append(opened, c.Param("trigger_id"))
	}
	require.Contains(t, opened, trigger, "the modal opens from the command's trigger")
	require.Equal(t, "lxc:create:"+skChannel+":", v.View.CallbackID)

	// A bad hostname: the modal stays open with the error on its field.
	hostBlock := v.inputBlockFor(t, "hostname")
	bad := b.submission(t, v, "h-bad", map[string]string{"template": "nginx-web", "hostname": "Bad_Host!", "node": "pve1"})
	status, body = b.send(t, b.interactionRequest(t, bad), nil)
	require.Equal(t, http.StatusOK, status)
	var verdict struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &verdict), body)
	var keys map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(body), &keys))
	require.Len(t, keys, 2, "only response_action and errors: %s", body)
	require.Equal(t, "errors", verdict.ResponseAction)
	require.Len(t, verdict.Errors, 1, "only the hostname is wrong: %s", body)
	require.NotEmpty(t, verdict.Errors[hostBlock], "the error names the hostname's block %s: %s", hostBlock, body)
	require.Empty(t, b.fake.Calls("chat.postEphemeral"), "nothing is posted for a refused form")

	// A good one, delivered twice with the same body and signature: one plan.
	good := b.interactionRequest(t, b.submission(t, v, "h-good", map[string]string{"template": "nginx-web", "hostname": host, "node": "pve1"}))
	status, body = b.send(t, good, nil)
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, body, "the modal closes")
	status, body = b.send(t, good, nil)
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, body)
	var plan slackfake.Call
	waitFor(t, "the plan", func() bool {
		for _, c := range b.fake.Calls("chat.postEphemeral") {
			if strings.Contains(c.Param("blocks"), "Create "+host+" from nginx-web?") {
				plan = c
				return true
			}
		}
		return false
	})
	require.Equal(t, skChannel, plan.Param("channel"))
	require.Equal(t, olga.UserID, plan.Param("user"))
	requireSlackLimits(t, plan.Param("blocks"))
	return findSkButton(t, parseBlocks(t, plan.Param("blocks")), "create.confirm")
}

// TestSlackCreateFormToReadyOnTheRealBackend drives /lxc create through the
// form to a ready container: the modal from the trigger, field errors in
// the submission's answer, a submission delivered twice making one plan and
// one container, and the job card with its thread edited to ready.
func TestSlackCreateFormToReadyOnTheRealBackend(t *testing.T) {
	b := setupSlack(t)
	runWorker(t, b.app)
	ctx := context.Background()

	create := b.plan(t, "web1")
	plans := 0
	for _, c := range b.fake.Calls("chat.postEphemeral") {
		if strings.Contains(c.Param("blocks"), "Create web1 from") {
			plans++
		}
	}
	// The press delivered twice (Slack retrying it): one container, one card.
	press, _ := b.pressRequest(t, create, "1700000999.000001", true)
	for range 2 {
		status, body := b.send(t, press, nil)
		require.Equal(t, http.StatusOK, status, body)
	}
	ct := b.waitState(t, "web1", provision.StateReady)
	card := b.card(t, "web1")
	card = b.waitCard(t, card.TS, "web1 is ready")
	b.ad.Close(ctx) //nolint:errcheck // drains the card's follower; Cleanup checks the error
	card, _ = b.fake.Message(skChannel, card.TS)
	require.Equal(t, 1, plans, "a submission delivered twice makes one plan")

	all, err := b.app.Store().ListContainers(ctx, store.ContainerFilter{IncludeDeleted: true})
	require.NoError(t, err)
	require.Len(t, all, 1, "one container")
	require.Equal(t, olga.UserID, all[0].Owner.UserID)
	require.Equal(t, "pve1", ct.NodeName)
	k := b.sim.Cluster.Counters()
	require.Equal(t, 1, k.Created["pve1"], "created once on Proxmox")

	// The card is the one parent message, edited in place to ready; every
	// other message about the job is a reply in its thread.
	require.Positive(t, card.Edits, "the card is edited in place")
	requireSlackLimits(t, card.Blocks)
	require.NotContains(t, card.Blocks, `"job.cancel"`, "a ready card offers no Cancel")
	var parents, replies []slackfake.Message
	for _, m := range b.fake.Messages(skChannel) {
		if m.ThreadTS == "" {
			parents = append(parents, m)
		} else {
			require.Equal(t, card.TS, m.ThreadTS, "a reply outside the card's thread: %q", m.Text)
			replies = append(replies, m)
		}
	}
	require.Len(t, parents, 1, "one parent message")
	require.NotEmpty(t, replies, "the job reports in the card's thread")
	var thread []string
	for _, r := range replies {
		thread = append(thread, r.Text+" "+r.Blocks)
	}
	require.Contains(t, strings.Join(thread, "\n"), "ready at "+ct.IP)
	for _, c := range b.fake.Calls("chat.postMessage", "chat.update") {
		require.Less(t, c.Status, 300, "%s answered %d", c.Method, c.Status)
		requireSlackLimits(t, c.Param("blocks"))
	}
}

// TestSlackCancelFromTheJobCard cancels a creation whose script waits
// forever with the card's Cancel button.
func TestSlackCancelFromTheJobCard(t *testing.T) {
	b := setupSlack(t)
	ctx := context.Background()
	require.NoError(t, b.app.Store().CreateTemplate(ctx, &provision.Template{
		Name: "forever", Description: "waits for ever", OSTemplate: "debian-12-standard", Cores: 1, MemoryMiB: 512, DiskGiB: 8,
		Unprivileged: true, Scripts: []provision.TemplateScript{{Order: 10, Name: "10-wait.sh", Enabled: true,
			Body: "echo waiting\nwhile [ ! -f /tmp/never ]; do sleep 0.05; done\n"}},
	}))
	runWorker(t, b.app)

	status, ack := b.send(t, b.slashRequest("create forever slow1 --node pve1", "trig-slow1"), nil)
	require.Equal(t, http.StatusOK, status)
	var planBlocks string
	if strings.Contains(ack, "create.confirm") {
		var m struct {
			Blocks json.RawMessage `json:"blocks"`
		}
		require.NoError(t, json.Unmarshal([]byte(ack), &m))
		planBlocks = string(m.Blocks)
	} else {
		waitFor(t, "the plan", func() bool {
			for _, c := range b.responses("trig-slow1") {
				if strings.Contains(string(c.Body), "create.confirm") {
					planBlocks = c.Param("blocks")
					return true
				}
			}
			return false
		})
	}
	b.press(t, findSkButton(t, parseBlocks(t, planBlocks), "create.confirm"), "", true)

	card := b.card(t, "slow1")
	// The script runs (and waits): the card says so.
	card = b.waitCard(t, card.TS, "script 1/1")
	running := b.waitState(t, "slow1", provision.StateCreating)
	require.NotZero(t, running.VMID)
	_, onSim := b.sim.Cluster.FindContainer(running.VMID)
	require.True(t, onSim, "the container exists while its script runs")

	cancel := findSkButton(t, parseBlocks(t, card.Blocks), "job.cancel")
	require.Equal(t, running.ID, cancel.Value)
	b.press(t, cancel, card.TS, false)

	got := b.waitState(t, "slow1", provision.StateCancelled)
	card = b.waitCard(t, card.TS, "slow1 cancelled")
	require.NotContains(t, card.Blocks, `"job.cancel"`, "a cancelled card offers no Cancel")
	_, onSim = b.sim.Cluster.FindContainer(got.VMID)
	require.False(t, onSim, "nothing is left on the simulator")
	for _, n := range []string{"pve1", "pve2"} {
		_, ok := b.sim.Cluster.Container(n, got.VMID)
		require.False(t, ok)
	}
	reserved, err := b.app.Store().ReservedVMIDs(ctx)
	require.NoError(t, err)
	require.NotContains(t, reserved, got.VMID, "the VMID is released")
	for _, m := range b.fake.Messages(skChannel) {
		if m.TS != card.TS {
			require.Equal(t, card.TS, m.ThreadTS, "a message outside the card's thread: %q", m.Text)
		}
	}
}

// TestSlackRetriedSlashCommandActsOnce sends a slash command and Slack's
// retry of it (same trigger, X-Slack-Retry-Num: 1): it is answered once.
func TestSlackRetriedSlashCommandActsOnce(t *testing.T) {
	b := setupSlack(t)
	ctx := context.Background()
	req := b.slashRequest("create nginx-web web9 --node pve1", "trig-retried")
	status, first := b.send(t, req, nil)
	require.Equal(t, http.StatusOK, status)
	retry := b.slashRequest("create nginx-web web9 --node pve1", "trig-retried")
	status, second := b.send(t, retry, map[string]string{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, second, "the retry is not answered again")
	answered := func() int {
		n := len(b.responses("trig-retried"))
		if strings.Contains(first, "create.confirm") {
			n++
		}
		return n
	}
	waitFor(t, "the plan", func() bool { return answered() > 0 })
	require.NoError(t, b.ad.Close(ctx))
	n := 0
	for _, c := range b.responses("trig-retried") {
		if strings.Contains(string(c.Body), "create.confirm") {
			n++
		}
	}
	if strings.Contains(first, "create.confirm") {
		n++
	}
	require.Equal(t, 1, n, "one plan for a retried command (ack %q)", first)
}

// TestSlackListOf500StaysWithinBlockKitLimits lists 500 containers, most of
// them ready with no live state on the cluster, and pages through them all
// with Next ▶: every payload the adapter sends is one Slack accepts, and
// every container shows up exactly once.
func TestSlackListOf500StaysWithinBlockKitLimits(t *testing.T) {
	b := setupSlack(t)
	ctx := context.Background()
	const total = 500
	long := strings.Repeat("x", 50)
	for i := range total {
		c := &provision.Container{Hostname: fmt.Sprintf("h%04d-%s", i, long), TemplateName: "nginx-web", NodeName: "pve1",
			Owner:  provision.Principal{Platform: provision.PlatformSlack, UserID: "U" + fmt.Sprint(i), Name: strings.Repeat("owner", 16)},
			Origin: provision.Origin{Platform: provision.PlatformSlack, WorkspaceID: skTeam, ChannelID: skChannel}}
		require.NoError(t, b.app.Store().CreateContainer(ctx, c))
		if i%5 != 0 {
			require.NoError(t, b.app.Store().SetContainerPlacement(ctx, c.ID, "pve1", 10000+i))
			require.NoError(t, b.app.Store().TransitionContainer(ctx, c.ID, []provision.State{provision.StatePending}, provision.StateCreating))
			require.NoError(t, b.app.Store().TransitionContainer(ctx, c.ID, []provision.State{provision.StateCreating}, provision.StateReady))
		}
	}

	// answer returns the blocks of the answer to a command (in its ack or
	// through response_url) or a press (through response_url).
	answer := func(ack, responseID string) string {
		if strings.Contains(ack, `"blocks"`) {
			var m struct {
				Blocks json.RawMessage `json:"blocks"`
			}
			require.NoError(t, json.Unmarshal([]byte(ack), &m))
			return string(m.Blocks)
		}
		var blocks string
		waitFor(t, "the list page", func() bool {
			for _, c := range b.responses(responseID) {
				if bl := c.Param("blocks"); strings.Contains(bl, "Containers (") {
					blocks = bl
					return true
				}
			}
			return false
		})
		return blocks
	}
	status, ack := b.send(t, b.slashRequest("list", "trig-list"), nil)
	require.Equal(t, http.StatusOK, status)
	page := answer(ack, "trig-list")

	seen := map[string]int{}
	pages := 0
	for {
		pages++
		requireSlackLimits(t, page)
		require.Contains(t, page, fmt.Sprintf("Containers (%d)", total))
		for i := range total {
			if strings.Contains(page, fmt.Sprintf("h%04d-", i)) {
				seen[fmt.Sprintf("h%04d", i)]++
			}
		}
		bs := parseBlocks(t, page)
		var next *skButton
		for _, btn := range buttons(bs) {
			if btn.Text == "Next ▶" {
				next = &btn
			}
		}
		if next == nil {
			break
		}
		require.Less(t, pages, total, "pagination does not end")
		id := b.press(t, *next, "1700000500.000001", true)
		page = answer("", id)
		msgs := b.responses(id)
		require.Len(t, msgs, 1, "one message per page")
		require.Equal(t, "true", msgs[0].Param("replace_original"), "a page replaces the one before")
	}
	require.Len(t, seen, total, "every container is on some page")
	for h, n := range seen {
		require.Equal(t, 1, n, "%s is on %d pages", h, n)
	}
	require.Greater(t, pages, 1)
	for _, c := range b.fake.Calls() {
		require.Less(t, c.Status, 300, "%s answered %d", c.Method, c.Status)
	}
}
