package proxmox

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/pvesim"
)

func TestDomainAdapterAgainstSimulator(t *testing.T) {
	t.Parallel()
	b := setup(t, pvesim.Options{Nodes: 2})
	ctx := t.Context()
	node := provision.Node{Name: "pve1", APIURL: b.cfg.APIURL, TokenID: b.cfg.TokenID,
		TokenSecret: b.cfg.TokenSecret, TLSFingerprint: b.cfg.TLSFingerprint}
	pve, err := Factory(nil, func(c *Config) { c.TaskPollInterval = b.cfg.TaskPollInterval })(ctx, node)
	require.NoError(t, err)

	tmpls, err := pve.OSTemplates(ctx, "pve1")
	require.NoError(t, err)
	require.Contains(t, tmpls, debianTemplate)

	spec := provision.CreateSpec{
		VMID: 200, Hostname: "app", OSTemplate: debianTemplate, Cores: 1, MemoryMiB: 512, SwapMiB: 0,
		RootFS: "local-lvm:4", Net0: "name=eth0,bridge=vmbr1,ip=dhcp", Password: "x-random-pw",
		Unprivileged: true, Keyctl: true, Tags: []string{"app"}, Description: "requested by alice",
	}
	upid, err := pve.CreateContainer(ctx, "pve1", spec)
	require.NoError(t, err)
	require.NoError(t, pve.WaitTask(ctx, "pve1", upid))

	_, err = pve.CreateContainer(ctx, "pve2", spec)
	require.ErrorIs(t, err, provision.ErrVMIDExists)

	bad := spec
	bad.VMID, bad.Net0 = 201, "name=eth0,bridge=vmbr0,ip=dhcp,firewall=0"
	_, err = pve.CreateContainer(ctx, "pve1", bad)
	require.ErrorIs(t, err, provision.ErrInvalid)

	exists, err := pve.VMIDExists(ctx, 200)
	require.NoError(t, err)
	require.True(t, exists)
	used, err := pve.UsedVMIDs(ctx)
	require.NoError(t, err)
	require.Equal(t, []int{200}, used)

	desc, err := pve.Description(ctx, "pve1", 200)
	require.NoError(t, err)
	require.Contains(t, desc, "requested by alice")
	require.Contains(t, desc, DescriptionMarker)

	require.NoError(t, pve.EnsureRunning(ctx, "pve1", 200))
	ifs, err := pve.Interfaces(ctx, "pve1", 200)
	require.NoError(t, err)
	var eth0 provision.NetInterface
	for _, i := range ifs {
		if i.Name == "eth0" {
			eth0 = i
		}
	}
	require.Len(t, eth0.IPv4, 1)

	require.NoError(t, pve.Destroy(ctx, "pve1", 200), "a running container is stopped, then deleted")
	_, ok := b.sim.Container("pve1", 200)
	require.False(t, ok)
	require.NoError(t, pve.Destroy(ctx, "pve1", 200), "already gone counts as destroyed")
	_, err = pve.Description(ctx, "pve1", 200)
	require.ErrorIs(t, err, provision.ErrNotFound)
}
