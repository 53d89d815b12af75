package proxmox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// Domain is a Client seen as the pipeline's provision.Proxmox.
type Domain struct{ c *Client }

var _ provision.Proxmox = (*Domain)(nil)

// Domain returns the client as a provision.Proxmox.
func (c *Client) Domain() *Domain { return &Domain{c: c} }

// Factory returns a function that builds a provision.Proxmox for a node
// record, for the engine's node client cache. tune may adjust each Config
// (timeouts, poll interval) and may be nil.
func Factory(log *slog.Logger, tune func(*Config)) func(context.Context, provision.Node) (provision.Proxmox, error) {
	return func(_ context.Context, n provision.Node) (provision.Proxmox, error) {
		cfg := ConfigFor(n)
		cfg.Logger = log
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
	if err := d.c.WaitTask(ctx, node, upid); err != nil {
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
