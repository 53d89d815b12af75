package provision_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/pvesim"
)

var bob = provision.Principal{Platform: provision.PlatformSlack, UserID: "U2", Name: "bob"}

func TestLifecycleActions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newSimBundle(t)
	lc := b.lifecycle(time.Second)
	c := b.readyContainer(t, "pve2", 201, "web1")

	res, err := lc.Do(ctx, bob, "web1", provision.ActionStop)
	require.NoError(t, err)
	require.Equal(t, "stopped (forced)", res.Outcome)
	ci, _ := b.sim.Container("pve2", 201)
	require.Equal(t, "stopped", ci.Status)

	res, err = lc.Do(ctx, bob, "201", provision.ActionStop)
	require.NoError(t, err)
	require.True(t, res.Noop)

	res, err = lc.Do(ctx, bob, c.ID, provision.ActionStart)
	require.NoError(t, err)
	require.Equal(t, "started", res.Outcome)
	ci, _ = b.sim.Container("pve2", 201)
	require.Equal(t, "running", ci.Status)

	res, err = lc.Do(ctx, bob, "web1", provision.ActionRestart)
	require.NoError(t, err)
	require.Equal(t, "rebooted", res.Outcome)
	require.False(t, res.Fallback)
	require.Equal(t, 1, b.sim.Counters().Rebooted["pve2"])

	res, err = lc.Do(ctx, bob, "web1", provision.ActionShutdown)
	require.NoError(t, err)
	require.Equal(t, "shut down gracefully", res.Outcome)
	require.False(t, res.Forced)

	// Every action is on the timeline with who did it.
	evs, err := b.db.ListEvents(ctx, c.ID, []provision.EventType{provision.EventAction}, 0)
	require.NoError(t, err)
	require.Len(t, evs, 5)
	for _, e := range evs {
		require.Equal(t, "slack:U2", e.Actor)
		require.Equal(t, "ok", e.Data["outcome"])
	}
	require.Len(t, b.notes.ofKind(provision.NotifyLifecycle), 5)
	note := b.notes.ofKind(provision.NotifyLifecycle)[0]
	require.Equal(t, "T1", note.Workspace)
	require.Equal(t, provision.PlatformSlack, note.Platform)
}

func TestLifecycleShutdownTimesOutThenForcesStop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newSimBundle(t)
	lc := b.lifecycle(time.Second)
	b.readyContainer(t, "pve1", 202, "stubborn")
	require.NoError(t, b.sim.SetIgnoreShutdown(202, true))

	res, err := lc.Do(ctx, bob, "stubborn", provision.ActionShutdown)
	require.NoError(t, err)
	require.True(t, res.Forced)
	require.Contains(t, res.Outcome, "forced stop")
	ci, _ := b.sim.Container("pve1", 202)
	require.Equal(t, "stopped", ci.Status)
}

func TestLifecycleRestartFallsBackToStopStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newSimBundle(t)
	lc := b.lifecycle(time.Second)
	b.readyContainer(t, "pve1", 203, "flaky")
	b.sim.FailTask(pvesimTaskFault("vzreboot", 203))

	res, err := lc.Do(ctx, bob, "flaky", provision.ActionRestart)
	require.NoError(t, err)
	require.True(t, res.Fallback)
	require.Contains(t, res.Outcome, "stopped and started")
	ci, _ := b.sim.Container("pve1", 203)
	require.Equal(t, "running", ci.Status)
}

func TestLifecycleDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newSimBundle(t)
	lc := b.lifecycle(time.Second)
	c := b.readyContainer(t, "pve1", 204, "doomed")

	res, err := lc.Do(ctx, bob, "doomed", provision.ActionDelete)
	require.NoError(t, err)
	require.Equal(t, "deleted", res.Outcome)
	require.Equal(t, provision.StateDeleted, res.Container.State)
	_, ok := b.sim.Container("pve1", 204)
	require.False(t, ok)
	del := b.sim.Requests()
	var sawPurge bool
	for _, r := range del {
		if r.Method == "DELETE" && r.Params["purge"] == "1" && r.Params["destroy-unreferenced-disks"] == "1" {
			sawPurge = true
		}
	}
	require.True(t, sawPurge, "DELETE with purge and destroy-unreferenced-disks")
	vmids, err := b.db.VMIDsOf(ctx, c.ID)
	require.NoError(t, err)
	require.Empty(t, vmids, "VMID reservation released")
	require.Len(t, b.notes.ofKind(provision.NotifyDeleted), 1)

	_, err = lc.Do(ctx, bob, c.ID, provision.ActionDelete)
	var ue *provision.UserError
	require.ErrorAs(t, err, &ue)
	require.Contains(t, ue.Msg, "already deleted")
}

func TestLifecycleDeleteAlreadyGone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newSimBundle(t)
	lc := b.lifecycle(time.Second)
	b.readyContainer(t, "pve1", 205, "vanished")
	b.api(t, "POST", "/nodes/pve1/lxc/205/status/stop", nil)
	b.api(t, "DELETE", "/nodes/pve1/lxc/205", nil)

	res, err := lc.Do(ctx, bob, "vanished", provision.ActionDelete)
	require.NoError(t, err)
	require.True(t, res.Noop)
	require.Contains(t, res.Outcome, "already gone")
	require.Equal(t, provision.StateDeleted, res.Container.State)
}

func TestLifecycleRefusedWhileLocked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newSimBundle(t)
	lc := b.lifecycle(time.Second)
	c := b.readyContainer(t, "pve1", 206, "busy")
	since := time.Now().Add(-time.Minute).Truncate(time.Second)
	lock, err := b.locker.Acquire(ctx, provision.ContainerLockKey(c.ID),
		provision.LockHolder{Who: "carol", Action: "shutdown", Since: since}, time.Minute)
	require.NoError(t, err)

	_, err = lc.Do(ctx, bob, "busy", provision.ActionStop)
	var locked *provision.LockedError
	require.ErrorAs(t, err, &locked)
	require.Equal(t, "carol", locked.Holder.Who)
	require.Equal(t, "shutdown", locked.Holder.Action)
	require.True(t, locked.Holder.Since.Equal(since))
	ci, _ := b.sim.Container("pve1", 206)
	require.Equal(t, "running", ci.Status, "nothing was done")

	require.NoError(t, lock.Release(ctx))
	_, err = lc.Do(ctx, bob, "busy", provision.ActionStop)
	require.NoError(t, err)
}

func TestLifecycleStateRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newSimBundle(t)
	lc := b.lifecycle(time.Second)
	c := &provision.Container{Hostname: "newborn", TemplateName: "debian", NodeName: "pve1",
		Owner: bob, Origin: provision.Origin{Platform: provision.PlatformSlack},
		Request: provision.CreateRequest{Template: "debian", Hostname: "newborn"}}
	require.NoError(t, b.db.CreateContainer(ctx, c))

	_, err := lc.Do(ctx, bob, "newborn", provision.ActionStart)
	var ue *provision.UserError
	require.ErrorAs(t, err, &ue)
	require.Contains(t, ue.Msg, "still being created")
	require.True(t, errors.Is(err, provision.ErrConflict))

	_, err = lc.Do(ctx, bob, "nosuch", provision.ActionStart)
	require.ErrorAs(t, err, &ue)
	require.True(t, errors.Is(err, provision.ErrNotFound))
}

func pvesimTaskFault(typ string, vmid int) pvesim.TaskFault {
	return pvesim.TaskFault{Type: typ, VMID: vmid, Message: "simulated " + typ + " failure"}
}
