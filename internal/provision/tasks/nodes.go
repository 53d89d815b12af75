package tasks

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/lxcbot/lxcbot/internal/adapters/ssh"
	"github.com/lxcbot/lxcbot/internal/provision"
)

// NodeSource reads node records; *store.DB is one.
type NodeSource interface {
	GetNode(ctx context.Context, name string) (provision.Node, error)
}

// ProxmoxFactory builds an API client for a node record.
type ProxmoxFactory func(ctx context.Context, n provision.Node) (provision.Proxmox, error)

// NodeClients resolves node names into API clients and SSH runners, and
// caches them until the node record changes.
type NodeClients struct {
	nodes      NodeSource
	newProxmox ProxmoxFactory
	log        *slog.Logger

	mu    sync.Mutex
	pve   map[string]cachedPVE
	hosts map[string]cachedHost
}

type cachedPVE struct {
	version time.Time
	client  provision.Proxmox
}

type cachedHost struct {
	version time.Time
	runner  *ssh.Runner
}

var _ provision.NodeClients = (*NodeClients)(nil)

// NewNodeClients returns NodeClients reading nodes from nodes and building
// API clients with newProxmox.
func NewNodeClients(nodes NodeSource, newProxmox ProxmoxFactory, log *slog.Logger) *NodeClients {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &NodeClients{nodes: nodes, newProxmox: newProxmox, log: log,
		pve: map[string]cachedPVE{}, hosts: map[string]cachedHost{}}
}

// Proxmox returns the API client of a node.
func (nc *NodeClients) Proxmox(ctx context.Context, node string) (provision.Proxmox, error) {
	n, err := nc.nodes.GetNode(ctx, node)
	if err != nil {
		return nil, fmt.Errorf("reading node %s: %w", node, err)
	}
	nc.mu.Lock()
	defer nc.mu.Unlock()
	if c, ok := nc.pve[node]; ok && c.version.Equal(n.UpdatedAt) {
		return c.client, nil
	}
	client, err := nc.newProxmox(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("connecting to the API of %s: %w", node, err)
	}
	nc.pve[node] = cachedPVE{version: n.UpdatedAt, client: client}
	return client, nil
}

// Host returns the SSH runner of a node.
func (nc *NodeClients) Host(ctx context.Context, node string) (provision.HostRunner, error) {
	n, err := nc.nodes.GetNode(ctx, node)
	if err != nil {
		return nil, fmt.Errorf("reading node %s: %w", node, err)
	}
	nc.mu.Lock()
	defer nc.mu.Unlock()
	if c, ok := nc.hosts[node]; ok && c.version.Equal(n.UpdatedAt) {
		return hostRunner{c.runner}, nil
	}
	if old, ok := nc.hosts[node]; ok {
		_ = old.runner.Close()
	}
	r, err := ssh.New(ssh.Config{Addr: n.SSHAddr, User: n.SSHUser, Password: n.SSHPassword,
		PrivateKey: n.SSHPrivateKey, HostKey: n.SSHHostKey, Logger: nc.log.With("node", node)})
	if err != nil {
		return nil, fmt.Errorf("connecting to %s over ssh: %w", node, err)
	}
	nc.hosts[node] = cachedHost{version: n.UpdatedAt, runner: r}
	return hostRunner{r}, nil
}

// Close closes every cached SSH connection.
func (nc *NodeClients) Close() error {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	for name, h := range nc.hosts {
		_ = h.runner.Close()
		delete(nc.hosts, name)
	}
	return nil
}

// hostRunner adapts the SSH runner to the engine's HostRunner.
type hostRunner struct{ r *ssh.Runner }

func (h hostRunner) Exec(ctx context.Context, vmid int, argv []string, opts provision.ExecOptions) (provision.ExecResult, error) {
	var onLine func(ssh.Stream, string)
	if opts.OnLine != nil {
		onLine = func(s ssh.Stream, line string) { opts.OnLine(s.String(), line) }
	}
	res, err := h.r.Exec(ctx, vmid, argv, ssh.ExecOptions{Stdin: opts.Stdin, OnLine: onLine})
	return provision.ExecResult{ExitCode: res.ExitCode, Stdout: res.Stdout, Stderr: res.Stderr}, err
}

func (h hostRunner) Push(ctx context.Context, vmid int, content []byte, dest string, perms uint32, owner, group string) error {
	return h.r.Push(ctx, vmid, content, dest, os.FileMode(perms), owner, group)
}
