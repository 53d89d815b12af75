package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lxcbot/lxcbot/internal/adapters/proxmox"
	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/provision"
)

// pveClient is the creation side of a node's API as the pipeline sees it
// (provision.Proxmox), built on package proxmox. The two disagree on a few
// shapes — the pipeline hands over ready-made rootfs and net0 strings and
// wants plain VMID lists — so this adapter translates.
type pveClient struct {
	c *proxmox.Client
}

var _ provision.Proxmox = (*pveClient)(nil)

// proxmoxFactory builds pipeline clients for node records, for the node pool.
func proxmoxFactory(log *slog.Logger, fast bool) func(ctx context.Context, n provision.Node) (provision.Proxmox, error) {
	return func(_ context.Context, n provision.Node) (provision.Proxmox, error) {
		c, err := newProxmoxClient(n, log, fast)
		if err != nil {
			return nil, err
		}
		return &pveClient{c: c}, nil
	}
}

func newProxmoxClient(n provision.Node, log *slog.Logger, fast bool) (*proxmox.Client, error) {
	cfg := proxmox.Config{
		APIURL: n.APIURL, TokenID: n.TokenID, TokenSecret: n.TokenSecret,
		TLSFingerprint: n.TLSFingerprint, InsecureSkipVerify: n.InsecureSkipVerify,
		Logger: log.With("node", n.Name),
	}
	if fast {
		cfg.Timeout = 10 * time.Second
		cfg.RetryBackoff = 20 * time.Millisecond
		cfg.TaskPollInterval = 20 * time.Millisecond
	}
	c, err := proxmox.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", n.Name, err)
	}
	return c, nil
}

// CreateContainer posts the creation; rootfs and net0 are split back into
// the fields package proxmox validates.
func (p *pveClient) CreateContainer(ctx context.Context, node string, s provision.CreateSpec) (string, error) {
	storage, size, ok := strings.Cut(s.RootFS, ":")
	disk, err := strconv.Atoi(size)
	if !ok || err != nil {
		return "", fmt.Errorf("creating CT %d on %s: rootfs %q is not <storage>:<GiB>: %w", s.VMID, node, s.RootFS, provision.ErrInvalid)
	}
	net := map[string]string{}
	for _, kv := range strings.Split(s.Net0, ",") {
		k, v, _ := strings.Cut(kv, "=")
		net[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	spec := proxmox.CreateSpec{
		VMID: s.VMID, OSTemplate: s.OSTemplate, Hostname: s.Hostname,
		Cores: s.Cores, MemoryMiB: s.MemoryMiB, SwapMiB: s.SwapMiB,
		Storage: storage, DiskGiB: disk, Bridge: net["bridge"], IP: net["ip"], Gateway: net["gw"],
		Nameserver: s.Nameserver, SearchDomain: s.SearchDomain, SSHPublicKeys: s.SSHPublicKeys,
		Password: s.Password, Unprivileged: s.Unprivileged, Nesting: s.Nesting, Keyctl: s.Keyctl, Fuse: s.Fuse,
		Onboot: s.Onboot, Tags: s.Tags, Description: s.Description,
	}
	upid, err := p.c.CreateContainer(ctx, node, spec)
	return upid, vmidExists(err)
}

// vmidExists restates package proxmox's "VMID taken" as the pipeline's.
func vmidExists(err error) error {
	if err != nil && errors.Is(err, proxmox.ErrVMIDExists) && !errors.Is(err, provision.ErrVMIDExists) {
		return fmt.Errorf("%w: %w", provision.ErrVMIDExists, err)
	}
	return err
}

// WaitTask waits for the task; a failed task is an error.
func (p *pveClient) WaitTask(ctx context.Context, node, upid string) error {
	return vmidExists(p.c.WaitTask(ctx, node, upid))
}

// EnsureRunning starts the container unless it runs.
func (p *pveClient) EnsureRunning(ctx context.Context, node string, vmid int) error {
	return p.c.EnsureRunning(ctx, node, vmid)
}

// Destroy stops and deletes the container with its disks; one that does not
// exist counts as destroyed.
func (p *pveClient) Destroy(ctx context.Context, node string, vmid int) error {
	if err := p.c.EnsureStopped(ctx, node, vmid); err != nil {
		if errors.Is(err, provision.ErrNotFound) {
			return nil
		}
		return err
	}
	upid, err := p.c.Delete(ctx, node, vmid)
	if errors.Is(err, provision.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := p.c.WaitTask(ctx, node, upid); err != nil && !errors.Is(err, provision.ErrNotFound) {
		return fmt.Errorf("deleting CT %d on %s: %w", vmid, node, err)
	}
	return nil
}

// Interfaces lists the container's network interfaces.
func (p *pveClient) Interfaces(ctx context.Context, node string, vmid int) ([]provision.NetInterface, error) {
	ifs, err := p.c.Interfaces(ctx, node, vmid)
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

// Description returns the container's description.
func (p *pveClient) Description(ctx context.Context, node string, vmid int) (string, error) {
	cfg, err := p.c.Config(ctx, node, vmid)
	if err != nil {
		return "", err
	}
	return cfg["description"], nil
}

// VMIDExists reports whether any guest uses vmid.
func (p *pveClient) VMIDExists(ctx context.Context, vmid int) (bool, error) {
	return p.c.VMIDExists(ctx, vmid)
}

// UsedVMIDs lists the cluster's container VMIDs. Package proxmox lists only
// containers, not VMs; a VMID a VM holds is still caught when the create is
// refused (ErrVMIDExists) and the pipeline tries the next one.
func (p *pveClient) UsedVMIDs(ctx context.Context) ([]int, error) {
	cts, err := p.c.ClusterContainers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]int, 0, len(cts))
	for _, c := range cts {
		out = append(out, c.VMID)
	}
	return out, nil
}

// OSTemplates lists the vztmpl volumes on node.
func (p *pveClient) OSTemplates(ctx context.Context, node string) ([]string, error) {
	ts, err := p.c.OSTemplates(ctx, node)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.VolID)
	}
	return out, nil
}

// nodeChoices answers what a create form offers for a node: OS templates
// and storages from its API. Package proxmox does not list network
// interfaces, so the bridge offered is the configured default.
type nodeChoices struct {
	store interface {
		GetNode(ctx context.Context, name string) (provision.Node, error)
	}
	log           *slog.Logger
	fast          bool
	defaultBridge string
}

func (nc *nodeChoices) NodeChoices(ctx context.Context, node string) (*commands.NodeChoices, error) {
	n, err := nc.store.GetNode(ctx, node)
	if errors.Is(err, provision.ErrNotFound) {
		return nil, provision.Userf(provision.ErrNotFound, "no node %q: see /lxc nodes", node)
	}
	if err != nil {
		return nil, fmt.Errorf("reading node %s: %w", node, err)
	}
	c, err := newProxmoxClient(n, nc.log, nc.fast)
	if err != nil {
		return nil, err
	}
	out := &commands.NodeChoices{Bridges: []string{nc.defaultBridge}}
	ts, err := c.OSTemplates(ctx, node)
	if err != nil {
		return nil, fmt.Errorf("listing OS templates on %s: %w", node, err)
	}
	for _, t := range ts {
		out.OSTemplates = append(out.OSTemplates, t.VolID)
	}
	ss, err := c.NodeStorages(ctx, node)
	if err != nil {
		return nil, fmt.Errorf("listing storages on %s: %w", node, err)
	}
	for _, s := range ss {
		if s.Active && s.Enabled && s.Holds("rootdir") && !slices.Contains(out.Storages, s.Name) {
			out.Storages = append(out.Storages, s.Name)
		}
	}
	return out, nil
}
