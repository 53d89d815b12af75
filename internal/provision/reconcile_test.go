package provision_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
)

func TestReconcilerGoneDriftAndNodeHealth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newSimBundle(t)
	r := provision.NewReconciler(provision.ReconcilerDeps{Store: b.db, Nodes: b.pool, Locker: b.locker, Notifier: b.notes})
	kept := b.readyContainer(t, "pve1", 501, "kept")
	lost := b.readyContainer(t, "pve1", 502, "lost")
	far := b.readyContainer(t, "pve2", 503, "far")

	f, err := r.RunOnce(ctx)
	require.NoError(t, err)
	require.Empty(t, f.Gone)
	require.Empty(t, f.Drifted)
	require.Empty(t, f.NodesDown)

	// Deleted outside the bot.
	b.api(t, "POST", "/nodes/pve1/lxc/502/status/stop", nil)
	b.api(t, "DELETE", "/nodes/pve1/lxc/502", nil)
	// Renamed outside the bot.
	b.api(t, "PUT", "/nodes/pve1/lxc/501/config", map[string][]string{"hostname": {"renamed"}})

	f, err = r.RunOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{lost.ID}, f.Gone)
	require.Equal(t, []string{kept.ID}, f.Drifted)
	got, err := b.db.GetContainer(ctx, lost.ID)
	require.NoError(t, err)
	require.Equal(t, provision.StateGone, got.State)
	vmids, err := b.db.VMIDsOf(ctx, lost.ID)
	require.NoError(t, err)
	require.Empty(t, vmids)
	drift := b.notes.ofKind(provision.NotifyDrift)
	require.Len(t, drift, 2)

	// The same drift is announced once.
	f, err = r.RunOnce(ctx)
	require.NoError(t, err)
	require.Empty(t, f.Drifted)
	require.Len(t, b.notes.ofKind(provision.NotifyDrift), 2)

	// A node that stops answering: announced once, its containers are not
	// judged, and it is announced again once it is back.
	require.NoError(t, b.sim.SetNodeOnline("pve2", false))
	for range 2 {
		_, err = r.RunOnce(ctx)
		require.NoError(t, err)
	}
	got, err = b.db.GetContainer(ctx, far.ID)
	require.NoError(t, err)
	require.Equal(t, provision.StateReady, got.State)
	nodeNotes := b.notes.ofKind(provision.NotifyNode)
	require.Len(t, nodeNotes, 1)
	require.Equal(t, "pve2", nodeNotes[0].Node)
	require.Contains(t, nodeNotes[0].Text, "not answering")

	require.NoError(t, b.sim.SetNodeOnline("pve2", true))
	f, err = r.RunOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"pve2"}, f.NodesUp)
	_, err = r.RunOnce(ctx)
	require.NoError(t, err)
	nodeNotes = b.notes.ofKind(provision.NotifyNode)
	require.Len(t, nodeNotes, 2)
	require.Contains(t, nodeNotes[1].Text, "answering again")
}

// laterClock is an hour ahead, so every pending or creating container looks
// stuck.
type laterClock struct{}

func (laterClock) Now() time.Time { return time.Now().Add(time.Hour) }

// noJobs says no container has a live job.
type noJobs struct{}

func (noJobs) JobActive(context.Context, string) (bool, error) { return false, nil }

// enqueued records the creation jobs enqueued.
type enqueued struct {
	mu       sync.Mutex
	attempts []int
}

func (q *enqueued) EnqueueCreate(_ context.Context, _ string, attempt int) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.attempts = append(q.attempts, attempt)
	return nil
}
func (q *enqueued) CancelJob(context.Context, string) error               { return nil }
func (q *enqueued) CancelRequested(context.Context, string) (bool, error) { return false, nil }
func (q *enqueued) ClearCancel(context.Context, string) error             { return nil }

// TestReconcilerCountsOnlyResumesWithoutProgress: a stuck creation is failed
// after MaxResumes resumes in a row that finished no phase, not after
// MaxResumes over the job's whole life.
func TestReconcilerCountsOnlyResumesWithoutProgress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newSimBundle(t)
	q := &enqueued{}
	r := provision.NewReconciler(provision.ReconcilerDeps{Store: b.db, Nodes: b.pool, Queue: q, Jobs: noJobs{},
		Locker: b.locker, Notifier: b.notes, Clock: laterClock{}, Config: provision.ReconcileConfig{MaxResumes: 3}})
	creating := func(hostname string) provision.Container {
		c := &provision.Container{NodeName: "pve1", Hostname: hostname, TemplateName: "debian",
			Owner:   provision.Principal{Platform: provision.PlatformSlack, UserID: "U1", Name: "alice"},
			Origin:  provision.Origin{Platform: provision.PlatformSlack, WorkspaceID: "T1", ChannelID: "C1"},
			Request: provision.CreateRequest{Template: "debian", Hostname: hostname}}
		require.NoError(t, b.db.CreateContainer(ctx, c))
		require.NoError(t, b.db.TransitionContainer(ctx, c.ID, []provision.State{provision.StatePending}, provision.StateCreating))
		return *c
	}
	// finishPhase is what a resumed job that got one phase further leaves.
	finishPhase := func(id string, ph provision.Phase) {
		require.NoError(t, b.db.AppendEvent(ctx, &provision.Event{ContainerID: id, Type: provision.EventPhaseFinished,
			Phase: ph, Message: string(ph) + " finished", Actor: "system"}))
		require.NoError(t, b.db.CompletePhase(ctx, id, ph))
	}
	state := func(id string) provision.State {
		c, err := b.db.GetContainer(ctx, id)
		require.NoError(t, err)
		return c.State
	}

	t.Run("progress between resumes", func(t *testing.T) {
		c := creating("slow")
		for i, ph := range provision.Phases[:3] {
			f, err := r.RunOnce(ctx)
			require.NoError(t, err)
			require.Contains(t, f.Resumed, c.ID, "resume %d", i+1)
			finishPhase(c.ID, ph)
		}
		f, err := r.RunOnce(ctx)
		require.NoError(t, err)
		require.NotContains(t, f.Failed, c.ID, "each resume finished a phase")
		require.Contains(t, f.Resumed, c.ID)
		require.Equal(t, provision.StateCreating, state(c.ID))
	})

	t.Run("no progress between resumes", func(t *testing.T) {
		c := creating("wedged")
		finishPhase(c.ID, provision.Phases[0]) // progress before the resumes does not count
		for i := range 3 {
			f, err := r.RunOnce(ctx)
			require.NoError(t, err)
			require.Contains(t, f.Resumed, c.ID, "resume %d", i+1)
		}
		f, err := r.RunOnce(ctx)
		require.NoError(t, err)
		require.Contains(t, f.Failed, c.ID)
		require.Equal(t, provision.StateFailed, state(c.ID))
	})
}
