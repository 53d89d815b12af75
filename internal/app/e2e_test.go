package app

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/examples/templates"
	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/store"
)

var (
	alice = provision.Principal{Platform: provision.PlatformConsole, UserID: "alice", Name: "alice"}
	ada   = provision.Principal{Platform: provision.PlatformConsole, UserID: "ada", Name: "ada"}
)

// chat sends requests to a router the way a chat adapter does: each with a
// delivery id of its own.
type chat struct {
	r   *commands.Router
	who provision.Principal
	n   atomic.Int64
}

func (c *chat) req(kind commands.RequestKind) commands.Request {
	return commands.Request{Principal: c.who, Platform: c.who.Platform, Workspace: "console", Channel: "general",
		Kind: kind, DeliveryID: fmt.Sprintf("d%d", c.n.Add(1)), ReceivedAt: time.Now()}
}

func (c *chat) command(t *testing.T, text string) commands.Response {
	t.Helper()
	rq := c.req(commands.KindCommand)
	rq.Text = text
	resp := c.r.Handle(context.Background(), rq)
	require.NoError(t, commands.Validate(resp))
	return resp
}

func (c *chat) press(t *testing.T, b commands.Button) commands.Response {
	t.Helper()
	rq := c.req(commands.KindAction)
	rq.Action = commands.ActionPayload{ID: b.ActionID, Value: b.Value}
	resp := c.r.Handle(context.Background(), rq)
	require.NoError(t, commands.Validate(resp))
	return resp
}

func (c *chat) submit(t *testing.T, f *commands.Form, values map[string]string) commands.Response {
	t.Helper()
	rq := c.req(commands.KindFormSubmit)
	rq.Form = commands.FormSubmission{FormID: f.ID, State: f.State, Values: values}
	resp := c.r.Handle(context.Background(), rq)
	require.NoError(t, commands.Validate(resp))
	return resp
}

func requireOK(t *testing.T, r commands.Response) {
	t.Helper()
	require.Equal(t, commands.OutcomeOK, r.Outcome, allText(r))
}

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
	u := &chat{r: a.Router(), who: alice}

	plan := u.command(t, "create nginx-web web1 --node pve1")
	requireOK(t, plan)
	require.Contains(t, allText(plan), "Create web1 from nginx-web?")
	create := button(t, plan, commands.ActCreateConfirm)

	// The same Create pressed twice (two deliveries of the button) names
	// one container.
	first, second := u.press(t, create), u.press(t, create)
	requireOK(t, first)
	requireOK(t, second)
	require.NotNil(t, first.Watch)
	require.Nil(t, second.Watch, "one job card per container")
	require.Contains(t, allText(second), "already being created")
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
	require.Contains(t, allText(last.Card), "web1 is ready")

	all, err := a.Store().ListContainers(ctx, store.ContainerFilter{IncludeDeleted: true})
	require.NoError(t, err)
	require.Len(t, all, 1, "two presses of Create made one container")
	ct := all[0]
	require.Equal(t, provision.StateReady, ct.State)
	require.NotZero(t, ct.VMID)
	require.NotEmpty(t, ct.IP)

	show := u.command(t, "show web1")
	requireOK(t, show)
	require.Contains(t, allText(show), "running")
	require.Contains(t, allText(show), ct.IP)

	svcs := u.command(t, "services web1")
	requireOK(t, svcs)
	require.Contains(t, allText(svcs), "nginx")

	creds := u.command(t, "creds web1")
	requireOK(t, creds)
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
	stop := u.command(t, "stop web1")
	requireOK(t, stop)
	require.Equal(t, "running", status(), "stop asks first")
	requireOK(t, u.press(t, button(t, stop, commands.ActStop)))
	require.Equal(t, "stopped", status())

	requireOK(t, u.command(t, "start web1"))
	require.Equal(t, "running", status())

	restart := u.command(t, "restart web1")
	requireOK(t, restart)
	done := u.press(t, button(t, restart, commands.ActRestart))
	requireOK(t, done)
	require.Contains(t, allText(done), "web1")
	require.Equal(t, "running", status())

	del := u.command(t, "delete web1")
	requireOK(t, del)
	require.NotNil(t, del.Form)
	wrong := u.submit(t, del.Form, map[string]string{"hostname": "web2"})
	require.Contains(t, wrong.FormErrors, "hostname")
	_, onSim := sim.Guest(ct.VMID)
	require.True(t, onSim, "a wrong hostname deletes nothing")
	requireOK(t, u.submit(t, del.Form, map[string]string{"hostname": "web1"}))

	after, err := a.Store().GetContainer(ctx, id)
	require.NoError(t, err)
	require.Equal(t, provision.StateDeleted, after.State)
	_, onSim = sim.Guest(ct.VMID)
	require.False(t, onSim, "deleted on Proxmox too")
	gone := u.command(t, "show web1")
	require.Equal(t, commands.OutcomeUserError, gone.Outcome, allText(gone))
}
