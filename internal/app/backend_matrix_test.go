package app

import (
	"context"
	"database/sql"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver, to empty tables between cases
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/adapters/proxmox"
	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/commands/commandstest"
	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/pvesim/simenv"
	"github.com/lxcbot/lxcbot/internal/secret"
	"github.com/lxcbot/lxcbot/internal/testenv"
)

// matrixFixture builds the fixture commandstest.RunAuthzMatrix documents
// on the real backend: roles from the configuration, templates nginx and
// postgres and bucket base imported from testdata at start-up, nodes pve1
// (default) and pve2 from the simulator, and containers web1, web2 and db1
// recorded in the store and present on the simulator, each case with VMIDs
// of its own.
//
// Cases share one database and one Redis, emptied before each case: a
// fresh database per case costs several times more than the case itself.
type matrixFixture struct {
	sim       *simenv.Env
	vmids     atomic.Int64
	dsn       string
	redisAddr string
	sql       *sql.DB
	rdb       *redis.Client
}

func newMatrixFixture(t *testing.T) *matrixFixture {
	f := &matrixFixture{sim: startSim(t), dsn: testenv.PostgresDSN(t), redisAddr: testenv.RedisAddr(t)}
	f.vmids.Store(1000)
	var err error
	f.sql, err = sql.Open("pgx", f.dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.sql.Close() })
	f.rdb = redis.NewClient(&redis.Options{Addr: f.redisAddr})
	t.Cleanup(func() { _ = f.rdb.Close() })
	return f
}

// reset empties every table but the migrations' own, and Redis.
func (f *matrixFixture) reset(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	rows, err := f.sql.QueryContext(ctx, `SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'goose_db_version'`)
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		tables = append(tables, n)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	_, err = f.sql.ExecContext(ctx, "TRUNCATE "+strings.Join(tables, ", ")+" RESTART IDENTITY CASCADE")
	require.NoError(t, err)
	require.NoError(t, f.rdb.FlushAll(ctx).Err())
}

func (f *matrixFixture) newRouter(t *testing.T) *commands.Router {
	t.Helper()
	ctx := context.Background()
	f.reset(t)
	a := newApp(t, appOptions{
		dsn: f.dsn, redisAddr: f.redisAddr,
		templates: os.DirFS("testdata/matrix-templates"),
		nodes:     f.sim.Nodes(),
		roles: config.Roles{
			Admins:    []provision.Principal{commandstest.Admin},
			Operators: []provision.Principal{commandstest.Operator, commandstest.Other},
			Viewers:   []provision.Principal{commandstest.Viewer},
		},
	})
	db := a.Store()
	seed := func(id, host, node, tpl string, owner provision.Principal, failed bool) {
		vmid := int(f.vmids.Add(1))
		f.guest(t, node, vmid, host)
		c := &provision.Container{ID: id, NodeName: node, Hostname: host, TemplateName: tpl, Owner: owner,
			Origin:  provision.Origin{Platform: provision.PlatformConsole, WorkspaceID: "console", ChannelID: "general"},
			Request: provision.CreateRequest{Template: tpl, Hostname: host, Node: node}}
		require.NoError(t, db.CreateContainer(ctx, c))
		require.NoError(t, db.SetContainerPlacement(ctx, id, node, vmid))
		require.NoError(t, db.SetContainerIP(ctx, id, "10.0.0."+host[len(host)-1:]))
		if failed {
			require.NoError(t, db.FailContainer(ctx, id, provision.PhaseScripts, "script 10-install.sh exited with status 1"))
			return
		}
		require.NoError(t, db.TransitionContainer(ctx, id, []provision.State{provision.StatePending}, provision.StateReady))
	}
	seed("ct-web1", "web1", "pve1", "nginx", commandstest.Operator, false)
	seed("ct-web2", "web2", "pve2", "nginx", commandstest.Other, false)
	seed("ct-db1", "db1", "pve1", "postgres", commandstest.Operator, true)
	require.NoError(t, db.ReplaceServices(ctx, "ct-web1", []provision.Service{
		{ContainerID: "ct-web1", Unit: "nginx.service", Kind: provision.ServiceApplication, Status: "active", Ports: []int{80}},
	}))
	require.NoError(t, db.ReplaceCredentials(ctx, "ct-web1", []provision.Credential{
		{ContainerID: "ct-web1", Service: "nginx", Key: "ADMIN_PASSWORD", Value: secret.String("s3cret-pa55")},
	}))
	return a.Router()
}

// guest creates and starts a container on the simulator through the
// pipeline's Proxmox client.
func (f *matrixFixture) guest(t *testing.T, node string, vmid int, host string) {
	t.Helper()
	ctx := context.Background()
	var n provision.Node
	for _, x := range f.sim.Nodes() {
		if x.Name == node {
			n = x
		}
	}
	pve, err := proxmox.Factory(slog.New(slog.DiscardHandler), func(c *proxmox.Config) { c.TaskPollInterval = 20 * time.Millisecond })(ctx, n)
	require.NoError(t, err)
	upid, err := pve.CreateContainer(ctx, node, provision.CreateSpec{VMID: vmid, Hostname: host,
		OSTemplate: "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst", RootFS: "local-lvm:8",
		Net0: "name=eth0,bridge=vmbr0,ip=dhcp", Unprivileged: true})
	require.NoError(t, err)
	require.NoError(t, pve.WaitTask(ctx, node, upid))
	require.NoError(t, pve.EnsureRunning(ctx, node, vmid))
}

// TestAuthzMatrixOnTheRealBackend runs the command layer's authorisation
// matrix against a router over the real backend: Postgres, Redis, the
// provisioning facades and the simulated cluster. Besides refusing exactly
// what it must, no allowed case may end in an internal error.
func TestAuthzMatrixOnTheRealBackend(t *testing.T) {
	commandstest.RunAuthzMatrix(t, newMatrixFixture(t).newRouter)
}
