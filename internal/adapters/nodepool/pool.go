package nodepool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/lxcbot/lxcbot/internal/adapters/proxmox"
	"github.com/lxcbot/lxcbot/internal/adapters/ssh"
	"github.com/lxcbot/lxcbot/internal/metrics"
	"github.com/lxcbot/lxcbot/internal/provision"
)

// NodeLookup reads node records with their secrets opened.
type NodeLookup interface {
	GetNode(ctx context.Context, name string) (provision.Node, error)
}

// Options tune the pool. Zero values take the defaults.
type Options struct {
	// HTTPTimeout bounds one API request (default 30s).
	HTTPTimeout time.Duration
	// TaskPoll is the interval between task status polls (default 500ms).
	TaskPoll time.Duration
	// RetryBackoff is the first wait before a failed GET is tried again
	// (package proxmox's default when zero).
	RetryBackoff time.Duration
	// SSHTimeout bounds dialling and the SSH handshake (default 15s).
	SSHTimeout time.Duration
	// Metrics receives API and SSH figures; nil = none.
	Metrics *metrics.Metrics
}

// Pool resolves node names into clients, built from the node records and
// cached per node until Invalidate. Several nodes may share one API URL (a
// cluster): each still gets the SSH runner of its own address, so commands
// for a container go to the node that hosts it. One API client per node
// (package proxmox, on go-proxmox) serves the pipeline, lifecycle actions,
// monitoring, node administration and the reconciler.
type Pool struct {
	store NodeLookup
	log   *slog.Logger
	opts  Options

	mu    sync.Mutex
	nodes map[string]*entry
}

type entry struct {
	api    *proxmox.Domain
	runner *ssh.Runner
	host   *hostRunner
}

var (
	_ provision.NodeClients     = (*Pool)(nil)
	_ provision.NodeAPIs        = (*Pool)(nil)
	_ provision.NodeProber      = (*Pool)(nil)
	_ provision.NodeInvalidator = (*Pool)(nil)
	_ proxmox.DomainSource      = (*Pool)(nil)
	_ provision.HostRunner      = (*hostRunner)(nil)
)

// New returns a pool reading nodes from store.
func New(store NodeLookup, log *slog.Logger, opts Options) *Pool {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.HTTPTimeout <= 0 {
		opts.HTTPTimeout = 30 * time.Second
	}
	if opts.TaskPoll <= 0 {
		opts.TaskPoll = 500 * time.Millisecond
	}
	if opts.SSHTimeout <= 0 {
		opts.SSHTimeout = 15 * time.Second
	}
	return &Pool{store: store, log: log.With("component", "nodepool"), opts: opts, nodes: map[string]*entry{}}
}

func (p *Pool) node(ctx context.Context, name string) (provision.Node, error) {
	n, err := p.store.GetNode(ctx, name)
	if err != nil {
		return provision.Node{}, fmt.Errorf("reading node %s: %w", name, err)
	}
	return n, nil
}

// entryFor returns the cache entry of a node, creating an empty one.
// Must be called with p.mu held.
func (p *Pool) entryFor(name string) *entry {
	e, ok := p.nodes[name]
	if !ok {
		e = &entry{}
		p.nodes[name] = e
	}
	return e
}

// Domain returns the node's API client, building and caching it.
func (p *Pool) Domain(ctx context.Context, name string) (*proxmox.Domain, error) {
	p.mu.Lock()
	if e, ok := p.nodes[name]; ok && e.api != nil {
		p.mu.Unlock()
		return e.api, nil
	}
	p.mu.Unlock()
	n, err := p.node(ctx, name)
	if err != nil {
		return nil, err
	}
	api, err := p.newAPI(n)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.entryFor(name)
	if e.api != nil {
		api.Close()
		return e.api, nil
	}
	e.api = api
	return api, nil
}

// NodeAPI returns the node's API client for lifecycle and monitoring.
func (p *Pool) NodeAPI(ctx context.Context, name string) (provision.NodeAPI, error) {
	return p.Domain(ctx, name)
}

// Proxmox returns the node's API client for the creation pipeline.
func (p *Pool) Proxmox(ctx context.Context, name string) (provision.Proxmox, error) {
	return p.Domain(ctx, name)
}

func (p *Pool) newAPI(n provision.Node) (*proxmox.Domain, error) {
	return proxmox.Factory(p.log, func(c *proxmox.Config) {
		c.Timeout, c.TaskPollInterval, c.RetryBackoff, c.Metrics = p.opts.HTTPTimeout, p.opts.TaskPoll, p.opts.RetryBackoff, p.opts.Metrics
	})(context.Background(), n)
}

// Host returns the SSH runner of the node named name: the node that hosts
// the containers the caller addresses.
func (p *Pool) Host(ctx context.Context, name string) (provision.HostRunner, error) {
	p.mu.Lock()
	if e, ok := p.nodes[name]; ok && e.host != nil {
		p.mu.Unlock()
		return e.host, nil
	}
	p.mu.Unlock()
	n, err := p.node(ctx, name)
	if err != nil {
		return nil, err
	}
	r, err := p.newRunner(n)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.entryFor(name)
	if e.host != nil {
		_ = r.Close()
		return e.host, nil
	}
	e.runner, e.host = r, &hostRunner{r: r}
	return e.host, nil
}

func (p *Pool) newRunner(n provision.Node) (*ssh.Runner, error) {
	r, err := ssh.New(ssh.Config{
		Addr: n.SSHAddr, Node: n.Name, User: n.SSHUser, Password: n.SSHPassword, PrivateKey: n.SSHPrivateKey,
		HostKey: n.SSHHostKey, Timeout: p.opts.SSHTimeout, Logger: p.log.With("node", n.Name), Metrics: p.opts.Metrics,
	})
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", n.Name, err)
	}
	return r, nil
}

// Invalidate drops the cached clients of a node (edited or removed); the
// next call builds them from the record again.
func (p *Pool) Invalidate(name string) {
	p.mu.Lock()
	e := p.nodes[name]
	delete(p.nodes, name)
	p.mu.Unlock()
	if e != nil {
		e.close()
	}
}

// Close drops every cached client.
func (p *Pool) Close() {
	p.mu.Lock()
	nodes := p.nodes
	p.nodes = map[string]*entry{}
	p.mu.Unlock()
	for _, e := range nodes {
		e.close()
	}
}

func (e *entry) close() {
	if e.api != nil {
		e.api.Close()
	}
	if e.runner != nil {
		_ = e.runner.Close()
	}
}

// ProbeTLS connects to the API URL and returns the fingerprint of the leaf
// certificate it presents, trusting nothing.
func (p *Pool) ProbeTLS(ctx context.Context, apiURL string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, p.opts.HTTPTimeout)
	defer cancel()
	return proxmox.ProbeFingerprint(ctx, apiURL)
}

// ProbeHostKey returns the SHA256 fingerprint of the SSH host key at addr.
func (p *Pool) ProbeHostKey(ctx context.Context, addr string) (string, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, "22")
	}
	ctx, cancel := context.WithTimeout(ctx, p.opts.SSHTimeout)
	defer cancel()
	return ssh.ProbeHostKey(ctx, addr)
}

// CheckAPI calls GET /version with the node's token and pinned certificate.
func (p *Pool) CheckAPI(ctx context.Context, n provision.Node) (string, error) {
	api, err := p.newAPI(n)
	if err != nil {
		return "", err
	}
	defer api.Close()
	v, err := api.Version(ctx)
	if err != nil {
		return "", err
	}
	return v, nil
}

// CheckSSH logs in with the node's credentials and pinned host key and runs
// a command on the node.
func (p *Pool) CheckSSH(ctx context.Context, n provision.Node) error {
	r, err := p.newRunner(n)
	if err != nil {
		return err
	}
	defer r.Close()
	res, err := r.NodeExec(ctx, []string{"true"})
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("running a command on %s exited with status %d", n.SSHAddr, res.ExitCode)
	}
	return nil
}

// hostRunner is an ssh.Runner seen as a provision.HostRunner.
type hostRunner struct{ r *ssh.Runner }

func (h *hostRunner) Exec(ctx context.Context, vmid int, argv []string, opts provision.ExecOptions) (provision.ExecResult, error) {
	so := ssh.ExecOptions{Stdin: opts.Stdin}
	if opts.OnLine != nil {
		so.OnLine = func(s ssh.Stream, line string) { opts.OnLine(s.String(), line) }
	}
	res, err := h.r.Exec(ctx, vmid, argv, so)
	out := provision.ExecResult{ExitCode: res.ExitCode, Stdout: res.Stdout, Stderr: res.Stderr}
	if err != nil {
		return out, err
	}
	if cerr := res.Err(); cerr != nil && errors.Is(cerr, provision.ErrNotFound) {
		return out, fmt.Errorf("running %s in CT %d: %w", argv[0], vmid, cerr)
	}
	return out, nil
}

func (h *hostRunner) Push(ctx context.Context, vmid int, content []byte, dest string, perms uint32, owner, group string) error {
	return h.r.Push(ctx, vmid, content, dest, os.FileMode(perms&0o777)|modeBits(perms), owner, group)
}

// modeBits carries setuid, setgid and sticky from Unix bits into Go's mode.
func modeBits(perms uint32) os.FileMode {
	var m os.FileMode
	if perms&0o4000 != 0 {
		m |= os.ModeSetuid
	}
	if perms&0o2000 != 0 {
		m |= os.ModeSetgid
	}
	if perms&0o1000 != 0 {
		m |= os.ModeSticky
	}
	return m
}
