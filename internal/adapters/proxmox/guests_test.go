package proxmox

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/pvesim"
)

// TestNodeGuestsReadsOnlyTheNodesOwnList: listing the guests of every node
// reads each node's list once, never the whole cluster's resources per
// node (with 10 nodes that was 10 reads of every guest in the cluster).
func TestNodeGuestsReadsOnlyTheNodesOwnList(t *testing.T) {
	t.Parallel()
	b := setup(t, pvesim.Options{Nodes: 3})
	ctx := t.Context()
	d := b.client.Domain()
	perNode := map[string][]int{"pve1": {101, 102}, "pve2": {201}, "pve3": {301, 302, 303}}
	for node, vmids := range perNode {
		for _, vmid := range vmids {
			spec := CreateSpec{VMID: vmid, OSTemplate: debianTemplate, Hostname: "g" + node, Storage: "local-lvm", DiskGiB: 4, Cores: 2}
			upid, err := b.client.CreateContainer(ctx, node, spec)
			require.NoError(t, err)
			require.NoError(t, b.client.WaitTask(ctx, node, upid))
		}
	}
	b.sim.ResetRecord()

	for node, vmids := range perNode {
		gs, err := d.NodeGuests(ctx, node)
		require.NoError(t, err)
		var got []int
		for _, g := range gs {
			require.Equal(t, node, g.Node)
			require.Equal(t, "stopped", g.Status)
			require.Equal(t, 2, g.CPUs)
			require.NotZero(t, g.MemTotal)
			got = append(got, g.VMID)
		}
		require.ElementsMatch(t, vmids, got)
	}

	reads := map[string]int{}
	for _, r := range b.sim.Requests() {
		require.NotEqual(t, "/cluster/resources", r.Path, "no whole-cluster read")
		reads[r.Method+" "+r.Path]++
	}
	require.Equal(t, map[string]int{"GET /nodes/pve1/lxc": 1, "GET /nodes/pve2/lxc": 1, "GET /nodes/pve3/lxc": 1}, reads)

	// A node that is down is reported at once, without retries.
	require.NoError(t, b.sim.SetNodeOnline("pve2", false))
	b.sim.ResetRecord()
	_, err := d.NodeGuests(ctx, "pve2")
	require.ErrorIs(t, err, provision.ErrUnavailable)
	require.Len(t, b.sim.Requests(), 1)

	_, err = d.NodeGuests(ctx, "pve9")
	require.ErrorIs(t, err, provision.ErrNotFound)
}
