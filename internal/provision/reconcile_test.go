package provision_test

import (
	"context"
	"testing"

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
