package app

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/examples/templates"
	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/store"
	"github.com/lxcbot/lxcbot/internal/testkit/chattest"
)

var (
	alice = provision.Principal{Platform: provision.PlatformConsole, UserID: "alice", Name: "alice"}
	ada   = provision.Principal{Platform: provision.PlatformConsole, UserID: "ada", Name: "ada"}
)

// runWorker runs the app's worker until the test ends, and checks that it
// returns once stopped.
func runWorker(t *testing.T, a *App) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.RunWorker(ctx, 2) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

// TestCreateThenManageThroughTheRouter drives the whole bot in-process the
// way a chat user does: plan, Create pressed twice, the job run by a worker
// and watched to ready, then show, services, credentials and every
// lifecycle action, ending with the delete form.
func TestCreateThenManageThroughTheRouter(t *testing.T) {
	sim := startSim(t)
	a := newApp(t, appOptions{templates: templates.FS, nodes: sim.Nodes(),
		roles: config.Roles{Operators: []provision.Principal{alice}}})
	runWorker(t, a)
	ctx := context.Background()
	u := &chattest.User{Router: a.Router(), Who: alice}

	plan := u.Command(t, "create nginx-web web1 --node pve1")
	chattest.RequireOK(t, plan)
	require.Contains(t, chattest.AllText(plan), "Create web1 from nginx-web?")
	create := chattest.Button(t, plan, commands.ActCreateConfirm)

	// The same Create pressed twice (two deliveries of the button) names
	// one container.
	first, second := u.Press(t, create), u.Press(t, create)
	chattest.RequireOK(t, first)
	chattest.RequireOK(t, second)
	require.NotNil(t, first.Watch)
	require.Nil(t, second.Watch, "one job card per container")
	require.Contains(t, chattest.AllText(second), "already being created")
	id := first.Watch.ContainerID

	updates, err := a.Router().Watch(ctx, id)
	require.NoError(t, err)
	var last commands.JobUpdate
	var phases []provision.Phase
	for up := range updates {
		last = up
		if up.Event.Type == provision.ProgressPhaseFinished {
			phases = append(phases, up.Event.Phase)
		}
	}
	require.True(t, last.Done)
	require.Equal(t, provision.ProgressReady, last.Event.Type, "%+v", last.Event)
	require.Equal(t, provision.Phases, phases)
	require.Contains(t, chattest.AllText(last.Card), "web1 is ready")

	all, err := a.Store().ListContainers(ctx, store.ContainerFilter{IncludeDeleted: true})
	require.NoError(t, err)
	require.Len(t, all, 1, "two presses of Create made one container")
	ct := all[0]
	require.Equal(t, provision.StateReady, ct.State)
	require.NotZero(t, ct.VMID)
	require.NotEmpty(t, ct.IP)

	show := u.Command(t, "show web1")
	chattest.RequireOK(t, show)
	require.Contains(t, chattest.AllText(show), "running")
	require.Contains(t, chattest.AllText(show), ct.IP)

	svcs := u.Command(t, "services web1")
	chattest.RequireOK(t, svcs)
	require.Contains(t, chattest.AllText(svcs), "nginx")

	creds := u.Command(t, "creds web1")
	chattest.RequireOK(t, creds)
	require.Equal(t, commands.Ephemeral, creds.Visibility)
	entries, err := a.Backend().AuditLog(ctx, commands.AuditQuery{Target: "web1"})
	require.NoError(t, err)
	audited := false
	for _, e := range entries {
		audited = audited || e.Command == "creds" && e.Actor.UserID == "alice" && e.Outcome == "ok"
	}
	require.True(t, audited, "the reveal is audited: %+v", entries)

	status := func() string {
		st, err := a.Backend().Status(ctx, id)
		require.NoError(t, err)
		return st.Status
	}
	stop := u.Command(t, "stop web1")
	chattest.RequireOK(t, stop)
	require.Equal(t, "running", status(), "stop asks first")
	chattest.RequireOK(t, u.Press(t, chattest.Button(t, stop, commands.ActStop)))
	require.Equal(t, "stopped", status())

	chattest.RequireOK(t, u.Command(t, "start web1"))
	require.Equal(t, "running", status())

	restart := u.Command(t, "restart web1")
	chattest.RequireOK(t, restart)
	done := u.Press(t, chattest.Button(t, restart, commands.ActRestart))
	chattest.RequireOK(t, done)
	require.Contains(t, chattest.AllText(done), "web1")
	require.Equal(t, "running", status())

	del := u.Command(t, "delete web1")
	chattest.RequireOK(t, del)
	require.NotNil(t, del.Form)
	wrong := u.Submit(t, del.Form, map[string]string{"hostname": "web2"})
	require.Contains(t, wrong.FormErrors, "hostname")
	_, onSim := sim.Guest(ct.VMID)
	require.True(t, onSim, "a wrong hostname deletes nothing")
	chattest.RequireOK(t, u.Submit(t, del.Form, map[string]string{"hostname": "web1"}))

	after, err := a.Store().GetContainer(ctx, id)
	require.NoError(t, err)
	require.Equal(t, provision.StateDeleted, after.State)
	_, onSim = sim.Guest(ct.VMID)
	require.False(t, onSim, "deleted on Proxmox too")
	gone := u.Command(t, "show web1")
	require.Equal(t, commands.OutcomeUserError, gone.Outcome, chattest.AllText(gone))
}
