package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/adapters/slack/slackfake"
	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/commands/commandstest"
	"github.com/lxcbot/lxcbot/internal/metrics"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/secret"
)

const (
	testBotToken      = "xoxb-test-bot-token-9f8e7d"
	testSigningSecret = "signing-secret-5a4b3c"
	testAppToken      = "xapp-test-app-token-1a2b3c"
	testCredential    = "s3cret-pa55" // the fixture's ADMIN_PASSWORD of web1
	team              = "T1"
	channel           = "C1"
)

// Slack users of the tests and their roles in the in-memory backend.
var (
	slackAdmin    = provision.Principal{Platform: provision.PlatformSlack, UserID: "UADA", Name: "ada"}
	slackOperator = provision.Principal{Platform: provision.PlatformSlack, UserID: "UALICE", Name: "alice"}
	slackNobody   = provision.Principal{Platform: provision.PlatformSlack, UserID: "USAM", Name: "sam"}
)

// safeBuffer collects log output from many goroutines.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testBundle struct {
	fake    *slackfake.Server
	backend commands.Backend
	mem     *commandstest.Mem
	router  *commands.Router
	adapter *Adapter
	srv     *httptest.Server
	signer  slackfake.Signer
	logs    *safeBuffer
	cards   *memCards
}

type setupOpts struct {
	cfg     func(*Config)
	backend func(*commandstest.Mem) commands.Backend
	deduper Deduper
	metrics *metrics.Metrics
}

// memCards records where job cards live.
type memCards struct {
	mu sync.Mutex
	m  map[string]provision.Origin
}

func (c *memCards) SetContainerMessage(_ context.Context, id string, o provision.Origin) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[id] = o
	return nil
}

func (c *memCards) get(id string) (provision.Origin, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.m[id]
	return o, ok
}

// setupBench is setup for benchmarks.
func setupBench(b *testing.B) *testBundle { return setup(b) }

func setup(t testing.TB, opts ...func(*setupOpts)) *testBundle {
	t.Helper()
	so := &setupOpts{}
	for _, o := range opts {
		o(so)
	}
	mem := commandstest.NewMem()
	mem.SetRole(slackAdmin, provision.RoleAdmin)
	mem.SetRole(slackOperator, provision.RoleOperator)
	var backend commands.Backend = mem
	if so.backend != nil {
		backend = so.backend(mem)
	}
	router := commands.New(commands.Deps{Backend: backend, Clock: commandstest.FixedClock{T: commandstest.Epoch}, NewRef: func() string { return "ref0001" }, PageSize: 2})
	fake := slackfake.New(t)
	logs := &safeBuffer{}
	cfg := Config{
		BotToken: secret.String(testBotToken), SigningSecret: secret.String(testSigningSecret), AppToken: secret.String(testAppToken),
		APIURL: fake.APIURL(), RetryBase: 20 * time.Millisecond, EditInterval: 50 * time.Millisecond, Attempts: 20,
		ChannelInterval: 5 * time.Millisecond,
		SocketLiveness:  2 * time.Second,
	}
	if so.cfg != nil {
		so.cfg(&cfg)
	}
	cards := &memCards{m: map[string]provision.Origin{}}
	a, err := New(cfg, Deps{Router: router, Deduper: so.deduper, Cards: cards, Metrics: so.metrics, Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	require.NoError(t, err)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, a.Close(ctx))
		// Secrets never reach the logs, whatever the test did.
		for _, s := range []string{testBotToken, testSigningSecret, testAppToken, testCredential} {
			require.NotContains(t, logs.String(), s)
		}
	})
	return &testBundle{fake: fake, backend: backend, mem: mem, router: router, adapter: a, srv: srv,
		signer: slackfake.Signer{Secret: testSigningSecret}, logs: logs, cards: cards}
}

func (b *testBundle) do(t *testing.T, r *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	require.NoError(t, err)
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp, buf.String()
}

// slash sends a signed /lxc command.
func (b *testBundle) slash(t *testing.T, user provision.Principal, text, trigger string) (*http.Response, string) {
	t.Helper()
	form := url.Values{
		"team_id": {team}, "channel_id": {channel}, "user_id": {user.UserID}, "user_name": {user.Name},
		"command": {"/lxc"}, "text": {text}, "trigger_id": {trigger}, "response_url": {b.fake.ResponseURL(trigger)},
	}
	return b.do(t, b.signer.SlashCommand(b.srv.URL+"/slack/commands", form))
}

// press sends a signed block action for a button on a message.
func (b *testBundle) press(t *testing.T, user provision.Principal, actionID, value, msgTS string, ephemeral bool, actionTS string) (*http.Response, string) {
	t.Helper()
	payload := map[string]any{
		"type":         "block_actions",
		"team":         map[string]any{"id": team},
		"user":         map[string]any{"id": user.UserID, "name": user.Name},
		"channel":      map[string]any{"id": channel},
		"trigger_id":   "trig-" + actionTS,
		"response_url": b.fake.ResponseURL("act-" + actionTS),
		"container":    map[string]any{"type": "message", "message_ts": msgTS, "channel_id": channel, "is_ephemeral": ephemeral},
		"message":      map[string]any{"ts": msgTS},
		"actions":      []map[string]any{{"action_id": actionID, "block_id": "b3", "type": "button", "value": value, "action_ts": actionTS}},
	}
	return b.do(t, b.signer.Interaction(b.srv.URL+"/slack/interactions", payload))
}

// waitFor polls cond until it holds; it fails the test after a generous
// deadline (a hang, not a slow run).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// drain waits for the adapter's work in flight to finish.
func (b *testBundle) drain(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	require.NoError(t, b.adapter.Close(ctx))
}

// webhookBodies returns the decoded response_url posts.
func webhookBodies(t *testing.T, calls []slackfake.Call) []slack.WebhookMessage {
	t.Helper()
	var out []slack.WebhookMessage
	for _, c := range calls {
		var m slack.WebhookMessage
		require.NoError(t, json.Unmarshal(c.Body, &m))
		out = append(out, m)
	}
	return out
}

func blocksText(t *testing.T, blocks any) string {
	t.Helper()
	raw, err := json.Marshal(blocks)
	require.NoError(t, err)
	return string(raw)
}
