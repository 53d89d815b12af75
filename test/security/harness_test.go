package security_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver, to read every stored row back
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/adapters/discord/discordfake"
	"github.com/lxcbot/lxcbot/internal/adapters/slack/slackfake"
	"github.com/lxcbot/lxcbot/internal/app"
	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/pvesim/simenv"
	"github.com/lxcbot/lxcbot/internal/secret"
	"github.com/lxcbot/lxcbot/internal/store"
	"github.com/lxcbot/lxcbot/internal/testenv"
	"github.com/lxcbot/lxcbot/internal/testkit/chattest"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// Distinctive secrets, so that a scan for them is exact: none of them can
// appear by accident in an id, a hash or a timestamp.
const (
	slackBotToken      = "xoxb-SECURITY-bot-token-q7W3e9R1"
	slackSigningSecret = "SECURITY-signing-secret-Lm4Np8Qr"
	discordBotToken    = "SECURITY-discord-bot-token-Zk2Xv6Bn"
	sshPassword        = "SECURITY-ssh-password-Hy5Tg3Fd"
	discordAppID       = "900000000000000777"
	team               = "T0SEC"
	channel            = "C0SEC"
	guild              = "700000000000000777"
	dchannel           = "500000000000000777"
)

// The people of the suite, on both platforms.
var (
	slackAdmin    = provision.Principal{Platform: provision.PlatformSlack, UserID: "UADMIN", Name: "ada"}
	slackOperator = provision.Principal{Platform: provision.PlatformSlack, UserID: "UOPER", Name: "olga"}
	slackOther    = provision.Principal{Platform: provision.PlatformSlack, UserID: "UOTHER", Name: "otto"}
	slackViewer   = provision.Principal{Platform: provision.PlatformSlack, UserID: "UVIEW", Name: "vera"}

	discordOperator = discordfake.User{ID: "100000000000000701", Name: "dora"}
	discordOther    = discordfake.User{ID: "100000000000000702", Name: "dirk"}
	discordViewer   = discordfake.User{ID: "100000000000000703", Name: "dana"}
)

func discordPrincipal(u discordfake.User) provision.Principal {
	return provision.Principal{Platform: provision.PlatformDiscord, UserID: u.ID, Name: u.Name}
}

// syncBuffer collects log lines from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// bundle is the whole bot as `lxcbot serve` assembles it — app.New, the
// HTTP routes and app.MountChat with Slack and Discord over HTTP — with a
// worker, Postgres, Redis and the simulated cluster, every log line kept.
type bundle struct {
	sim     *simenv.Env
	app     *app.App
	cfg     *config.Config
	chat    *app.Chat
	srv     *httptest.Server
	slack   *slackfake.Server
	signer  slackfake.Signer
	discord *discordfake.Server
	logs    *syncBuffer
	keyHex  string
	dsn     string
	rdb     *redis.Client
	n       atomic.Int64 // trigger ids and action timestamps
	drained bool
}

type options struct {
	templates fs.FS
	// nodes edits the configured nodes (wrong pins, for instance).
	nodes func([]config.Node) []config.Node
}

func setup(t *testing.T, o options) *bundle {
	t.Helper()
	ctx := context.Background()
	sim, err := simenv.Start(ctx, simenv.Options{Nodes: 2, SSHPassword: sshPassword})
	require.NoError(t, err)
	t.Cleanup(sim.Close)

	sf := slackfake.New(t)
	df := discordfake.New(discordAppID, discordBotToken)
	t.Cleanup(df.Close)
	key, err := secret.GenerateKey()
	require.NoError(t, err)
	b := &bundle{sim: sim, slack: sf, discord: df, logs: &syncBuffer{}, keyHex: key.Hex().Reveal(),
		dsn: testenv.PostgresDSN(t), signer: slackfake.Signer{Secret: slackSigningSecret}}
	redisAddr := testenv.RedisAddr(t)
	env := map[string]string{
		config.EnvDatabaseURL:        b.dsn,
		config.EnvRedisURL:           "redis://" + redisAddr,
		config.EnvEncryptionKey:      b.keyHex,
		config.EnvSlackBotToken:      slackBotToken,
		config.EnvSlackSigningSecret: slackSigningSecret,
		config.EnvSlackAPIURL:        sf.APIURL(),
		config.EnvDiscordBotToken:    discordBotToken,
		config.EnvDiscordAppID:       discordAppID,
		config.EnvDiscordPublicKey:   df.Signer.PublicKeyHex(),
		config.EnvDiscordAPIURL:      df.APIURL(),
	}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)
	// pve1 comes from the configuration; pve2 is added by an admin in chat
	// (so its token secret and SSH password travel through a command).
	for _, n := range sim.Nodes()[:1] {
		cfg.Nodes = append(cfg.Nodes, config.Node{Name: n.Name, APIURL: n.APIURL, TokenID: n.TokenID, TokenSecret: n.TokenSecret,
			TLSFingerprint: n.TLSFingerprint, Default: true,
			SSH: config.SSH{Addr: n.SSHAddr, User: n.SSHUser, Password: n.SSHPassword, HostKey: n.SSHHostKey}})
	}
	if o.nodes != nil {
		cfg.Nodes = o.nodes(cfg.Nodes)
	}
	cfg.Admins = []provision.Principal{slackAdmin}
	cfg.Roles = config.Roles{
		Operators: []provision.Principal{slackOperator, slackOther, discordPrincipal(discordOperator), discordPrincipal(discordOther)},
		Viewers:   []provision.Principal{slackViewer, discordPrincipal(discordViewer)},
	}
	b.cfg = cfg

	log := slog.New(slog.NewJSONHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.New(ctx, app.Options{Config: cfg, TemplatesFS: o.templates, Fast: true, Logger: log})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	b.app = a
	routes := app.NewRoutes(a.ReadinessChecks(), a.Metrics().Handler())
	b.chat, err = app.MountChat(ctx, a, routes, cfg, log)
	require.NoError(t, err)
	b.srv = httptest.NewServer(routes)
	t.Cleanup(b.srv.Close)
	t.Cleanup(func() { b.drain(t) })

	wctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.RunWorker(wctx, 2) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})

	b.rdb = redis.NewClient(&redis.Options{Addr: redisAddr})
	t.Cleanup(func() { _ = b.rdb.Close() })
	return b
}

// drain lets the chat adapters finish what they acknowledged.
func (b *bundle) drain(t *testing.T) {
	t.Helper()
	if b.drained {
		return
	}
	b.drained = true
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b.chat.Drain(ctx)
}

func (b *bundle) next() int64 { return b.n.Add(1) }

// do sends r and returns the status and body.
func do(t *testing.T, r *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// slashRequest builds a signed /lxc slash command.
func (b *bundle) slashRequest(user provision.Principal, text string) *http.Request {
	trig := fmt.Sprintf("trig-%d", b.next())
	form := url.Values{
		"team_id": {team}, "channel_id": {channel}, "user_id": {user.UserID}, "user_name": {user.Name},
		"command": {"/lxc"}, "text": {text}, "trigger_id": {trig}, "response_url": {b.slack.ResponseURL(trig)},
	}
	return b.signer.SlashCommand(b.srv.URL+"/slack/commands", form)
}

// slash sends a signed slash command and returns the acknowledgement.
func (b *bundle) slash(t *testing.T, user provision.Principal, text string) string {
	t.Helper()
	status, ack := do(t, b.slashRequest(user, text))
	require.Equal(t, http.StatusOK, status, ack)
	return ack
}

// pressRequest builds a signed block action, as Slack sends it when user
// presses a button whose action id and value are given — which a
// hostile client can set to anything.
func (b *bundle) pressRequest(user provision.Principal, actionID, value string) *http.Request {
	n := b.next()
	payload := map[string]any{
		"type":         "block_actions",
		"team":         map[string]any{"id": team},
		"user":         map[string]any{"id": user.UserID, "name": user.Name},
		"channel":      map[string]any{"id": channel},
		"trigger_id":   fmt.Sprintf("trig-act-%d", n),
		"response_url": b.slack.ResponseURL(fmt.Sprintf("act-%d", n)),
		"container":    map[string]any{"type": "message", "message_ts": "1700000000.000001", "channel_id": channel, "is_ephemeral": true},
		"message":      map[string]any{"ts": "1700000000.000001"},
		"actions": []map[string]any{{"action_id": actionID, "block_id": "b1", "type": "button", "value": value,
			"action_ts": fmt.Sprintf("1700000100.%06d", n)}},
	}
	return b.signer.Interaction(b.srv.URL+"/slack/interactions", payload)
}

// submitRequest builds a signed view_submission of a bot modal: formID
// and where it was opened in the callback id, state in private_metadata.
func (b *bundle) submitRequest(user provision.Principal, formID, state string, values map[string]string) *http.Request {
	n := b.next()
	vals := map[string]any{}
	for k, v := range values {
		vals["f:"+k] = map[string]any{k: map[string]any{"type": "plain_text_input", "value": v}}
	}
	payload := map[string]any{
		"type":       "view_submission",
		"team":       map[string]any{"id": team},
		"user":       map[string]any{"id": user.UserID, "name": user.Name},
		"trigger_id": fmt.Sprintf("trig-view-%d", n),
		"view": map[string]any{
			"id": fmt.Sprintf("V%d", n), "hash": fmt.Sprintf("h%d", n), "type": "modal",
			"callback_id":      "lxc:" + formID + ":" + channel + ":",
			"private_metadata": state,
			"state":            map[string]any{"values": vals},
		},
	}
	return b.signer.Interaction(b.srv.URL+"/slack/interactions", payload)
}

// slackReplies is everything the bot told Slack users for requests after
// mark (acks are returned by the calls themselves): response_url posts,
// ephemeral and channel messages.
func (b *bundle) slackCallsSince(mark int) []slackfake.Call {
	calls := b.slack.Calls()
	if mark > len(calls) {
		return nil
	}
	return calls[mark:]
}

// waitFor polls cond until it holds; it fails after a generous deadline (a
// hang, not a slow run).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// audit returns the audit entries about target.
func (b *bundle) audit(t *testing.T, target string) []provision.AuditEntry {
	t.Helper()
	entries, err := b.app.Backend().AuditLog(context.Background(), commands.AuditQuery{Target: target, Limit: 500})
	require.NoError(t, err)
	return entries
}

// container returns the record of the container with hostname host.
func (b *bundle) container(t *testing.T, host string) provision.Container {
	t.Helper()
	all, err := b.app.Store().ListContainers(context.Background(), store.ContainerFilter{IncludeDeleted: true})
	require.NoError(t, err)
	for _, c := range all {
		if c.Hostname == host {
			return c
		}
	}
	t.Fatalf("no container %s", host)
	return provision.Container{}
}

// status is the simulator's view of a container: running, stopped or gone.
func (b *bundle) status(t *testing.T, host string) string {
	t.Helper()
	ct := b.container(t, host)
	if _, ok := b.sim.Guest(ct.VMID); !ok {
		return "gone"
	}
	st, err := b.app.Backend().Status(context.Background(), ct.ID)
	require.NoError(t, err)
	return st.Status
}

// createReady creates host from tpl on node for who through the command
// core (the chat flows are covered elsewhere) and waits until it is ready.
func (b *bundle) createReady(t *testing.T, who provision.Principal, tpl, host, node string) provision.Container {
	t.Helper()
	return b.createAs(t, who, tpl, host, node, provision.StateReady)
}

// createAs creates host and waits for the creation to settle in state want.
func (b *bundle) createAs(t *testing.T, who provision.Principal, tpl, host, node string, want provision.State) provision.Container {
	t.Helper()
	ctx := context.Background()
	req := func(kind commands.RequestKind) commands.Request {
		return commands.Request{Principal: who, Platform: who.Platform, Workspace: team, Channel: channel, Kind: kind,
			DeliveryID: fmt.Sprintf("core-%d", b.next()), ReceivedAt: time.Now()}
	}
	rq := req(commands.KindCommand)
	rq.Text = fmt.Sprintf("create %s %s --node %s", tpl, host, node)
	plan := b.app.Router().Handle(ctx, rq)
	require.Equal(t, commands.OutcomeOK, plan.Outcome, "%+v", plan)
	btn := chattest.Button(t, plan, commands.ActCreateConfirm)
	rq = req(commands.KindAction)
	rq.Action = commands.ActionPayload{ID: btn.ActionID, Value: btn.Value}
	resp := b.app.Router().Handle(ctx, rq)
	require.Equal(t, commands.OutcomeOK, resp.Outcome, "%+v", resp)
	require.NotNil(t, resp.Watch)
	b.waitState(t, resp.Watch.ContainerID, want)
	return b.container(t, host)
}

// waitState waits for a container to reach a final state and requires it
// to be want.
func (b *bundle) waitState(t *testing.T, id string, want provision.State) {
	t.Helper()
	var last provision.State
	waitFor(t, fmt.Sprintf("container %s to settle", id), func() bool {
		c, err := b.app.Store().GetContainer(context.Background(), id)
		require.NoError(t, err)
		last = c.State
		switch c.State {
		case provision.StateReady, provision.StateFailed, provision.StateCancelled, provision.StateDeleted:
			return true
		}
		return false
	})
	require.Equal(t, want, last, "container %s", id)
}

// jsonValues walks decoded JSON and calls fn for every object.
func jsonObjects(v any, fn func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		fn(x)
		for _, e := range x {
			jsonObjects(e, fn)
		}
	case []any:
		for _, e := range x {
			jsonObjects(e, fn)
		}
	}
}

// slackButtonValue finds the value of the first button whose action id
// starts with actionID in a Slack JSON body (an ack or a posted message).
func slackButtonValue(body string, actionID string) (string, bool) {
	var v any
	if json.Unmarshal([]byte(body), &v) != nil {
		return "", false
	}
	var out string
	found := false
	jsonObjects(v, func(m map[string]any) {
		id, _ := m["action_id"].(string)
		if !found && id != "" && (id == actionID || strings.HasPrefix(id, actionID+"#")) {
			out, _ = m["value"].(string)
			found = true
		}
	})
	return out, found
}

// sqlDB opens the bot's database for reading rows back.
func (b *bundle) sqlDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", b.dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}
