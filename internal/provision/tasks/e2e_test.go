package tasks_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	templates "github.com/lxcbot/lxcbot/examples/templates"
	"github.com/lxcbot/lxcbot/internal/adapters/nodepool"
	redisx "github.com/lxcbot/lxcbot/internal/adapters/redis"
	"github.com/lxcbot/lxcbot/internal/metrics"
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
	nodes   *nodepool.Pool
	metrics *metrics.Metrics
	log     *slog.Logger

	mu      sync.Mutex
	workers []func()
}

// stopWorkers shuts every running worker down, as a deploy or crash would.
func (b *bundle) stopWorkers() {
	b.mu.Lock()
	ws := b.workers
	b.workers = nil
	b.mu.Unlock()
	for _, stop := range ws {
		stop()
	}
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
	b.metrics = metrics.New()
	b.nodes = nodepool.New(b.db, log, nodepool.Options{TaskPoll: 20 * time.Millisecond, RetryBackoff: 20 * time.Millisecond,
		Metrics: b.metrics})
	t.Cleanup(b.nodes.Close)
	b.engine = provision.New(provision.Deps{
		Store: b.db, Nodes: b.nodes, Queue: b.queue, Locker: redisx.NewLocker(rdb), Bus: b.bus, Log: log, Metrics: b.metrics,
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
		RetryDelayFunc:  func(int, error, *asynq.Task) time.Duration { return 200 * time.Millisecond },
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
	b.mu.Lock()
	b.workers = append(b.workers, stop)
	b.mu.Unlock()
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
	// code-server, installed by its upstream installer, listens on 8080 and
	// its generated password is a credential that never reached the stream.
	cs := jobs[2].id
	csSvcs, err := b.db.ListServices(b.ctx, cs)
	require.NoError(t, err)
	found = false
	for _, s := range csSvcs {
		if s.Unit == "code-server.service" && len(s.Ports) > 0 && s.Ports[0] == 8080 {
			found = true
		}
	}
	require.True(t, found, "code-server port not discovered: %+v", csSvcs)
	csCreds, err := b.db.ListCredentials(b.ctx, cs, "code-server")
	require.NoError(t, err)
	require.Len(t, csCreds, 1)
	require.Equal(t, "PASSWORD", csCreds[0].Key)
	csPassword := csCreds[0].Value.Reveal()
	require.NotEmpty(t, csPassword)
	for _, e := range b.progress(t, cs, "") {
		require.NotContains(t, e.Line+e.Message+strings.Join(e.Lines, "\n"), csPassword)
	}
}

func TestFailedScriptRetryResumesMasksSecretsAndPassesArgumentsLiterally(t *testing.T) {
	b := setupE2E(t)
	const pw = "s3cretvalue42"
	weirdPkg := "pkg;touch /tmp/pwned"
	weirdDir := "/opt/my app;touch /tmp/pwned2"
	weirdFile := "we'ird $(touch x).txt"
	require.NoError(t, b.db.UpsertBucket(b.ctx, &provision.Bucket{Name: "weird", Manager: provision.ManagerApt,
		Packages: []provision.Package{{Name: weirdPkg}}}))
	require.NoError(t, b.db.CreateTemplate(b.ctx, &provision.Template{
		Name: "flaky", OSTemplate: "debian-12-standard", Cores: 1, MemoryMiB: 512, DiskGiB: 8, Unprivileged: true,
		Buckets: []string{"weird"},
		Files:   []provision.TemplateFile{{Name: weirdFile, TargetDir: weirdDir, Policy: provision.PolicyDefault, Content: []byte("hi\n")}},
		Scripts: []provision.TemplateScript{
			{Order: 10, Name: "10-secret.sh", Enabled: true, Body: "save_credential app DB_PASSWORD " + pw + "\necho \"the password is " + pw + "\"\n"},
			{Order: 20, Name: "20-flaky.sh", Enabled: true, Body: "echo step one\nif [ ! -f /tmp/fixed ]; then\n  echo \"failing near " + pw + "\" >&2\n  exit 3\nfi\necho fixed\n"},
		},
	}))

	c, err := b.engine.Create(b.ctx, alice, provision.Origin{Platform: provision.PlatformConsole},
		provision.CreateRequest{Template: "flaky", Hostname: "flaky1"}, "flaky-1")
	require.NoError(t, err)
	events := b.progress(t, c.ID, "")
	last := events[len(events)-1]
	require.Equal(t, provision.ProgressFailed, last.Type)
	require.Equal(t, provision.PhaseScripts, last.Phase)
	require.Contains(t, last.Message, "exited with status 3")
	require.Contains(t, strings.Join(last.Lines, "\n"), "failing near ••••••")
	failed := b.waitState(t, c.ID, provision.StateFailed)
	require.Equal(t, provision.PhaseScripts, failed.FailedPhase)
	require.Equal(t, 1.0, testutil.ToFloat64(b.metrics.JobOutcomes.WithLabelValues("failed")))
	require.Equal(t, 1.0, testutil.ToFloat64(b.metrics.PhaseOutcomes.WithLabelValues(string(provision.PhaseScripts), "failed")))
	require.Equal(t, 1.0, testutil.ToFloat64(b.metrics.PhaseOutcomes.WithLabelValues(string(provision.PhaseCreate), "ok")))

	// Arguments reached the container literally: no shell ran them.
	g, ok := b.guests.get(failed.VMID)
	require.True(t, ok)
	var sawPkg bool
	for _, rec := range g.Commands() {
		if rec.Top && len(rec.Argv) > 0 && rec.Argv[len(rec.Argv)-1] == weirdPkg {
			sawPkg = true
		}
	}
	require.True(t, sawPkg, "package name did not arrive as one argument")
	require.False(t, g.Exists("/tmp/pwned"))
	require.False(t, g.Exists("/tmp/pwned2"))
	require.True(t, g.Exists(weirdDir+"/"+weirdFile))

	// Fix the cause and retry: only the failed script runs again.
	before := b.cluster.Counters()
	require.NoError(t, g.WriteFile("/tmp/fixed", []byte("1"), 0o644, "root"))
	require.NoError(t, b.engine.Retry(b.ctx, alice, c.ID))
	retried := b.progress(t, c.ID, last.ID)
	require.Equal(t, provision.ProgressReady, retried[len(retried)-1].Type)
	require.Equal(t, []provision.Phase{provision.PhaseScripts, provision.PhaseDiscover, provision.PhaseReady},
		phaseOrder(retried, provision.ProgressPhaseStarted))
	require.Equal(t, 1.0, testutil.ToFloat64(b.metrics.JobOutcomes.WithLabelValues("ready")))
	require.Equal(t, 1.0, testutil.ToFloat64(b.metrics.PhaseOutcomes.WithLabelValues(string(provision.PhaseScripts), "ok")))
	require.Equal(t, 1.0, testutil.ToFloat64(b.metrics.PhaseOutcomes.WithLabelValues(string(provision.PhaseCreate), "ok")),
		"a finished phase does not run again")
	for _, e := range retried {
		require.NotEqual(t, "10-secret.sh", e.Script, "a finished script ran again")
	}
	after := b.cluster.Counters()
	require.Equal(t, before.Created, after.Created, "create repeated")
	require.Equal(t, before.Started, after.Started, "start repeated")
	b.waitState(t, c.ID, provision.StateReady)

	// The secret never reached the stream, the timeline or the error text.
	for _, e := range append(events, retried...) {
		require.NotContains(t, e.Line+e.Message+strings.Join(e.Lines, "\n"), pw)
	}
	var sawMasked bool
	for _, e := range events {
		if strings.Contains(e.Line, "the password is ••••••") {
			sawMasked = true
		}
	}
	require.True(t, sawMasked, "the echoed password line was not published masked")
	stored, err := b.db.ListEvents(b.ctx, c.ID, nil, 0)
	require.NoError(t, err)
	for _, e := range stored {
		require.NotContains(t, e.Message, pw)
		require.NotContains(t, fmt.Sprint(e.Data), pw)
	}
	require.NotContains(t, failed.LastError, pw)
	// The credential itself was stored (encrypted) for later reveal.
	creds, err := b.db.ListCredentials(b.ctx, c.ID, "app")
	require.NoError(t, err)
	require.Len(t, creds, 1)
	require.Equal(t, pw, creds[0].Value.Reveal())
}

func TestFiftyConcurrentCreationsGetDistinctVMIDs(t *testing.T) {
	b := setupE2E(t)
	nodes := b.cluster.NodeNames()
	const n = 50
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := b.engine.Create(b.ctx, alice, provision.Origin{Platform: provision.PlatformConsole},
				provision.CreateRequest{Template: "nginx-web", Hostname: fmt.Sprintf("web%02d", i), Node: nodes[i%len(nodes)]},
				fmt.Sprintf("burst-%d", i))
			if err == nil {
				ids[i] = c.ID
			}
			assertNoError(t, err)
		}()
	}
	wg.Wait()
	// A duplicate delivery returns the same container.
	again, err := b.engine.Create(b.ctx, alice, provision.Origin{Platform: provision.PlatformConsole},
		provision.CreateRequest{Template: "nginx-web", Hostname: "web00", Node: nodes[0]}, "burst-0")
	require.NoError(t, err)
	require.Equal(t, ids[0], again.ID)

	vmids := map[int]bool{}
	for _, id := range ids {
		c := b.waitState(t, id, provision.StateReady, provision.StateFailed)
		require.Equal(t, provision.StateReady, c.State, "%s failed at %s: %s", c.Hostname, c.FailedPhase, c.LastError)
		require.False(t, vmids[c.VMID], "VMID %d used twice", c.VMID)
		vmids[c.VMID] = true
	}
	total := 0
	for _, node := range nodes {
		total += len(b.cluster.Containers(node))
	}
	require.Equal(t, n, total)
}

func assertNoError(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("unexpected error: %v", err)
	}
}

func TestInterruptedJobResumesOnAnotherWorker(t *testing.T) {
	b := setupE2E(t)
	require.NoError(t, b.db.CreateTemplate(b.ctx, &provision.Template{
		Name: "slow", OSTemplate: "debian-12-standard", Cores: 1, MemoryMiB: 512, DiskGiB: 8, Unprivileged: true,
		Scripts: []provision.TemplateScript{
			{Order: 10, Name: "10-first.sh", Enabled: true, Body: "echo first\n"},
			{Order: 20, Name: "20-wait.sh", Enabled: true, Body: "echo waiting\nwhile [ ! -f /tmp/go ]; do sleep 0.05; done\necho done\n"},
		},
	}))
	// The bundle's worker is the one that dies; a second one takes over.
	c, err := b.engine.Create(b.ctx, alice, provision.Origin{Platform: provision.PlatformConsole},
		provision.CreateRequest{Template: "slow", Hostname: "slow1"}, "slow-1")
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(b.ctx, 90*time.Second)
	defer cancel()
	ch, err := b.engine.Subscribe(ctx, c.ID, "")
	require.NoError(t, err)
	for e := range ch {
		if e.Type == provision.ProgressLog && e.Line == "waiting" {
			break
		}
	}
	cancel()

	b.stopWorkers()
	cur, err := b.db.GetContainer(b.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, provision.StateCreating, cur.State)
	require.False(t, cur.HasPhase(provision.PhaseScripts))

	g, ok := b.guests.get(cur.VMID)
	require.True(t, ok)
	require.NoError(t, g.WriteFile("/tmp/go", []byte("1"), 0o644, "root"))
	b.startWorker(t)
	ready := b.waitState(t, c.ID, provision.StateReady)
	require.True(t, ready.HasPhase(provision.PhaseScripts))

	counters := b.cluster.Counters()
	require.Equal(t, 1, sum(counters.Created), "create ran more than once")
	require.Equal(t, 1, sum(counters.Started), "start ran more than once")
	firstRuns := 0
	for _, rec := range g.Commands() {
		if rec.Top && strings.Contains(strings.Join(rec.Argv, " "), "10-first.sh") && rec.Argv[0] == "bash" {
			firstRuns++
		}
	}
	require.Equal(t, 1, firstRuns, "a finished script ran again after the resume")
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func TestCancelStopsARunningJobAndRemovesTheContainer(t *testing.T) {
	b := setupE2E(t)
	require.NoError(t, b.db.CreateTemplate(b.ctx, &provision.Template{
		Name: "forever", OSTemplate: "debian-12-standard", Cores: 1, MemoryMiB: 512, DiskGiB: 8, Unprivileged: true,
		Scripts: []provision.TemplateScript{{Order: 10, Name: "10-wait.sh", Enabled: true,
			Body: "echo waiting\nwhile [ ! -f /tmp/never ]; do sleep 0.05; done\n"}},
	}))
	c, err := b.engine.Create(b.ctx, alice, provision.Origin{Platform: provision.PlatformConsole},
		provision.CreateRequest{Template: "forever", Hostname: "forever1"}, "forever-1")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(b.ctx, 90*time.Second)
	defer cancel()
	ch, err := b.engine.Subscribe(ctx, c.ID, "")
	require.NoError(t, err)
	var events []provision.ProgressEvent
	for e := range ch {
		events = append(events, e)
		if e.Type == provision.ProgressLog && e.Line == "waiting" {
			require.NoError(t, b.engine.Cancel(b.ctx, alice, c.ID))
		}
	}
	require.Equal(t, provision.ProgressCancelled, events[len(events)-1].Type, "%+v", events[len(events)-1])
	got := b.waitState(t, c.ID, provision.StateCancelled)
	_, exists := b.cluster.Container(got.NodeName, got.VMID)
	require.False(t, exists, "the cancelled container is still on Proxmox")
	reserved, err := b.db.ReservedVMIDs(b.ctx)
	require.NoError(t, err)
	require.NotContains(t, reserved, got.VMID)
	var ue *provision.UserError
	require.ErrorAs(t, b.engine.Cancel(b.ctx, alice, c.ID), &ue)
}
