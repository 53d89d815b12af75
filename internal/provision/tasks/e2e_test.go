package tasks_test

import (
	"context"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	templates "github.com/lxcbot/lxcbot/examples/templates"
	redisx "github.com/lxcbot/lxcbot/internal/adapters/redis"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/provision/catalog"
	"github.com/lxcbot/lxcbot/internal/provision/tasks"
	"github.com/lxcbot/lxcbot/internal/pvesim"
	"github.com/lxcbot/lxcbot/internal/pvesim/guest"
	"github.com/lxcbot/lxcbot/internal/pvesim/sshd"
	"github.com/lxcbot/lxcbot/internal/secret"
	"github.com/lxcbot/lxcbot/internal/store"
	"github.com/lxcbot/lxcbot/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var _ provision.Store = (*store.DB)(nil)

// guests is the simulator's container runtime: one in-memory guest per VMID.
type guests struct {
	mu sync.Mutex
	m  map[int]*guest.Guest
}

type runtime struct{ g *guest.Guest }

func (r runtime) SetRunning(b bool) { r.g.SetRunning(b) }
func (r runtime) SetIP(ip string)   { _ = r.g.SetIP(ip) }

func (gs *guests) get(vmid int) (*guest.Guest, bool) {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	g, ok := gs.m[vmid]
	return g, ok
}

type nodeHost struct {
	node    string
	cluster *pvesim.Cluster
	gs      *guests
}

func (h nodeHost) Guest(vmid int) (*guest.Guest, bool) {
	if n, ok := h.cluster.FindContainer(vmid); !ok || n != h.node {
		return nil, false
	}
	return h.gs.get(vmid)
}

// bundle is everything one end-to-end test runs against.
type bundle struct {
	ctx     context.Context
	db      *store.DB
	cluster *pvesim.Cluster
	guests  *guests
	sshd    map[string]*sshd.Server
	engine  *provision.Engine
	queue   *tasks.Queue
	bus     *redisx.Bus
	redis   string
	nodes   *tasks.NodeClients
	log     *slog.Logger
}

func setupE2E(t *testing.T) *bundle {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	log := slog.New(slog.DiscardHandler)
	b := &bundle{ctx: ctx, guests: &guests{m: map[int]*guest.Guest{}}, sshd: map[string]*sshd.Server{}, log: log}

	b.cluster = pvesim.New(pvesim.Options{Nodes: 2, NewRuntime: func(node string, vmid int, hostname, ostemplate string) pvesim.Runtime {
		g := guest.New(guest.Config{VMID: vmid, Hostname: hostname, OSTemplate: ostemplate})
		b.guests.mu.Lock()
		b.guests.m[vmid] = g
		b.guests.mu.Unlock()
		return runtime{g}
	}})
	api, err := pvesim.NewServer(b.cluster)
	require.NoError(t, err)
	require.NoError(t, api.Start("127.0.0.1:0"))
	t.Cleanup(func() { _ = api.Close() })

	key, err := secret.GenerateKey()
	require.NoError(t, err)
	kr, err := secret.NewKeyring(key)
	require.NoError(t, err)
	b.db, err = store.Open(ctx, testenv.PostgresDSN(t), kr, log)
	require.NoError(t, err)
	t.Cleanup(b.db.Close)

	opts := b.cluster.Options()
	for i, name := range b.cluster.NodeNames() {
		srv, err := sshd.New(sshd.Config{Node: name, Users: map[string]sshd.Credential{"root": {Password: "pw-" + name}},
			Host: nodeHost{node: name, cluster: b.cluster, gs: b.guests}})
		require.NoError(t, err)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		go func() { _ = srv.Serve(ctx, ln) }()
		t.Cleanup(func() { _ = ln.Close() })
		b.sshd[name] = srv
		require.NoError(t, b.db.CreateNode(ctx, &provision.Node{
			Name: name, APIURL: api.URL(), TokenID: opts.TokenID, TokenSecret: secret.String(opts.TokenSecret),
			TLSFingerprint: api.Fingerprint(), SSHAddr: ln.Addr().String(), SSHUser: "root",
			SSHPassword: secret.String("pw-" + name), SSHHostKey: srv.HostKeyFingerprint(), IsDefault: i == 0,
		}))
	}
	rep, err := catalog.SyncFS(ctx, b.db, templates.FS, log)
	require.NoError(t, err)
	require.NoError(t, rep.Err())

	b.redis = testenv.RedisAddr(t)
	rdb, err := redisx.Connect(ctx, "redis://"+b.redis)
	require.NoError(t, err)
	t.Cleanup(func() { _ = rdb.Close() })
	b.queue = tasks.NewQueue(rdb, tasks.TaskOptions{MaxRetry: 5, Timeout: 5 * time.Minute})
	t.Cleanup(func() { _ = b.queue.Close() })
	b.bus = redisx.NewBus(rdb, redisx.BusOptions{Block: 200 * time.Millisecond}, log)
	b.nodes = tasks.NewNodeClients(b.db, newPVEClient, log)
	t.Cleanup(func() { _ = b.nodes.Close() })
	b.engine = provision.New(provision.Deps{
		Store: b.db, Nodes: b.nodes, Queue: b.queue, Locker: redisx.NewLocker(rdb), Bus: b.bus, Log: log,
		Config: provision.Config{LockTTL: 3 * time.Second, NetworkWait: 10 * time.Second, NetworkPoll: 50 * time.Millisecond},
	})
	b.startWorker(t)
	return b
}

// startWorker runs an asynq worker for the bundle's engine until the test
// ends or the returned stop is called.
func (b *bundle) startWorker(t *testing.T) (stop func()) {
	t.Helper()
	rdb, err := redisx.Connect(b.ctx, "redis://"+b.redis)
	require.NoError(t, err)
	w := tasks.NewServer(rdb, 8, tasks.ServerOptions{
		DelayedTaskCheckInterval: 100 * time.Millisecond, TaskCheckInterval: 50 * time.Millisecond,
		RetryDelayFunc: func(int, error, *asynq.Task) time.Duration { return 200 * time.Millisecond },
		ShutdownTimeout: 2 * time.Second,
	})
	require.NoError(t, w.Start(tasks.NewHandler(b.engine, b.log)))
	var once sync.Once
	stop = func() {
		once.Do(func() {
			w.Shutdown()
			_ = rdb.Close()
		})
	}
	t.Cleanup(stop)
	return stop
}

var alice = provision.Principal{Platform: provision.PlatformConsole, UserID: "alice", Name: "Alice"}

// waitState waits until the container reaches one of states.
func (b *bundle) waitState(t *testing.T, id string, states ...provision.State) provision.Container {
	t.Helper()
	var c provision.Container
	require.Eventually(t, func() bool {
		var err error
		c, err = b.db.GetContainer(b.ctx, id)
		require.NoError(t, err)
		for _, s := range states {
			if c.State == s {
				return true
			}
		}
		return false
	}, 90*time.Second, 50*time.Millisecond, "container %s never reached %v", id, states)
	return c
}

// progress reads a job's progress up to its terminal event.
func (b *bundle) progress(t *testing.T, id, after string) []provision.ProgressEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 90*time.Second)
	defer cancel()
	ch, err := b.engine.Subscribe(ctx, id, after)
	require.NoError(t, err)
	var out []provision.ProgressEvent
	for e := range ch {
		out = append(out, e)
	}
	require.NotEmpty(t, out)
	require.True(t, out[len(out)-1].Type.Terminal(), "progress of %s ended without a terminal event", id)
	return out
}

func phaseOrder(events []provision.ProgressEvent, typ provision.ProgressType) []provision.Phase {
	var out []provision.Phase
	for _, e := range events {
		if e.Type == typ {
			out = append(out, e.Phase)
		}
	}
	return out
}

func TestEndToEndEveryExampleTemplateBecomesReady(t *testing.T) {
	b := setupE2E(t)
	nodes := b.cluster.NodeNames()
	type job struct{ id, tpl string }
	var jobs []job
	for i, tpl := range []string{"nginx-web", "postgres-db", "code-server"} {
		c, err := b.engine.Create(b.ctx, alice, provision.Origin{Platform: provision.PlatformConsole},
			provision.CreateRequest{Template: tpl, Hostname: "e2e-" + tpl, Node: nodes[i%len(nodes)]}, "e2e-"+tpl)
		require.NoError(t, err)
		jobs = append(jobs, job{c.ID, tpl})
	}
	for _, j := range jobs {
		events := b.progress(t, j.id, "")
		if j.tpl == "code-server" {
			// The simulator's guest does not emulate code-server's upstream
			// installer (curl | sh), so its configuration script stops: the
			// job must fail at scripts with the script's last lines.
			last := events[len(events)-1]
			require.Equal(t, provision.ProgressFailed, last.Type)
			require.Equal(t, provision.PhaseScripts, last.Phase)
			require.Contains(t, strings.Join(last.Lines, "\n"), "code-server is not installed")
			c := b.waitState(t, j.id, provision.StateFailed)
			require.Equal(t, provision.PhaseScripts, c.FailedPhase)
			continue
		}
		last := events[len(events)-1]
		require.Equal(t, provision.ProgressReady, last.Type, "%s: %+v", j.tpl, last)
		require.Equal(t, provision.Phases, phaseOrder(events, provision.ProgressPhaseStarted), j.tpl)
		require.Equal(t, provision.Phases, phaseOrder(events, provision.ProgressPhaseFinished), j.tpl)
		for i := 1; i < len(events); i++ {
			require.Greater(t, events[i].Seq, events[i-1].Seq)
			require.GreaterOrEqual(t, events[i].Percent, 0)
		}

		c := b.waitState(t, j.id, provision.StateReady)
		require.NotZero(t, c.VMID)
		require.NotEmpty(t, c.IP)
		stored, err := b.db.ListEvents(b.ctx, j.id, []provision.EventType{provision.EventPhaseFinished}, 0)
		require.NoError(t, err)
		require.Len(t, stored, len(provision.Phases))

		_, ok := b.cluster.Container(c.NodeName, c.VMID)
		require.True(t, ok)
		svcs, err := b.db.ListServices(b.ctx, j.id)
		require.NoError(t, err)
		require.NotEmpty(t, svcs, j.tpl)
		require.Equal(t, provision.ServiceApplication, svcs[0].Kind, "%s: %+v", j.tpl, svcs)
	}
	// Services, ports and credentials of the PostgreSQL container.
	pg := jobs[1].id
	svcs, err := b.db.ListServices(b.ctx, pg)
	require.NoError(t, err)
	var found bool
	for _, s := range svcs {
		if strings.HasPrefix(s.Unit, "postgresql") && len(s.Ports) > 0 && s.Ports[0] == 5432 {
			found = true
		}
	}
	require.True(t, found, "postgres port not discovered: %+v", svcs)
	creds, err := b.db.ListCredentials(b.ctx, pg, "postgres")
	require.NoError(t, err)
	keys := map[string]string{}
	for _, c := range creds {
		keys[c.Key] = c.Value.Reveal()
	}
	require.Equal(t, "app", keys["POSTGRES_USER"])
	require.NotEmpty(t, keys["POSTGRES_PASSWORD"])
	// The generated password never reached the progress stream.
	for _, e := range b.progress(t, pg, "") {
		require.NotContains(t, e.Line+e.Message, keys["POSTGRES_PASSWORD"])
	}
	// The nginx container serves on port 80 with a web link.
	ng, err := b.db.ListServices(b.ctx, jobs[0].id)
	require.NoError(t, err)
	require.Equal(t, "nginx.service", ng[0].Unit)
	require.Contains(t, ng[0].URL, ":80")
}
