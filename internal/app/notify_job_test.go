package app

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/examples/templates"
	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/pvesim"
	"github.com/lxcbot/lxcbot/internal/testkit/chattest"
)

// TestFinishedCreationsAreAnnounced: the team channel hears about a container
// that became ready and about one whose creation failed.
func TestFinishedCreationsAreAnnounced(t *testing.T) {
	sim := startSim(t)
	a := newApp(t, appOptions{templates: templates.FS, nodes: sim.Nodes(), admins: []provision.Principal{ada},
		roles: config.Roles{Operators: []provision.Principal{alice}}})
	rec := &recorder{}
	a.SetNotifier(provision.PlatformConsole, rec.post)
	chattest.RequireOK(t, (&chattest.User{Router: a.Router(), Who: ada}).Command(t, "notify #ops created failed"))
	runWorker(t, a)
	u := &chattest.User{Router: a.Router(), Who: alice}

	create := func(args string) {
		t.Helper()
		plan := u.Command(t, "create "+args)
		chattest.RequireOK(t, plan)
		started := u.Press(t, chattest.Button(t, plan, commands.ActCreateConfirm))
		require.NotNil(t, started.Watch)
		updates, err := a.Router().Watch(context.Background(), started.Watch.ContainerID)
		require.NoError(t, err)
		for range updates {
		}
	}
	create("nginx-web web1 --node pve1")
	sim.Cluster.FailTask(pvesim.TaskFault{Node: "pve2", Type: "vzcreate", Message: "storage 'local-lvm' is full"})
	create("nginx-web web2 --node pve2")

	posts := strings.Join(rec.all(), "\n")
	require.Contains(t, posts, "ops: 🟢 web1 (CT ", posts)
	require.Contains(t, posts, "is ready: template nginx-web, requested by alice", posts)
	require.Contains(t, posts, "ops: 🔴 Creating web2 failed at create", posts)
	require.Contains(t, posts, "storage 'local-lvm' is full", posts)
}
