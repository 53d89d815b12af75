package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/adapters/slack/slackfake"
	"github.com/lxcbot/lxcbot/internal/pvesim"
	"github.com/lxcbot/lxcbot/internal/pvesim/simenv"
	"github.com/lxcbot/lxcbot/internal/secret"
	"github.com/lxcbot/lxcbot/internal/testenv"
)

const (
	botToken      = "xoxb-e2e-bot-token-4d2c9a"
	signingSecret = "e2e-signing-secret-8b1f"
	team          = "T1"
	channel       = "C1"
	adminID       = "UADA"
	adminName     = "ada"
)

// patience bounds every wait: long enough that only a hang trips it.
const patience = 90 * time.Second

// stack is what the bot processes of one test share: a database, a
// redis-server, a simulated cluster and a fake Slack.
type stack struct {
	dsn    string
	redis  *testenv.Redis
	sim    *simenv.Env
	slack  *slackfake.Server
	signer slackfake.Signer
	env    []string
}

func newStack(t *testing.T, simOpts simenv.Options) *stack {
	t.Helper()
	s := &stack{dsn: testenv.PostgresDSN(t), redis: testenv.StartRedis(t), slack: slackfake.New(t),
		signer: slackfake.Signer{Secret: signingSecret}}
	sim, err := simenv.Start(context.Background(), simOpts)
	require.NoError(t, err)
	t.Cleanup(sim.Close)
	s.sim = sim

	var cfg bytes.Buffer
	require.NoError(t, pvesim.WriteNodesConfig(&cfg, sim.NodeConfigs()))
	fmt.Fprintf(&cfg, "roles:\n  admins: [\"slack:%s\"]\n", adminID)
	cfgFile := filepath.Join(t.TempDir(), "lxcbot.yaml")
	require.NoError(t, os.WriteFile(cfgFile, cfg.Bytes(), 0o600))

	key, err := secret.GenerateKey()
	require.NoError(t, err)
	s.env = []string{
		"PATH=" + os.Getenv("PATH"),
		"DATABASE_URL=" + s.dsn,
		"REDIS_URL=redis://" + s.redis.Addr,
		"LXCBOT_ENCRYPTION_KEY=" + key.Hex().Reveal(),
		"LXCBOT_CONFIG=" + cfgFile,
		"LXCBOT_TEMPLATES_DIR=" + filepath.Join(repoRoot, "examples", "templates"),
		"SLACK_BOT_TOKEN=" + botToken,
		"SLACK_SIGNING_SECRET=" + signingSecret,
		"SLACK_API_URL=" + s.slack.APIURL(),
	}
	return s
}

// bot is one running lxcbot process.
type bot struct {
	name string
	cmd  *exec.Cmd
	URL  string // http://host:port of serve

	mu     sync.Mutex
	lines  []string
	exited chan struct{}
}

// start runs `lxcbot args...` and waits until it says it is up: "serving"
// for serve, "worker started" for worker.
func (s *stack) start(t *testing.T, name string, args ...string) *bot {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(lxcbotBin, args...)
	addr := net.JoinHostPort("127.0.0.1", fmt.Sprint(port))
	cmd.Env = append(append([]string(nil), s.env...), "LXCBOT_HTTP_ADDR="+addr)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StderrPipe()
	require.NoError(t, err)
	cmd.Stdout = cmd.Stderr
	b := &bot{name: name, cmd: cmd, URL: "http://" + addr, exited: make(chan struct{})}
	// Pdeathsig fires when the OS thread that started the child ends, not
	// the test binary: start it from a goroutine that keeps its thread
	// locked and waits there for the child's whole life.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := cmd.Start(); err != nil {
			started <- err
			close(b.exited)
			return
		}
		started <- nil
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			b.mu.Lock()
			b.lines = append(b.lines, sc.Text())
			b.mu.Unlock()
		}
		_ = cmd.Wait()
		close(b.exited)
	}()
	require.NoError(t, <-started)
	t.Cleanup(func() {
		b.stop(t)
		if t.Failed() {
			t.Logf("--- logs of %s (exit %d) ---\n%s", b.name, b.cmd.ProcessState.ExitCode(), strings.Join(b.logLines(), "\n"))
		}
	})
	up := "worker started"
	if len(args) > 0 && args[0] == "serve" {
		up = "serving"
	}
	b.waitLog(t, up, func(l logLine) bool { return l.Msg == up })
	return b
}

// stop sends SIGTERM and waits for the exit, killing after the patience.
func (b *bot) stop(t *testing.T) {
	select {
	case <-b.exited:
		return
	default:
	}
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(patience):
		t.Errorf("%s did not stop after SIGTERM; killing it", b.name)
		_ = b.cmd.Process.Kill()
		<-b.exited
	}
}

// waitExit waits for the process to end and returns its exit status.
func (b *bot) waitExit(t *testing.T) int {
	t.Helper()
	select {
	case <-b.exited:
		return b.cmd.ProcessState.ExitCode()
	case <-time.After(patience):
		t.Fatalf("%s did not exit", b.name)
		return -1
	}
}

func (b *bot) pid() int { return b.cmd.Process.Pid }

func (b *bot) logLines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.lines...)
}

// logLine is one JSON log record; Attrs holds all of it.
type logLine struct {
	Level string
	Msg   string
	Attrs map[string]any
}

func (b *bot) logs() []logLine {
	var out []logLine
	for _, raw := range b.logLines() {
		var m map[string]any
		if json.Unmarshal([]byte(raw), &m) != nil {
			out = append(out, logLine{Msg: raw})
			continue
		}
		l := logLine{Attrs: m}
		l.Level, _ = m["level"].(string)
		l.Msg, _ = m["msg"].(string)
		out = append(out, l)
	}
	return out
}

func (b *bot) hasLog(match func(logLine) bool) bool {
	for _, l := range b.logs() {
		if match(l) {
			return true
		}
	}
	return false
}

// waitLog waits for a log line matching match; the process exiting first
// fails the test.
func (b *bot) waitLog(t *testing.T, what string, match func(logLine) bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !b.hasLog(match) {
		select {
		case <-b.exited:
			if b.hasLog(match) {
				return
			}
			t.Fatalf("%s exited (status %d) before logging %q:\n%s", b.name, b.cmd.ProcessState.ExitCode(), what,
				strings.Join(b.logLines(), "\n"))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never logged %q", b.name, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitFor polls cond until it holds or the patience runs out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Slack deliveries.

var httpClient = &http.Client{Timeout: 30 * time.Second}

func do(t *testing.T, r *http.Request) (int, string) {
	t.Helper()
	resp, err := httpClient.Do(r)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// slashRequest builds a signed /lxc command; trigger names the delivery.
func (s *stack) slashRequest(base, text, trigger string) *http.Request {
	form := map[string][]string{
		"team_id": {team}, "channel_id": {channel}, "user_id": {adminID}, "user_name": {adminName},
		"command": {"/lxc"}, "text": {text}, "trigger_id": {trigger}, "response_url": {s.slack.ResponseURL(trigger)},
	}
	return s.signer.SlashCommand(base+"/slack/commands", form)
}

func (s *stack) slash(t *testing.T, base, text, trigger string) (int, string) {
	t.Helper()
	return do(t, s.slashRequest(base, text, trigger))
}

// press sends a block action for a button on message msgTS.
func (s *stack) press(t *testing.T, base, actionID, value, msgTS string, ephemeral bool, actionTS string) (int, string) {
	t.Helper()
	payload := map[string]any{
		"type":         "block_actions",
		"team":         map[string]any{"id": team},
		"user":         map[string]any{"id": adminID, "name": adminName},
		"channel":      map[string]any{"id": channel},
		"trigger_id":   "trig-" + actionTS,
		"response_url": s.slack.ResponseURL("act-" + actionTS),
		"container":    map[string]any{"type": "message", "message_ts": msgTS, "channel_id": channel, "is_ephemeral": ephemeral},
		"message":      map[string]any{"ts": msgTS},
		"actions":      []map[string]any{{"action_id": actionID, "block_id": "b1", "type": "button", "value": value, "action_ts": actionTS}},
	}
	return do(t, s.signer.Interaction(base+"/slack/interactions", payload))
}

// button is a button found in rendered blocks.
type button struct{ ActionID, Value string }

// findButton looks for a button whose action id starts with prefix anywhere
// in a JSON document (an ack, a response_url post, a message's blocks).
func findButton(doc string, prefix string) (button, bool) {
	var v any
	if json.Unmarshal([]byte(doc), &v) != nil {
		return button{}, false
	}
	var found button
	var walk func(any) bool
	walk = func(v any) bool {
		switch x := v.(type) {
		case map[string]any:
			if id, ok := x["action_id"].(string); ok && strings.HasPrefix(id, prefix) && x["type"] == "button" {
				found.ActionID = id
				found.Value, _ = x["value"].(string)
				return true
			}
			for _, c := range x {
				if walk(c) {
					return true
				}
			}
		case []any:
			for _, c := range x {
				if walk(c) {
					return true
				}
			}
		case string:
			// Blocks travel as a JSON string inside form posts.
			if strings.HasPrefix(x, "[") || strings.HasPrefix(x, "{") {
				var inner any
				if json.Unmarshal([]byte(x), &inner) == nil {
					return walk(inner)
				}
			}
		}
		return false
	}
	walk(v)
	return found, found.ActionID != ""
}

// callJSON renders a recorded call as one JSON document for searching.
func callJSON(c slackfake.Call) string {
	if len(c.JSON) > 0 {
		return string(c.JSON)
	}
	if c.Form != nil {
		raw, _ := json.Marshal(c.Form)
		return string(raw)
	}
	return string(c.Body)
}

// planButton waits for the plan card answering the slash command with
// trigger (in its ack or through its response_url) and returns its Create
// button.
func (s *stack) planButton(t *testing.T, ack, trigger string) button {
	t.Helper()
	if b, ok := findButton(ack, "create.confirm"); ok {
		return b
	}
	var b button
	waitFor(t, "the plan card of "+trigger, func() bool {
		for _, c := range s.slack.Calls("response_url") {
			if c.Path == "/response/"+trigger {
				var ok bool
				if b, ok = findButton(callJSON(c), "create.confirm"); ok {
					return true
				}
			}
		}
		return false
	})
	return b
}

// jobCard waits for the job card of hostname posted to the channel and
// returns its ts.
func (s *stack) jobCard(t *testing.T, hostname string) string {
	t.Helper()
	var ts string
	waitFor(t, "the job card of "+hostname, func() bool {
		for _, m := range s.slack.Messages(channel) {
			card := m.ThreadTS == "" && strings.Contains(m.Text, hostname) &&
				(strings.Contains(m.Text, "Creating") || strings.Contains(m.Text, "is ready") || strings.Contains(m.Text, "cancelled"))
			if card {
				ts = m.TS
				return true
			}
		}
		return false
	})
	return ts
}

// waitCard waits until the card at ts shows want (e.g. "is ready").
func (s *stack) waitCard(t *testing.T, ts, want string) {
	t.Helper()
	waitFor(t, "the job card to show "+want, func() bool {
		m, ok := s.slack.Message(channel, ts)
		return ok && (strings.Contains(m.Text, want) || strings.Contains(m.Blocks, want))
	})
}

// Postgres.

// containers returns the rows of hostname that were not deleted.
func (s *stack) containers(t *testing.T, hostname string) []container {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT id, state, completed_phases, vmid FROM containers
		WHERE hostname = $1 AND state <> 'deleted' ORDER BY created_at`, hostname)
	require.NoError(t, err)
	defer rows.Close()
	var out []container
	for rows.Next() {
		var c container
		require.NoError(t, rows.Scan(&c.ID, &c.State, &c.Phases, &c.VMID))
		out = append(out, c)
	}
	require.NoError(t, rows.Err())
	return out
}

// container is a container row the tests look at.
type container struct {
	ID, State string
	Phases    []string
	VMID      *int
}

// waitState waits until hostname has exactly one container, in state.
func (s *stack) waitState(t *testing.T, hostname, state string) container {
	t.Helper()
	var last []container
	deadline := time.Now().Add(patience)
	for {
		last = s.containers(t, hostname)
		if len(last) == 1 && last[0].State == state {
			return last[0]
		}
		if len(last) == 1 && state == "ready" && (last[0].State == "failed" || last[0].State == "cancelled") {
			t.Fatalf("%s ended %s, not ready", hostname, last[0].State)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never reached %s: %+v", hostname, state, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// createViaSlack runs the Slack create flow against base: the slash command,
// then the plan card's Create button. It returns the job card's ts.
func (s *stack) createViaSlack(t *testing.T, base, template, hostname string) string {
	t.Helper()
	trigger := "trig-create-" + hostname
	status, ack := s.slash(t, base, "create "+template+" "+hostname+" --node pve1", trigger)
	require.Equal(t, http.StatusOK, status, ack)
	b := s.planButton(t, ack, trigger)
	status, body := s.press(t, base, b.ActionID, b.Value, "", true, "1700000100."+hostname)
	require.Equal(t, http.StatusOK, status, body)
	return s.jobCard(t, hostname)
}
