package provision_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/adapters/nodepool"
	redisx "github.com/lxcbot/lxcbot/internal/adapters/redis"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/pvesim"
	"github.com/lxcbot/lxcbot/internal/pvesim/guest"
	"github.com/lxcbot/lxcbot/internal/pvesim/sshd"
	"github.com/lxcbot/lxcbot/internal/secret"
	"github.com/lxcbot/lxcbot/internal/store"
	"github.com/lxcbot/lxcbot/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

const sshPassword = "node-ssh-password"

// simBundle is a store on its own database, a Redis locker, a simulated
// two-node cluster with one SSH server per node, and the node pool over
// them, with both nodes saved and pinned.
type simBundle struct {
	db     *store.DB
	sim    *pvesim.Cluster
	srv    *pvesim.Server
	pool   *nodepool.Pool
	locker *redisx.Locker
	notes  *notebook
	sshd   map[string]*sshd.Server
	sshAt  map[string]string
	guests *guestHost
}

// guestHost keeps the simulated containers' insides, for the SSH servers.
type guestHost struct {
	mu     sync.Mutex
	guests map[int]*guest.Guest
}

func (h *guestHost) Guest(vmid int) (*guest.Guest, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	g, ok := h.guests[vmid]
	return g, ok
}

// guestRuntime lets the cluster drive a guest's power and address.
type guestRuntime struct{ g *guest.Guest }

func (r guestRuntime) SetRunning(on bool) { r.g.SetRunning(on) }
func (r guestRuntime) SetIP(ip string) {
	if !strings.Contains(ip, "/") {
		ip += "/24"
	}
	_ = r.g.SetIP(ip)
}

// notebook is a Notifier that keeps what it was told.
type notebook struct {
	mu    sync.Mutex
	notes []provision.Notification
}

func (n *notebook) Notify(_ context.Context, note provision.Notification) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.notes = append(n.notes, note)
	return nil
}

func (n *notebook) all() []provision.Notification {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]provision.Notification(nil), n.notes...)
}

func (n *notebook) ofKind(k provision.NotificationKind) []provision.Notification {
	var out []provision.Notification
	for _, x := range n.all() {
		if x.Kind == k {
			out = append(out, x)
		}
	}
	return out
}

func newSimBundle(t *testing.T) *simBundle {
	t.Helper()
	ctx := context.Background()
	key, err := secret.GenerateKey()
	require.NoError(t, err)
	kr, err := secret.NewKeyring(key)
	require.NoError(t, err)
	db, err := store.Open(ctx, testenv.PostgresDSN(t), kr, nil)
	require.NoError(t, err)
	t.Cleanup(db.Close)

	rdb, err := redisx.Connect(ctx, "redis://"+testenv.RedisAddr(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = rdb.Close() })

	gh := &guestHost{guests: map[int]*guest.Guest{}}
	sim := pvesim.New(pvesim.Options{Nodes: 2, NewRuntime: func(node string, vmid int, hostname, ostemplate string) pvesim.Runtime {
		g := guest.New(guest.Config{VMID: vmid, Hostname: hostname, OSTemplate: ostemplate})
		gh.mu.Lock()
		gh.guests[vmid] = g
		gh.mu.Unlock()
		return guestRuntime{g}
	}})
	srv, err := pvesim.NewServer(sim)
	require.NoError(t, err)
	require.NoError(t, srv.Start("127.0.0.1:0"))
	t.Cleanup(func() { _ = srv.Close() })

	b := &simBundle{db: db, sim: sim, srv: srv, locker: redisx.NewLocker(rdb), notes: &notebook{},
		sshd: map[string]*sshd.Server{}, sshAt: map[string]string{}, guests: gh}
	sctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	for i, name := range sim.NodeNames() {
		s, err := sshd.New(sshd.Config{Node: name, Host: gh,
			Users: map[string]sshd.Credential{"root": {Password: sshPassword}}})
		require.NoError(t, err)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		go func() { _ = s.Serve(sctx, ln) }()
		b.sshd[name], b.sshAt[name] = s, ln.Addr().String()
		n := b.nodeRecord(name)
		n.IsDefault = i == 0
		require.NoError(t, db.CreateNode(ctx, &n))
	}
	b.pool = nodepool.New(db, nil, nodepool.Options{TaskPoll: 20 * time.Millisecond, HTTPTimeout: 10 * time.Second})
	t.Cleanup(b.pool.Close)
	return b
}

// nodeRecord is a fully pinned record of a simulated node.
func (b *simBundle) nodeRecord(name string) provision.Node {
	opts := b.sim.Options()
	return provision.Node{Name: name, APIURL: b.srv.URL(), TokenID: opts.TokenID, TokenSecret: secret.String(opts.TokenSecret),
		TLSFingerprint: b.srv.Fingerprint(), SSHAddr: b.sshAt[name], SSHUser: "root", SSHPassword: sshPassword,
		SSHHostKey: b.sshd[name].HostKeyFingerprint()}
}

// api calls the simulator's API directly, as an outsider would.
func (b *simBundle) api(t *testing.T, method, path string, form url.Values) {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, b.srv.URL()+path, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	opts := b.sim.Options()
	req.Header.Set("Authorization", "PVEAPIToken="+opts.TokenID+"="+opts.TokenSecret)
	resp, err := b.srv.HTTPClient().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode, "%s %s: %s", method, path, resp.Status)
}

// readyContainer creates and starts a container on the simulator and
// records it as a ready container of the bot.
func (b *simBundle) readyContainer(t *testing.T, node string, vmid int, hostname string) provision.Container {
	t.Helper()
	ctx := context.Background()
	b.api(t, http.MethodPost, "/nodes/"+node+"/lxc", url.Values{
		"vmid": {strconv.Itoa(vmid)}, "hostname": {hostname}, "ostemplate": {"local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"},
		"net0": {"name=eth0,bridge=vmbr0,ip=dhcp"}, "tags": {provision.MarkerTag},
	})
	waitFor(t, func() bool { _, ok := b.sim.Container(node, vmid); return ok })
	b.api(t, http.MethodPost, fmt.Sprintf("/nodes/%s/lxc/%d/status/start", node, vmid), nil)
	waitFor(t, func() bool { ci, _ := b.sim.Container(node, vmid); return ci.Status == "running" })

	c := &provision.Container{NodeName: node, Hostname: hostname, TemplateName: "debian",
		Owner:   provision.Principal{Platform: provision.PlatformSlack, UserID: "U1", Name: "alice"},
		Origin:  provision.Origin{Platform: provision.PlatformSlack, WorkspaceID: "T1", ChannelID: "C1"},
		Request: provision.CreateRequest{Template: "debian", Hostname: hostname}}
	require.NoError(t, b.db.CreateContainer(ctx, c))
	require.NoError(t, b.db.ReserveVMID(ctx, vmid, c.ID, node))
	require.NoError(t, b.db.SetContainerPlacement(ctx, c.ID, node, vmid))
	require.NoError(t, b.db.TransitionContainer(ctx, c.ID, []provision.State{provision.StatePending}, provision.StateReady))
	got, err := b.db.GetContainer(ctx, c.ID)
	require.NoError(t, err)
	return got
}

// waitFor polls cond; the simulator's fast mode makes it true at once, the
// poll only covers scheduling.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition never became true")
}

func (b *simBundle) lifecycle(shutdownTimeout time.Duration) *provision.Lifecycle {
	return provision.NewLifecycle(provision.LifecycleDeps{Store: b.db, Nodes: b.pool, Locker: b.locker, Notifier: b.notes,
		Config: provision.LifecycleConfig{ShutdownTimeout: shutdownTimeout}})
}

// containerLister adapts the store's filter to the domain's query, as main
// does.
func containerLister(db *store.DB) provision.ContainerLister {
	return provision.ContainerListerFunc(func(ctx context.Context, q provision.ContainerQuery) ([]provision.Container, error) {
		f := store.ContainerFilter{Node: q.Node, State: q.State, Limit: q.Limit, Offset: q.Offset}
		if q.Owner != nil {
			f.OwnerPlatform, f.OwnerUserID = q.Owner.Platform, q.Owner.UserID
		}
		return db.ListContainers(ctx, f)
	})
}
