package reliability_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/examples/templates"
	"github.com/lxcbot/lxcbot/internal/app"
	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/pvesim/guest"
	"github.com/lxcbot/lxcbot/internal/pvesim/simenv"
	"github.com/lxcbot/lxcbot/internal/secret"
	"github.com/lxcbot/lxcbot/internal/store"
	"github.com/lxcbot/lxcbot/internal/testenv"
	"github.com/lxcbot/lxcbot/internal/testkit/chattest"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// childEnv marks the test binary re-executed as a worker process.
const childEnv = "LXCBOT_RELIABILITY_WORKER"

var alice = provision.Principal{Platform: provision.PlatformConsole, UserID: "alice", Name: "alice"}

// harness is one bot against its own database, Redis and simulated
// two-node cluster. The bot in this process answers commands and runs the
// reconciler; workers run in this process or in child processes.
type harness struct {
	t     *testing.T
	sim   *simenv.Env
	redis *testenv.Redis
	dsn   string            // the test's database
	env   map[string]string // what a worker process needs: database, Redis, key
	app   *app.App
	u     *chattest.User
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	sim, err := simenv.Start(context.Background(), simenv.Options{Nodes: 2})
	require.NoError(t, err)
	t.Cleanup(sim.Close)
	h := &harness{t: t, sim: sim, redis: testenv.StartRedis(t), dsn: testenv.PostgresDSN(t)}
	key, err := secret.GenerateKey()
	require.NoError(t, err)
	h.env = map[string]string{
		// Room for every job of a worker to hold a connection at once.
		config.EnvDatabaseURL:   h.dsn + " pool_max_conns=32",
		config.EnvRedisURL:      "redis://" + h.redis.Addr,
		config.EnvEncryptionKey: key.Hex().Reveal(),
	}
	cfg := h.config()
	for _, n := range sim.Nodes() {
		cfg.Nodes = append(cfg.Nodes, config.Node{
			Name: n.Name, APIURL: n.APIURL, TokenID: n.TokenID, TokenSecret: n.TokenSecret,
			TLSFingerprint: n.TLSFingerprint, Default: n.IsDefault,
			SSH: config.SSH{Addr: n.SSHAddr, User: n.SSHUser, Password: n.SSHPassword, HostKey: n.SSHHostKey},
		})
	}
	cfg.Roles = config.Roles{Operators: []provision.Principal{alice}}
	a, err := app.New(context.Background(), app.Options{Config: cfg, TemplatesFS: templates.FS, Fast: true,
		Logger: testLogger(t, "bot")})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	h.app = a
	h.u = &chattest.User{Router: a.Router(), Who: alice, StampIDs: true}
	return h
}

func (h *harness) config() *config.Config {
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := h.env[k]; return v, ok })
	require.NoError(h.t, err)
	return cfg
}

// testLogger keeps warnings and errors, shown only when the test fails.
func testLogger(t *testing.T, who string) *slog.Logger {
	var mu sync.Mutex
	var buf bytes.Buffer
	t.Cleanup(func() {
		if t.Failed() {
			mu.Lock()
			defer mu.Unlock()
			t.Logf("%s log:\n%s", who, tail(buf.String(), 80))
		}
	})
	return slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// inProcessWorker runs a worker in this process until the test ends.
func (h *harness) inProcessWorker() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.app.RunWorker(ctx, 4) }()
	h.t.Cleanup(func() {
		cancel()
		require.NoError(h.t, <-done)
	})
}

// reconciler runs the bot's reconciler every interval until the test ends.
func (h *harness) reconciler(interval time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = h.app.RunReconciler(ctx, interval)
	}()
	h.t.Cleanup(func() {
		cancel()
		<-done
	})
}

// plan asks for a container and returns the Create button; nothing is
// recorded yet.
func (h *harness) plan(tpl, hostname, node string) commands.Button {
	h.t.Helper()
	p := h.u.Command(h.t, fmt.Sprintf("create %s %s --node %s", tpl, hostname, node))
	chattest.RequireOK(h.t, p)
	return chattest.Button(h.t, p, commands.ActCreateConfirm)
}

// create asks for a container through the router and returns its id.
func (h *harness) create(tpl, hostname, node string) string {
	h.t.Helper()
	resp := h.u.Press(h.t, h.plan(tpl, hostname, node))
	chattest.RequireOK(h.t, resp)
	require.NotNil(h.t, resp.Watch, chattest.AllText(resp))
	return resp.Watch.ContainerID
}

// waitState waits (generously) for the container to reach one of states.
func (h *harness) waitState(id string, states ...provision.State) provision.Container {
	h.t.Helper()
	var c provision.Container
	eventually(h.t, 3*time.Minute, func() (bool, string) {
		var err error
		c, err = h.app.Store().GetContainer(context.Background(), id)
		if err != nil {
			return false, err.Error()
		}
		for _, s := range states {
			if c.State == s {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%s is %s (phases %v, error %q)", c.Hostname, c.State, c.CompletedPhases, c.LastError)
	})
	return c
}

// containers lists every record, deleted ones included.
func (h *harness) containers() []provision.Container {
	h.t.Helper()
	cs, err := h.app.Store().ListContainers(context.Background(), store.ContainerFilter{IncludeDeleted: true})
	require.NoError(h.t, err)
	return cs
}

// simContainers counts the containers that exist on the simulated cluster.
func (h *harness) simContainers() int {
	n := 0
	for _, node := range h.sim.Cluster.NodeNames() {
		n += len(h.sim.Cluster.Containers(node))
	}
	return n
}

func (h *harness) guest(vmid int) *guest.Guest {
	h.t.Helper()
	g, ok := h.sim.Guest(vmid)
	require.True(h.t, ok, "CT %d exists on the simulator", vmid)
	return g
}

// countTop counts the commands given to the guest (pct exec) whose text
// contains every one of parts.
func countTop(g *guest.Guest, parts ...string) int {
	n := 0
	for _, r := range g.Commands() {
		if !r.Top {
			continue
		}
		text := strings.Join(r.Argv, " ")
		all := true
		for _, p := range parts {
			all = all && strings.Contains(text, p)
		}
		if all {
			n++
		}
	}
	return n
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// eventually polls cond every 50ms until it holds or the deadline passes.
// Deadlines are generous: they catch hangs, they do not measure speed.
func eventually(t *testing.T, deadline time.Duration, cond func() (bool, string)) {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(end) {
			require.FailNow(t, "condition not met after "+deadline.String(), why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ---- worker processes ----

// child is the test binary re-executed as a worker (TestWorkerChild).
type child struct {
	cmd  *exec.Cmd
	done chan struct{}
	out  *bytes.Buffer
	mu   *sync.Mutex
}

// startChild starts a worker process against the harness's database and
// Redis; the simulator stays in this process, reached over TCP.
func (h *harness) startChild(concurrency int) *child {
	h.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWorkerChild$", "-test.count=1", "-test.timeout=0")
	cmd.Env = append(os.Environ(), childEnv+"=1", fmt.Sprintf("LXCBOT_RELIABILITY_CONCURRENCY=%d", concurrency))
	for k, v := range h.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	c := &child{cmd: cmd, done: make(chan struct{}), out: &bytes.Buffer{}, mu: &sync.Mutex{}}
	w := lockedWriter{c.mu, c.out}
	cmd.Stdout, cmd.Stderr = w, w
	// The child reads stdin until EOF: if this process dies, so does it.
	stdin, err := cmd.StdinPipe()
	require.NoError(h.t, err)
	// Pdeathsig fires when the starting thread exits: start from a locked
	// thread that lives as long as the child.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			close(c.done)
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(c.done)
	}()
	require.NoError(h.t, <-started)
	h.t.Cleanup(func() {
		_ = stdin.Close()
		c.kill(h.t)
		if h.t.Failed() {
			c.mu.Lock()
			h.t.Logf("worker %d output:\n%s", cmd.Process.Pid, tail(c.out.String(), 60))
			c.mu.Unlock()
		}
	})
	return c
}

// kill sends SIGKILL and waits for the process to be gone.
func (c *child) kill(t *testing.T) {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-c.done:
	case <-time.After(time.Minute):
		t.Errorf("worker %d did not die", c.cmd.Process.Pid)
	}
}

// TestWorkerChild is the worker process the crash tests start and kill. In
// a normal test run it returns at once: it is an entry point, not a test.
func TestWorkerChild(t *testing.T) {
	if os.Getenv(childEnv) != "1" {
		return
	}
	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		t.Fatalf("worker configuration: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.New(ctx, app.Options{Config: cfg, Fast: true, Logger: log})
	if err != nil {
		t.Fatalf("worker: %v", err)
	}
	defer a.Close()
	n := 8
	_, _ = fmt.Sscan(os.Getenv("LXCBOT_RELIABILITY_CONCURRENCY"), &n)
	if err := a.RunWorker(ctx, n); err != nil {
		t.Fatalf("worker: %v", err)
	}
}
