package proxmox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// Domain is a Client seen through the domain's interfaces: the pipeline's
// provision.Proxmox and the node API lifecycle, monitoring and the
// reconciler use (provision.NodeAPI). Every state change waits for its task
// and checks its exit status; a container that does not exist is an error
// wrapping provision.ErrNotFound.
type Domain struct{ c *Client }

var (
	_ provision.Proxmox      = (*Domain)(nil)
	_ provision.NodeAPI      = (*Domain)(nil)
	_ provision.PowerAPI     = (*Domain)(nil)
	_ provision.InventoryAPI = (*Domain)(nil)
)

// Domain returns the client seen through the domain's interfaces.
func (c *Client) Domain() *Domain { return &Domain{c: c} }

// Client is the client under d.
func (d *Domain) Client() *Client { return d.c }

// Close drops the client's idle connections.
func (d *Domain) Close() { d.c.Close() }

// Factory returns a function that builds the domain view of a node
// record's API. tune may adjust each Config (timeouts, poll interval,
// metrics) and may be nil.
func Factory(log *slog.Logger, tune func(*Config)) func(context.Context, provision.Node) (*Domain, error) {
	return func(_ context.Context, n provision.Node) (*Domain, error) {
		cfg := ConfigFor(n)
		if log != nil {
			cfg.Logger = log.With("node", n.Name)
		}
		if tune != nil {
			tune(&cfg)
		}
		c, err := New(cfg)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", n.Name, err)
		}
		return c.Domain(), nil
	}
}

// CreateContainer posts the creation and returns the task's UPID. RootFS
// and Net0 arrive pre-built; they are parsed back and checked, so nothing
// unexpected reaches PVE's property strings.
func (d *Domain) CreateContainer(ctx context.Context, node string, s provision.CreateSpec) (string, error) {
	spec := CreateSpec{
		VMID: s.VMID, OSTemplate: s.OSTemplate, Hostname: s.Hostname, Cores: s.Cores,
		MemoryMiB: s.MemoryMiB, SwapMiB: s.SwapMiB, Nameserver: s.Nameserver, SearchDomain: s.SearchDomain,
		SSHPublicKeys: s.SSHPublicKeys, Password: s.Password, Unprivileged: s.Unprivileged,
		Nesting: s.Nesting, Keyctl: s.Keyctl, Fuse: s.Fuse, Onboot: s.Onboot,
		Tags: s.Tags, Description: s.Description,
	}
	storage, size, ok := strings.Cut(s.RootFS, ":")
	gib, err := strconv.Atoi(size)
	if !ok || err != nil {
		return "", fmt.Errorf("creating CT %d on %s: rootfs %q is not <storage>:<GiB>: %w", s.VMID, node, s.RootFS, provision.ErrInvalid)
	}
	spec.Storage, spec.DiskGiB = storage, gib
	if s.Net0 != "" {
		for _, kv := range strings.Split(s.Net0, ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "name":
				if v != "eth0" {
					return "", fmt.Errorf("creating CT %d on %s: net0 interface must be eth0, not %q: %w", s.VMID, node, v, provision.ErrInvalid)
				}
			case "bridge":
				spec.Bridge = v
			case "ip", "ip6":
				spec.IP = v
			case "gw", "gw6":
				spec.Gateway = v
			default:
				return "", fmt.Errorf("creating CT %d on %s: net0 option %q is not supported: %w", s.VMID, node, k, provision.ErrInvalid)
			}
		}
	}
	return d.c.CreateContainer(ctx, node, spec)
}

// WaitTask waits for a task and fails unless its exit status is OK.
func (d *Domain) WaitTask(ctx context.Context, node, upid string) error {
	return d.c.WaitTask(ctx, node, upid)
}

// EnsureRunning starts the container unless it runs, then confirms it runs.
func (d *Domain) EnsureRunning(ctx context.Context, node string, vmid int) error {
	if err := d.c.EnsureRunning(ctx, node, vmid); err != nil {
		return err
	}
	st, err := d.c.Status(ctx, node, vmid)
	if err != nil {
		return fmt.Errorf("confirming CT %d runs: %w", vmid, err)
	}
	if !st.Running() {
		return fmt.Errorf("CT %d on %s is %s after starting", vmid, node, st.Status)
	}
	return nil
}

// Destroy stops the container if it runs and deletes it with its disks. A
// container that does not exist counts as destroyed.
func (d *Domain) Destroy(ctx context.Context, node string, vmid int) error {
	if err := d.c.EnsureStopped(ctx, node, vmid); err != nil {
		if errors.Is(err, provision.ErrNotFound) {
			return nil
		}
		return err
	}
	upid, err := d.c.Delete(ctx, node, vmid)
	if errors.Is(err, provision.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	// A task that fails because the container vanished meanwhile still
	// leaves it destroyed.
	if err := d.c.WaitTask(ctx, node, upid); err != nil && !errors.Is(err, provision.ErrNotFound) {
		return fmt.Errorf("deleting CT %d on %s: %w", vmid, node, err)
	}
	return nil
}

// Interfaces lists the container's interfaces with their IPv4 addresses
// (with prefix); a stopped container has none.
func (d *Domain) Interfaces(ctx context.Context, node string, vmid int) ([]provision.NetInterface, error) {
	ifs, err := d.c.Interfaces(ctx, node, vmid)
	if err != nil {
		return nil, err
	}
	out := make([]provision.NetInterface, 0, len(ifs))
	for _, i := range ifs {
		ni := provision.NetInterface{Name: i.Name}
		if i.Inet != "" {
			ni.IPv4 = []string{i.Inet}
		}
		out = append(out, ni)
	}
	return out, nil
}

// Description returns the container's description; ErrNotFound if there is
// no such container.
func (d *Domain) Description(ctx context.Context, node string, vmid int) (string, error) {
	conf, err := d.c.Config(ctx, node, vmid)
	if err != nil {
		return "", err
	}
	return conf["description"], nil
}

// VMIDExists reports whether any guest in the cluster uses vmid.
func (d *Domain) VMIDExists(ctx context.Context, vmid int) (bool, error) {
	return d.c.VMIDExists(ctx, vmid)
}

// UsedVMIDs lists every guest VMID (containers and VMs) in the cluster.
func (d *Domain) UsedVMIDs(ctx context.Context) ([]int, error) {
	res, err := d.c.vmResources(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing used VMIDs: %w", err)
	}
	out := make([]int, 0, len(res))
	for _, r := range res {
		out = append(out, r.VMID.int())
	}
	return out, nil
}

// OSTemplates lists the vztmpl volume ids available on node.
func (d *Domain) OSTemplates(ctx context.Context, node string) ([]string, error) {
	tmpls, err := d.c.OSTemplates(ctx, node)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(tmpls))
	for _, t := range tmpls {
		out = append(out, t.VolID)
	}
	return out, nil
}

// GuestStatus reads the container's live state.
func (d *Domain) GuestStatus(ctx context.Context, node string, vmid int) (provision.GuestStatus, error) {
	st, err := d.c.Status(ctx, node, vmid)
	if err != nil {
		return provision.GuestStatus{}, err
	}
	return provision.GuestStatus{
		VMID: vmid, Node: node, Name: st.Name, Status: st.Status, CPU: st.CPU, CPUs: int(st.CPUs),
		MemUsed: st.Mem, MemTotal: st.MaxMem, DiskUsed: st.Disk, DiskTotal: st.MaxDisk,
		Uptime: time.Duration(st.Uptime) * time.Second, Tags: st.Tags, Lock: st.Lock,
	}, nil
}

// Start starts the container and waits for the task.
func (d *Domain) Start(ctx context.Context, node string, vmid int) error {
	return d.waited(ctx, node, vmid, "starting", func() (string, error) { return d.c.Start(ctx, node, vmid) })
}

// Stop stops the container at once and waits for the task.
func (d *Domain) Stop(ctx context.Context, node string, vmid int) error {
	return d.waited(ctx, node, vmid, "stopping", func() (string, error) { return d.c.Stop(ctx, node, vmid) })
}

// Shutdown asks the container to shut down within timeout (then stopped,
// with force) and waits for the task.
func (d *Domain) Shutdown(ctx context.Context, node string, vmid int, timeout time.Duration, force bool) error {
	return d.waited(ctx, node, vmid, "shutting down", func() (string, error) {
		return d.c.Shutdown(ctx, node, vmid, timeout, force)
	})
}

// Reboot reboots the container and waits for the task.
func (d *Domain) Reboot(ctx context.Context, node string, vmid int) error {
	return d.waited(ctx, node, vmid, "rebooting", func() (string, error) { return d.c.Reboot(ctx, node, vmid) })
}

// Delete removes a stopped container with its disks and waits for the task.
// Unlike Destroy, a missing container is an error wrapping ErrNotFound: the
// caller decides what "already gone" means.
func (d *Domain) Delete(ctx context.Context, node string, vmid int) error {
	return d.waited(ctx, node, vmid, "deleting", func() (string, error) { return d.c.Delete(ctx, node, vmid) })
}

// waited runs a state change and waits for its task.
func (d *Domain) waited(ctx context.Context, node string, vmid int, doing string, post func() (string, error)) error {
	upid, err := post()
	if err != nil {
		return err
	}
	if err := d.c.WaitTask(ctx, node, upid); err != nil {
		return fmt.Errorf("%s CT %d on %s: %w", doing, vmid, node, err)
	}
	return nil
}

// NodeGuests lists the containers on node with their live figures from one
// read of the node's own list (GET /nodes/{node}/lxc), not the whole
// cluster's resources: a list over many nodes then reads each guest once.
// A node that is down (595 through the cluster) is an error wrapping
// ErrUnavailable at once, without retries; one the cluster does not know
// wraps ErrNotFound.
func (d *Domain) NodeGuests(ctx context.Context, node string) ([]provision.GuestStatus, error) {
	path := nodePath(node, "lxc")
	var res []rawStatus
	err := mapErr(ctx, d.c.api.Get(ctx, path, &res))
	if err != nil && !errors.Is(err, provision.ErrUnavailable) && retryable(err) {
		res = nil
		err = d.c.get(ctx, path, nil, &res)
	}
	if err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) && strings.Contains(apiErr.Message+apiErr.Reason, "hostname lookup") {
			return nil, fmt.Errorf("listing guests of %s: the cluster does not know this node: %w (%w)", node, err, provision.ErrNotFound)
		}
		return nil, fmt.Errorf("listing guests of %s: %w", node, err)
	}
	out := make([]provision.GuestStatus, 0, len(res))
	for _, r := range res {
		if r.Type != "" && r.Type != "lxc" {
			continue
		}
		cpus := r.CPUs.int()
		if cpus == 0 {
			cpus = r.MaxCPU.int()
		}
		out = append(out, provision.GuestStatus{
			VMID: r.VMID.int(), Node: node, Name: r.Name, Status: r.Status, CPU: float64(r.CPU), CPUs: cpus,
			MemUsed: r.Mem.uint64(), MemTotal: r.MaxMem.uint64(), DiskUsed: r.Disk.uint64(), DiskTotal: r.MaxDisk.uint64(),
			Uptime: time.Duration(r.Uptime.uint64()) * time.Second, Tags: splitTags(r.Tags), Lock: r.Lock,
		})
	}
	return out, nil
}

// Version is the Proxmox VE version (8.4.14).
func (d *Domain) Version(ctx context.Context) (string, error) {
	v, err := d.c.Version(ctx)
	if err != nil {
		return "", err
	}
	return v.Version, nil
}

// RootStorages lists the active, enabled storages on node that hold
// container root disks.
func (d *Domain) RootStorages(ctx context.Context, node string) ([]string, error) {
	ss, err := d.c.NodeStorages(ctx, node)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range ss {
		if s.Active && s.Enabled && s.Holds("rootdir") {
			out = append(out, s.Name)
		}
	}
	return out, nil
}
