package pvesim

import (
	"context"
	"strings"
	"testing"
	"time"

	proxmox "github.com/luthermonson/go-proxmox"
	"github.com/stretchr/testify/require"
)

// botCreateOptions are the options the bot sends when it creates a container.
func botCreateOptions() []proxmox.ContainerOption {
	return []proxmox.ContainerOption{
		{Name: "ostemplate", Value: "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"},
		{Name: "hostname", Value: "web-1"},
		{Name: "cores", Value: 2},
		{Name: "memory", Value: 1024},
		{Name: "swap", Value: 256},
		{Name: "rootfs", Value: "local-lvm:8"},
		{Name: "net0", Value: "name=eth0,bridge=vmbr0,ip=dhcp"},
		{Name: "nameserver", Value: "1.1.1.1"},
		{Name: "searchdomain", Value: "example.internal"},
		{Name: "ssh-public-keys", Value: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDummy user@host\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOther other@host"},
		{Name: "password", Value: "s3cret-pass"},
		{Name: "unprivileged", Value: true},
		{Name: "features", Value: "nesting=1,keyctl=1,fuse=1"},
		{Name: "onboot", Value: true},
		{Name: "tags", Value: "lxcbot;web"},
		{Name: "description", Value: "created by lxcbot"},
		{Name: "start", Value: false},
	}
}

func waitOK(ctx context.Context, t *testing.T, task *proxmox.Task) {
	t.Helper()
	require.NotNil(t, task)
	require.NoError(t, task.Wait(ctx, 10*time.Millisecond, 30*time.Second))
	require.True(t, task.IsSuccessful, "task %s: %s", task.UPID, task.ExitStatus)
	require.False(t, task.IsFailed)
}

func TestGoProxmoxLifecycle(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"fast", Options{Nodes: 2, Seed: 1}},
		{"async", Options{Nodes: 2, Seed: 2, TaskDuration: 20 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runLifecycle(t, setup(t, tc.opts))
		})
	}
}

func runLifecycle(t *testing.T, b *testBundle) {
	ctx := context.Background()
	client := b.tokenClient()

	v, err := client.Version(ctx)
	require.NoError(t, err)
	require.Equal(t, "8.4", v.Release)

	nodes, err := client.Nodes(ctx)
	require.NoError(t, err)
	require.Len(t, nodes, 2)
	require.Equal(t, "pve1", nodes[0].Node)
	require.Equal(t, "online", nodes[0].Status)

	node, err := client.Node(ctx, "pve2")
	require.NoError(t, err)
	require.Equal(t, "pve2", node.Name)
	require.NotZero(t, node.Memory.Total)

	cluster, err := client.Cluster(ctx)
	require.NoError(t, err)
	vmid, err := cluster.NextID(ctx)
	require.NoError(t, err)
	require.Equal(t, 100, vmid)

	tmpls, err := node.VzTmpls(ctx, "local")
	require.NoError(t, err)
	require.NotEmpty(t, tmpls)

	task, err := node.NewContainer(ctx, vmid, botCreateOptions()...)
	require.NoError(t, err)
	waitOK(ctx, t, task)
	require.Equal(t, "vzcreate", task.Type)

	ct, err := node.Container(ctx, vmid)
	require.NoError(t, err)
	require.Equal(t, "stopped", ct.Status)
	require.Equal(t, "web-1", ct.Name)
	cfg := ct.ContainerConfig
	require.Equal(t, "local-lvm:vm-100-disk-0,size=8G", cfg.RootFS)
	require.Regexp(t, `^name=eth0,bridge=vmbr0,hwaddr=BC:24:11:[0-9A-F:]{8},ip=dhcp,type=veth$`, cfg.Nets["net0"])
	require.Equal(t, "fuse=1,keyctl=1,nesting=1", cfg.Features)
	require.Equal(t, "created by lxcbot\n", cfg.Description)
	require.Equal(t, "lxcbot;web", cfg.Tags)
	require.Equal(t, 2, cfg.Cores)
	require.Equal(t, "debian", cfg.OSType)

	// The same vmid again: real PVE refuses synchronously.
	_, err = node.NewContainer(ctx, vmid, botCreateOptions()...)
	require.ErrorContains(t, err, "500 CT 100 already exists on node 'pve2'")

	ifaces, err := ct.Interfaces(ctx)
	require.NoError(t, err)
	require.Empty(t, ifaces, "a stopped container has no interfaces")

	task, err = ct.Start(ctx)
	require.NoError(t, err)
	waitOK(ctx, t, task)

	_, err = ct.Start(ctx)
	require.EqualError(t, err, "500 CT 100 already running")

	require.NoError(t, ct.Ping(ctx))
	require.Equal(t, "running", ct.Status)

	ifaces, err = ct.Interfaces(ctx)
	require.NoError(t, err)
	require.Len(t, ifaces, 2)
	require.Equal(t, "lo", ifaces[0].Name)
	require.Equal(t, "eth0", ifaces[1].Name)
	require.Equal(t, "10.10.2.2/24", ifaces[1].Inet)
	info, ok := b.c.Container("pve2", vmid)
	require.True(t, ok)
	require.Equal(t, "10.10.2.2", info.IP)

	cfgTask, err := ct.Config(ctx, proxmox.ContainerOption{Name: "memory", Value: 2048})
	require.NoError(t, err)
	require.Nil(t, cfgTask, "PUT config answers null, not a UPID")
	ct, err = node.Container(ctx, vmid)
	require.NoError(t, err)
	require.Equal(t, 2048, *ct.ContainerConfig.Memory)

	task, err = ct.Reboot(ctx)
	require.NoError(t, err)
	waitOK(ctx, t, task)

	task, err = ct.Shutdown(ctx, true, 30)
	require.NoError(t, err)
	waitOK(ctx, t, task)
	require.NoError(t, ct.Ping(ctx))
	require.Equal(t, "stopped", ct.Status)

	task, err = ct.Start(ctx)
	require.NoError(t, err)
	waitOK(ctx, t, task)
	task, err = ct.Stop(ctx)
	require.NoError(t, err)
	waitOK(ctx, t, task)

	_, err = ct.Stop(ctx)
	require.EqualError(t, err, "500 CT 100 not running")

	task, err = ct.Delete(ctx, &proxmox.ContainerDeleteOptions{Purge: true, DestroyUnreferencedDisks: true, Force: true})
	require.NoError(t, err)
	waitOK(ctx, t, task)

	_, err = node.Container(ctx, vmid)
	require.EqualError(t, err, "500 Configuration file 'nodes/pve2/lxc/100.conf' does not exist")

	k := b.c.Counters()
	require.Equal(t, 1, k.Created["pve2"])
	require.Equal(t, 2, k.Started["pve2"])
	require.Equal(t, 2, k.Stopped["pve2"])
	require.Equal(t, 1, k.Rebooted["pve2"])
	require.Equal(t, 1, k.Deleted["pve2"])
	require.Equal(t, 1, k.Tasks["vzcreate"])

	// The password reached the simulator but is neither stored nor recorded.
	for _, r := range b.c.Requests() {
		if r.Method == "POST" && r.Template == "/nodes/{node}/lxc" {
			require.Equal(t, "<redacted>", r.Params["password"])
		}
	}
}

func TestGoProxmoxTaskFailure(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Nodes: 1})
	ctx := context.Background()
	node, err := b.tokenClient().Node(ctx, "pve1")
	require.NoError(t, err)

	task, err := node.NewContainer(ctx, 150, proxmox.ContainerOption{Name: "ostemplate", Value: "local:vztmpl/missing.tar.zst"})
	require.NoError(t, err, "a create with a missing template still returns a UPID")
	require.NoError(t, task.Wait(ctx, 10*time.Millisecond, 30*time.Second))
	require.True(t, task.IsFailed)
	require.False(t, task.IsSuccessful)
	require.Equal(t, "unable to create CT 150 - volume 'local:vztmpl/missing.tar.zst' does not exist", task.ExitStatus)

	_, ok := b.c.FindContainer(150)
	require.False(t, ok, "a failed create leaves no container")
}

func TestGoProxmoxTicketAuth(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Nodes: 1})
	ctx := context.Background()
	client := proxmox.NewClient(b.url,
		proxmox.WithCredentials(&proxmox.Credentials{Username: "root@pam", Password: "pvesim"}),
		proxmox.WithHTTPClient(pinnedClient(b.srv.Fingerprint())))

	v, err := client.Version(ctx)
	require.NoError(t, err)
	require.Equal(t, "8.4.14", v.Version)

	node, err := client.Node(ctx, "pve1")
	require.NoError(t, err)
	task, err := node.NewContainer(ctx, 0,
		proxmox.ContainerOption{Name: "ostemplate", Value: "local:vztmpl/alpine-3.20-default_20240908_amd64.tar.xz"},
		proxmox.ContainerOption{Name: "net0", Value: "name=eth0,bridge=vmbr0,ip=10.0.0.5/24,gw=10.0.0.1"},
		proxmox.ContainerOption{Name: "start", Value: true})
	require.NoError(t, err, "POST with ticket and CSRF token")
	waitOK(ctx, t, task)
	require.Equal(t, "root@pam", task.User)

	info, ok := b.c.Container("pve1", 100)
	require.True(t, ok)
	require.Equal(t, "running", info.Status)
	require.Equal(t, "10.0.0.5", info.IP)
	require.Equal(t, "CT100", info.Hostname)

	bad := proxmox.NewClient(b.url,
		proxmox.WithCredentials(&proxmox.Credentials{Username: "root@pam", Password: "wrong"}),
		proxmox.WithHTTPClient(pinnedClient(b.srv.Fingerprint())))
	_, err = bad.Version(ctx)
	require.ErrorIs(t, err, proxmox.ErrNotAuthorized)

	var sawLogin bool
	for _, r := range b.c.Requests() {
		if r.Path == "/access/ticket" {
			sawLogin = true
			require.Equal(t, "<redacted>", r.Params["password"])
		}
	}
	require.True(t, sawLogin)
}

func TestFingerprintPinningRejectsOtherCertificates(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Nodes: 1})
	client := proxmox.NewClient(b.url,
		proxmox.WithAPIToken(b.c.Options().TokenID, b.c.Options().TokenSecret),
		proxmox.WithHTTPClient(pinnedClient(strings.Repeat("AB:", 31)+"AB")))
	_, err := client.Version(context.Background())
	require.ErrorContains(t, err, "fingerprint mismatch")
	require.Regexp(t, `^([0-9A-F]{2}:){31}[0-9A-F]{2}$`, b.srv.Fingerprint())
}
