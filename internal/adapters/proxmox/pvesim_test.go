package proxmox

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/pvesim"
)

const debianTemplate = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"

func fullSpec(vmid int) CreateSpec {
	return CreateSpec{
		VMID:          vmid,
		OSTemplate:    debianTemplate,
		Hostname:      "web-1",
		Cores:         2,
		MemoryMiB:     1024,
		SwapMiB:       256,
		Storage:       "local-lvm",
		DiskGiB:       8,
		Bridge:        "vmbr0",
		IP:            "10.0.0.50/24",
		Gateway:       "10.0.0.1",
		Nameserver:    "1.1.1.1 9.9.9.9",
		SearchDomain:  "lab.example",
		SSHPublicKeys: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDx alice@laptop\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDy bob@desk",
		Password:      "r00t-pw-random",
		Unprivileged:  true,
		Nesting:       true,
		Keyctl:        true,
		Fuse:          true,
		Onboot:        true,
		Tags:          []string{"web", "Team-A"},
		Description:   "Web server for team A",
	}
}

func TestLifecycleAgainstSimulator(t *testing.T) {
	t.Parallel()
	b := setup(t, pvesim.Options{Nodes: 2})
	c, ctx := b.client, t.Context()

	v, err := c.Version(ctx)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(v.Version, "8."), v.Version)

	nodes, err := c.Nodes(ctx)
	require.NoError(t, err)
	require.Len(t, nodes, 2)
	require.Equal(t, "pve1", nodes[0].Name)
	require.True(t, nodes[0].Online())

	tmpls, err := c.OSTemplates(ctx, "pve1")
	require.NoError(t, err)
	var names []string
	for _, tm := range tmpls {
		names = append(names, tm.VolID)
	}
	require.Contains(t, names, debianTemplate)

	vmid, err := c.NextID(ctx)
	require.NoError(t, err)
	exists, err := c.VMIDExists(ctx, vmid)
	require.NoError(t, err)
	require.False(t, exists)

	upid, err := c.CreateContainer(ctx, "pve1", fullSpec(vmid))
	require.NoError(t, err)
	require.NoError(t, c.WaitTask(ctx, "pve1", upid))

	exists, err = c.VMIDExists(ctx, vmid)
	require.NoError(t, err)
	require.True(t, exists)

	conf, err := c.Config(ctx, "pve1", vmid)
	require.NoError(t, err)
	require.Equal(t, "web-1", conf["hostname"])
	require.Equal(t, "2", conf["cores"])
	require.Equal(t, "1024", conf["memory"])
	require.Equal(t, "256", conf["swap"])
	require.Contains(t, conf["rootfs"], "size=8G")
	require.Contains(t, conf["net0"], "bridge=vmbr0")
	require.Contains(t, conf["net0"], "ip=10.0.0.50/24")
	require.Contains(t, conf["net0"], "gw=10.0.0.1")
	require.Equal(t, "1.1.1.1 9.9.9.9", conf["nameserver"])
	require.Equal(t, "lab.example", conf["searchdomain"])
	require.Equal(t, "1", conf["unprivileged"])
	require.Equal(t, "1", conf["onboot"])
	for _, f := range []string{"nesting=1", "keyctl=1", "fuse=1"} {
		require.Contains(t, conf["features"], f)
	}
	require.Contains(t, conf["description"], "Web server for team A")
	require.Contains(t, conf["description"], DescriptionMarker)
	require.NotContains(t, conf, "password", "PVE never stores the password")

	var createReq pvesim.Request
	for _, r := range b.sim.Requests() {
		if r.Method == "POST" && r.Template == "/nodes/{node}/lxc" {
			createReq = r
		}
	}
	require.Contains(t, createReq.Params["ssh-public-keys"], "alice@laptop\nssh-ed25519")
	require.Equal(t, "<redacted>", createReq.Params["password"], "a password was sent (the simulator hides its value)")

	all, err := c.ClusterContainers(ctx)
	require.NoError(t, err)
	require.Len(t, all, 1)
	require.Equal(t, "pve1", all[0].Node)
	require.True(t, IsManaged(all[0].Tags))
	require.Contains(t, all[0].Tags, "team-a")

	st, err := c.Status(ctx, "pve1", vmid)
	require.NoError(t, err)
	require.Equal(t, "stopped", st.Status)
	ifs, err := c.Interfaces(ctx, "pve1", vmid)
	require.NoError(t, err)
	require.Empty(t, ifs)

	require.NoError(t, c.EnsureRunning(ctx, "pve1", vmid))
	require.NoError(t, c.EnsureRunning(ctx, "pve1", vmid), "starting a running container is a no-op")
	st, err = c.Status(ctx, "pve1", vmid)
	require.NoError(t, err)
	require.True(t, st.Running())
	require.Equal(t, "web-1", st.Name)
	require.Equal(t, uint64(1024)<<20, st.MaxMem)

	ifs, err = c.Interfaces(ctx, "pve1", vmid)
	require.NoError(t, err)
	var eth0 Interface
	for _, i := range ifs {
		if i.Name == "eth0" {
			eth0 = i
		}
	}
	require.Equal(t, "10.0.0.50/24", eth0.Inet)

	upid, err = c.Shutdown(ctx, "pve1", vmid, 30*time.Second, true)
	require.NoError(t, err)
	require.NoError(t, c.WaitTask(ctx, "pve1", upid))
	shutdownReq := lastRequest(t, b.sim, "POST", "/nodes/{node}/lxc/{vmid}/status/shutdown")
	require.Equal(t, "30", shutdownReq.Params["timeout"])
	require.Equal(t, "1", shutdownReq.Params["forceStop"])
	st, err = c.Status(ctx, "pve1", vmid)
	require.NoError(t, err)
	require.Equal(t, "stopped", st.Status)

	_, err = c.Reboot(ctx, "pve1", vmid)
	require.ErrorIs(t, err, ErrNotRunning)

	upid, err = c.Start(ctx, "pve1", vmid)
	require.NoError(t, err)
	require.NoError(t, c.WaitTask(ctx, "", upid))
	upid, err = c.Reboot(ctx, "pve1", vmid)
	require.NoError(t, err)
	require.NoError(t, c.WaitTask(ctx, "pve1", upid))
	require.Equal(t, 1, b.sim.Counters().Rebooted["pve1"])

	require.NoError(t, c.EnsureStopped(ctx, "pve1", vmid))
	require.NoError(t, c.EnsureStopped(ctx, "pve1", vmid), "stopping a stopped container is a no-op")

	upid, err = c.Delete(ctx, "pve1", vmid)
	require.NoError(t, err)
	require.NoError(t, c.WaitTask(ctx, "pve1", upid))
	delReq := lastRequest(t, b.sim, "DELETE", "/nodes/{node}/lxc/{vmid}")
	require.Equal(t, "1", delReq.Params["purge"])
	require.Equal(t, "1", delReq.Params["destroy-unreferenced-disks"])
	require.Empty(t, delReq.Params["force"])

	_, err = c.Delete(ctx, "pve1", vmid)
	require.ErrorIs(t, err, provision.ErrNotFound, "a second delete finds it already gone")
	_, err = c.Status(ctx, "pve1", vmid)
	require.ErrorIs(t, err, provision.ErrNotFound)
}

func lastRequest(t *testing.T, sim *pvesim.Cluster, method, template string) pvesim.Request {
	t.Helper()
	reqs := sim.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Method == method && reqs[i].Template == template {
			return reqs[i]
		}
	}
	t.Fatalf("no %s %s request recorded", method, template)
	return pvesim.Request{}
}

func TestCreateConflictsAndDHCP(t *testing.T) {
	t.Parallel()
	b := setup(t, pvesim.Options{Nodes: 2})
	c, ctx := b.client, t.Context()

	spec := CreateSpec{VMID: 120, OSTemplate: debianTemplate, Hostname: "dhcp-box", Storage: "local-lvm", DiskGiB: 4, Unprivileged: true}
	upid, err := c.CreateContainer(ctx, "pve1", spec)
	require.NoError(t, err)
	require.NoError(t, c.WaitTask(ctx, "pve1", upid))
	conf, err := c.Config(ctx, "pve1", 120)
	require.NoError(t, err)
	require.Contains(t, conf["net0"], "ip=dhcp")
	require.Equal(t, MarkerTag, conf["tags"])
	require.Empty(t, conf["features"])

	// The same VMID on another node: PVE checks cluster-wide.
	_, err = c.CreateContainer(ctx, "pve2", spec)
	require.ErrorIs(t, err, ErrVMIDExists)
	require.ErrorContains(t, err, "CT 120 already exists on node 'pve1'")

	require.NoError(t, c.EnsureRunning(ctx, "pve1", 120))
	ifs, err := c.Interfaces(ctx, "pve1", 120)
	require.NoError(t, err)
	var leased bool
	for _, i := range ifs {
		leased = leased || (i.Name == "eth0" && i.Inet != "")
	}
	require.True(t, leased, "a DHCP lease shows up once running: %+v", ifs)

	list, err := c.ListContainers(ctx, "pve1")
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, 120, list[0].VMID)
	require.Equal(t, "running", list[0].Status)
}

func TestCreateRejectsInjection(t *testing.T) {
	t.Parallel()
	base := CreateSpec{VMID: 130, OSTemplate: debianTemplate, Storage: "local-lvm", DiskGiB: 4}
	for name, mod := range map[string]func(*CreateSpec){
		"bridge with extra keys": func(s *CreateSpec) { s.Bridge = "vmbr0,firewall=0" },
		"storage with size":      func(s *CreateSpec) { s.Storage = "local-lvm:100,x" },
		"bad CIDR":               func(s *CreateSpec) { s.IP = "10.0.0.5" },
		"gateway with DHCP":      func(s *CreateSpec) { s.Gateway = "10.0.0.1" },
		"mixed families":         func(s *CreateSpec) { s.IP = "10.0.0.5/24"; s.Gateway = "fe80::1" },
		"bad nameserver":         func(s *CreateSpec) { s.Nameserver = "1.1.1.1;reboot" },
		"bad tag":                func(s *CreateSpec) { s.Tags = []string{"a;b"} },
		"low vmid":               func(s *CreateSpec) { s.VMID = 42 },
	} {
		s := base
		mod(&s)
		_, err := s.params()
		require.ErrorIs(t, err, provision.ErrInvalid, name)
	}
	s := base
	s.IP, s.Gateway = "2001:db8::5/64", "2001:db8::1"
	p, err := s.params()
	require.NoError(t, err)
	require.Equal(t, "name=eth0,bridge=vmbr0,ip6=2001:db8::5/64,gw6=2001:db8::1", p["net0"])
}

func TestFailedTaskCarriesExitStatusAndLog(t *testing.T) {
	t.Parallel()
	b := setup(t, pvesim.Options{Nodes: 1})
	c, ctx := b.client, t.Context()

	upid, err := c.CreateContainer(ctx, "pve1", CreateSpec{VMID: 140, OSTemplate: "local:vztmpl/missing.tar.zst", Storage: "local-lvm", DiskGiB: 4})
	require.NoError(t, err, "PVE accepts the call; the task fails")
	err = c.WaitTask(ctx, "pve1", upid)
	var taskErr *TaskError
	require.ErrorAs(t, err, &taskErr)
	require.Equal(t, "vzcreate", taskErr.Type)
	require.Contains(t, taskErr.ExitStatus, "does not exist")
	require.NotEmpty(t, taskErr.Log)
	require.Equal(t, "TASK ERROR: "+taskErr.ExitStatus, taskErr.Log[len(taskErr.Log)-1])

	upid, err = c.CreateContainer(ctx, "pve1", CreateSpec{VMID: 141, OSTemplate: debianTemplate, Storage: "local-lvm", DiskGiB: 4})
	require.NoError(t, err)
	require.NoError(t, c.WaitTask(ctx, "pve1", upid))
	b.sim.FailTask(pvesim.TaskFault{Type: "vzstart", VMID: 141, Message: "startup for container '141' failed"})
	err = c.EnsureRunning(ctx, "pve1", 141)
	require.ErrorAs(t, err, &taskErr)
	require.Equal(t, "startup for container '141' failed", taskErr.ExitStatus)
	require.Equal(t, "TASK ERROR: startup for container '141' failed", taskErr.Log[len(taskErr.Log)-1])
	require.ErrorContains(t, err, "starting CT 141 on pve1: task vzstart failed: startup for container '141' failed")
}

func TestSlowTasksAreWaitedFor(t *testing.T) {
	t.Parallel()
	b := setup(t, pvesim.Options{Nodes: 1, TaskDuration: 50 * time.Millisecond})
	c, ctx := b.client, t.Context()
	upid, err := c.CreateContainer(ctx, "pve1", CreateSpec{VMID: 150, OSTemplate: debianTemplate, Storage: "local-lvm", DiskGiB: 4})
	require.NoError(t, err)
	require.NoError(t, c.WaitTask(ctx, "pve1", upid))
	st, err := c.Status(ctx, "pve1", 150)
	require.NoError(t, err)
	require.Empty(t, st.Lock, "the create lock is gone once the task has finished")
}

func TestOfflineNodeIsUnavailable(t *testing.T) {
	t.Parallel()
	b := setup(t, pvesim.Options{Nodes: 2})
	c, ctx := b.client, t.Context()
	upid, err := c.CreateContainer(ctx, "pve2", CreateSpec{VMID: 160, OSTemplate: debianTemplate, Storage: "local-lvm", DiskGiB: 4})
	require.NoError(t, err)
	require.NoError(t, c.WaitTask(ctx, "pve2", upid))

	require.NoError(t, b.sim.SetNodeOnline("pve2", false))
	_, err = c.Status(ctx, "pve2", 160)
	require.ErrorIs(t, err, provision.ErrUnavailable)
	_, err = c.Start(ctx, "pve2", 160)
	require.ErrorIs(t, err, provision.ErrUnavailable)
	_, err = c.ListContainers(ctx, "pve2")
	require.ErrorIs(t, err, provision.ErrUnavailable)

	nodes, err := c.Nodes(ctx)
	require.NoError(t, err)
	require.False(t, nodes[1].Online())

	require.NoError(t, b.sim.SetNodeOnline("pve2", true))
	require.NoError(t, c.EnsureRunning(ctx, "pve2", 160))
}

func TestTransientFailures(t *testing.T) {
	t.Parallel()
	b := setup(t, pvesim.Options{Nodes: 1})
	c, ctx := b.client, t.Context()

	b.sim.InjectFault(pvesim.Fault{Method: "GET", Path: "/version", Status: 503, Count: 2})
	_, err := c.Version(ctx)
	require.NoError(t, err, "two 503s, then success on the third attempt")

	upid, err := c.CreateContainer(ctx, "pve1", CreateSpec{VMID: 170, OSTemplate: debianTemplate, Storage: "local-lvm", DiskGiB: 4})
	require.NoError(t, err)
	require.NoError(t, c.WaitTask(ctx, "pve1", upid))
	b.sim.InjectFault(pvesim.Fault{Method: "POST", Path: "/nodes/{node}/lxc/{vmid}/status/start", Status: 503, Count: 1})
	_, err = c.Start(ctx, "pve1", 170)
	require.ErrorIs(t, err, provision.ErrUnavailable)
	require.Zero(t, b.sim.Counters().Started["pve1"], "the failed POST was not retried behind the caller's back")
}

func TestBadTokenNamesTokenNotSecret(t *testing.T) {
	t.Parallel()
	b := setup(t, pvesim.Options{Nodes: 1}, func(c *Config) { c.TokenSecret = "wrong-secret-value" })
	_, err := b.client.Version(t.Context())
	var authErr *AuthError
	require.ErrorAs(t, err, &authErr)
	require.Equal(t, 401, authErr.StatusCode)
	var access *provision.NodeAccessError
	require.ErrorAs(t, err, &access)
	require.Equal(t, provision.AccessAPIToken, access.What)
	require.ErrorContains(t, err, b.cfg.TokenID)
	require.NotContains(t, err.Error(), "wrong-secret-value")
}

func TestSimulatorFingerprintPinning(t *testing.T) {
	t.Parallel()
	b := setup(t, pvesim.Options{Nodes: 1})
	probed, err := ProbeFingerprint(t.Context(), b.srv.URL())
	require.NoError(t, err)
	require.Equal(t, b.srv.Fingerprint(), probed)

	cfg := b.cfg
	cfg.TLSFingerprint = ""
	c, err := New(cfg)
	require.NoError(t, err)
	_, err = c.Version(t.Context())
	var unknown *UnknownFingerprintError
	require.ErrorAs(t, err, &unknown)
	require.Equal(t, b.srv.Fingerprint(), unknown.Got)
}

func TestStringVMIDList(t *testing.T) {
	t.Parallel()
	b := setup(t, pvesim.Options{Nodes: 1, StringListVMID: true})
	c, ctx := b.client, t.Context()
	upid, err := c.CreateContainer(ctx, "pve1", CreateSpec{VMID: 180, OSTemplate: debianTemplate, Storage: "local-lvm", DiskGiB: 4})
	require.NoError(t, err)
	require.NoError(t, c.WaitTask(ctx, "pve1", upid))
	list, err := c.ListContainers(ctx, "pve1")
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, 180, list[0].VMID)
}
