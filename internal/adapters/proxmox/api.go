package proxmox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// Version reads the API's version. Adding a node calls it to test the API
// (token, pin, reachability) before saving.
func (c *Client) Version(ctx context.Context) (Version, error) {
	var v Version
	if err := c.get(ctx, "/version", nil, &v); err != nil {
		return Version{}, fmt.Errorf("reading proxmox version: %w", err)
	}
	return v, nil
}

// Nodes lists the cluster's nodes with their state and load.
func (c *Client) Nodes(ctx context.Context) ([]NodeInfo, error) {
	var raw []rawNode
	if err := c.get(ctx, "/nodes", nil, &raw); err != nil {
		return nil, fmt.Errorf("listing nodes: %w", err)
	}
	out := make([]NodeInfo, 0, len(raw))
	for _, n := range raw {
		out = append(out, NodeInfo{
			Name: n.Node, Status: n.Status, CPU: float64(n.CPU), MaxCPU: n.MaxCPU.int(),
			Mem: n.Mem.uint64(), MaxMem: n.MaxMem.uint64(), Uptime: n.Uptime.uint64(),
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// NodeStorages lists the storages node can use.
func (c *Client) NodeStorages(ctx context.Context, node string) ([]StorageInfo, error) {
	var raw []rawStorage
	if err := c.get(ctx, nodePath(node, "storage"), nil, &raw); err != nil {
		return nil, fmt.Errorf("listing storages on %s: %w", node, err)
	}
	out := make([]StorageInfo, 0, len(raw))
	for _, s := range raw {
		out = append(out, StorageInfo{
			Name: s.Storage, Type: s.Type, Content: splitList(s.Content),
			Active: s.Active != 0, Enabled: s.Enabled != 0, Shared: s.Shared != 0,
			Total: s.Total.uint64(), Used: s.Used.uint64(), Avail: s.Avail.uint64(),
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// OSTemplates lists the vztmpl volumes on every active storage of node that
// holds templates.
func (c *Client) OSTemplates(ctx context.Context, node string) ([]OSTemplate, error) {
	storages, err := c.NodeStorages(ctx, node)
	if err != nil {
		return nil, fmt.Errorf("listing OS templates: %w", err)
	}
	var out []OSTemplate
	for _, s := range storages {
		if !s.Holds("vztmpl") || !s.Active || !s.Enabled {
			continue
		}
		var vols []rawVolume
		q := url.Values{"content": {"vztmpl"}}
		if err := c.get(ctx, nodePath(node, "storage", s.Name, "content"), q, &vols); err != nil {
			return nil, fmt.Errorf("listing OS templates on %s storage %s: %w", node, s.Name, err)
		}
		for _, v := range vols {
			if v.Content != "" && v.Content != "vztmpl" {
				continue
			}
			out = append(out, OSTemplate{VolID: v.VolID, Storage: s.Name, Format: v.Format, Size: v.Size.uint64()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].VolID < out[j].VolID })
	return out, nil
}

// NextID asks the cluster for a free VMID. Another create can take it before
// this caller does: reserve it and treat ErrVMIDExists on create as a reason
// to pick again.
func (c *Client) NextID(ctx context.Context) (int, error) {
	var id number
	if err := c.get(ctx, "/cluster/nextid", nil, &id); err != nil {
		return 0, fmt.Errorf("asking for a free VMID: %w", err)
	}
	// Written so that NaN fails too: "NaN" and "1e30" parse as numbers
	// but convert to no usable VMID.
	if !(id >= 100 && id <= 999999999) {
		return 0, fmt.Errorf("asking for a free VMID: implausible answer %v", float64(id))
	}
	return id.int(), nil
}

// VMIDExists reports whether any guest (container or VM) on the cluster uses
// vmid.
func (c *Client) VMIDExists(ctx context.Context, vmid int) (bool, error) {
	res, err := c.vmResources(ctx)
	if err != nil {
		return false, fmt.Errorf("checking whether VMID %d is used: %w", vmid, err)
	}
	for _, r := range res {
		if r.VMID.int() == vmid {
			return true, nil
		}
	}
	return false, nil
}

// ClusterContainers lists every LXC container on the cluster with the node
// it lives on.
func (c *Client) ClusterContainers(ctx context.Context) ([]ClusterContainer, error) {
	res, err := c.vmResources(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing cluster containers: %w", err)
	}
	var out []ClusterContainer
	for _, r := range res {
		if r.Type != "lxc" {
			continue
		}
		out = append(out, ClusterContainer{
			Node: r.Node, VMID: r.VMID.int(), Name: r.Name, Status: r.Status,
			Tags: splitTags(r.Tags), Template: r.Template != 0,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].VMID < out[j].VMID })
	return out, nil
}

func (c *Client) vmResources(ctx context.Context) ([]rawResource, error) {
	var res []rawResource
	if err := c.get(ctx, "/cluster/resources", url.Values{"type": {"vm"}}, &res); err != nil {
		return nil, err
	}
	return res, nil
}

// ListContainers lists the containers on node. It reads the list into its
// own structs: go-proxmox's fails on "cpus" sent as a string.
func (c *Client) ListContainers(ctx context.Context, node string) ([]ContainerSummary, error) {
	var raw []rawStatus
	if err := c.get(ctx, nodePath(node, "lxc"), nil, &raw); err != nil {
		return nil, fmt.Errorf("listing containers on %s: %w", node, err)
	}
	out := make([]ContainerSummary, 0, len(raw))
	for _, r := range raw {
		out = append(out, ContainerSummary{
			Node: node, VMID: r.VMID.int(), Name: r.Name, Status: r.Status, Tags: splitTags(r.Tags),
			Template: r.Template != 0, Lock: r.Lock, CPUs: float64(r.CPUs),
			MaxMem: r.MaxMem.uint64(), MaxDisk: r.MaxDisk.uint64(), Uptime: r.Uptime.uint64(),
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].VMID < out[j].VMID })
	return out, nil
}

// Status reads a container's live state. A missing container wraps
// provision.ErrNotFound.
func (c *Client) Status(ctx context.Context, node string, vmid int) (LiveStatus, error) {
	var r rawStatus
	if err := c.get(ctx, ctPath(node, vmid, "status", "current"), nil, &r); err != nil {
		return LiveStatus{}, fmt.Errorf("reading status of CT %d on %s: %w", vmid, node, err)
	}
	return LiveStatus{
		Status: r.Status, Name: r.Name, CPU: float64(r.CPU), CPUs: float64(r.CPUs),
		Mem: r.Mem.uint64(), MaxMem: r.MaxMem.uint64(), Swap: r.Swap.uint64(), MaxSwap: r.MaxSwap.uint64(),
		Disk: r.Disk.uint64(), MaxDisk: r.MaxDisk.uint64(), Uptime: r.Uptime.uint64(),
		Tags: splitTags(r.Tags), Lock: r.Lock, Template: r.Template != 0,
	}, nil
}

// Interfaces lists a running container's network interfaces, loopback
// included. A stopped container has none (PVE answers null).
func (c *Client) Interfaces(ctx context.Context, node string, vmid int) ([]Interface, error) {
	var out []Interface
	if err := c.get(ctx, ctPath(node, vmid, "interfaces"), nil, &out); err != nil {
		return nil, fmt.Errorf("reading interfaces of CT %d on %s: %w", vmid, node, err)
	}
	if out == nil {
		out = []Interface{}
	}
	return out, nil
}

// Config reads a container's configuration.
func (c *Client) Config(ctx context.Context, node string, vmid int) (ContainerConfig, error) {
	var raw map[string]json.RawMessage
	if err := c.get(ctx, ctPath(node, vmid, "config"), nil, &raw); err != nil {
		return nil, fmt.Errorf("reading config of CT %d on %s: %w", vmid, node, err)
	}
	out := make(ContainerConfig, len(raw))
	for k, v := range raw {
		var t text
		if err := t.UnmarshalJSON(v); err != nil {
			return nil, fmt.Errorf("reading config of CT %d on %s: key %s: %w", vmid, node, k, err)
		}
		out[k] = string(t)
	}
	return out, nil
}

// Start asks PVE to start a container and returns the task's UPID; the start
// can still fail in the task (WaitTask). A running container gives
// ErrAlreadyRunning.
func (c *Client) Start(ctx context.Context, node string, vmid int) (string, error) {
	return c.power(ctx, node, vmid, "start", nil, "starting")
}

// Stop asks PVE to stop a container at once (no shutdown). A stopped
// container gives ErrNotRunning.
func (c *Client) Stop(ctx context.Context, node string, vmid int) (string, error) {
	return c.power(ctx, node, vmid, "stop", nil, "stopping")
}

// Reboot asks PVE to reboot a running container. A stopped container gives
// ErrNotRunning.
func (c *Client) Reboot(ctx context.Context, node string, vmid int) (string, error) {
	return c.power(ctx, node, vmid, "reboot", nil, "rebooting")
}

// Shutdown asks the container to shut down within timeout; with forceStop it
// is stopped when the timeout passes, otherwise the task fails. The timeout
// is always sent: PVE would otherwise wait its own default, and go-proxmox
// would send 0.
func (c *Client) Shutdown(ctx context.Context, node string, vmid int, timeout time.Duration, forceStop bool) (string, error) {
	secs := int(timeout.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	body := map[string]any{"timeout": secs, "forceStop": forceStop}
	return c.power(ctx, node, vmid, "shutdown", body, "shutting down")
}

func (c *Client) power(ctx context.Context, node string, vmid int, action string, body any, doing string) (string, error) {
	if err := checkVMID(vmid); err != nil {
		return "", err
	}
	var upid string
	if err := c.post(ctx, ctPath(node, vmid, "status", action), body, &upid); err != nil {
		return "", fmt.Errorf("%s CT %d on %s: %w", doing, vmid, node, err)
	}
	c.log.InfoContext(ctx, "container "+action, "node", node, "vmid", vmid, "upid", upid)
	return upid, nil
}

// EnsureRunning starts the container and waits for the task. A container
// that already runs counts as success, so a retried step is harmless.
func (c *Client) EnsureRunning(ctx context.Context, node string, vmid int) error {
	upid, err := c.Start(ctx, node, vmid)
	if errors.Is(err, ErrAlreadyRunning) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := c.WaitTask(ctx, node, upid); err != nil {
		// An earlier start still running (a job handed over mid-start) makes
		// this task fail with "already running": the container runs.
		if st, serr := c.Status(ctx, node, vmid); serr == nil && st.Running() {
			return nil
		}
		return fmt.Errorf("starting CT %d on %s: %w", vmid, node, err)
	}
	return nil
}

// EnsureStopped stops the container at once and waits for the task. A
// stopped container counts as success.
func (c *Client) EnsureStopped(ctx context.Context, node string, vmid int) error {
	upid, err := c.Stop(ctx, node, vmid)
	if errors.Is(err, ErrNotRunning) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := c.WaitTask(ctx, node, upid); err != nil {
		return fmt.Errorf("stopping CT %d on %s: %w", vmid, node, err)
	}
	return nil
}

// Delete destroys a stopped container with purge=1 and
// destroy-unreferenced-disks=1 and returns the task's UPID. A container that
// does not exist gives an error wrapping provision.ErrNotFound: callers that
// delete treat that as "already gone".
func (c *Client) Delete(ctx context.Context, node string, vmid int) (string, error) {
	if err := checkVMID(vmid); err != nil {
		return "", err
	}
	q := url.Values{"purge": {"1"}, "destroy-unreferenced-disks": {"1"}}
	var upid string
	if err := c.del(ctx, ctPath(node, vmid), q, &upid); err != nil {
		return "", fmt.Errorf("deleting CT %d on %s: %w", vmid, node, err)
	}
	c.log.InfoContext(ctx, "container delete", "node", node, "vmid", vmid, "upid", upid)
	return upid, nil
}

func nodePath(node string, parts ...string) string {
	p := "/nodes/" + url.PathEscape(node)
	for _, s := range parts {
		p += "/" + url.PathEscape(s)
	}
	return p
}

func ctPath(node string, vmid int, parts ...string) string {
	return nodePath(node, append([]string{"lxc", strconv.Itoa(vmid)}, parts...)...)
}

func checkVMID(vmid int) error {
	if vmid < 100 || vmid > 999999999 {
		return fmt.Errorf("VMID %d out of range 100-999999999: %w", vmid, provision.ErrInvalid)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
