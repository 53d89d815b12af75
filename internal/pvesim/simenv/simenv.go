package simenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/pvesim"
	"github.com/lxcbot/lxcbot/internal/pvesim/guest"
	"github.com/lxcbot/lxcbot/internal/pvesim/sshd"
	"github.com/lxcbot/lxcbot/internal/secret"
)

// Options configure the simulated cluster.
type Options struct {
	Nodes        int           // default 2
	TaskDuration time.Duration // 0: fast, deterministic tasks
	Latency      time.Duration // added to every API response
	// SleepScale multiplies `sleep` inside containers: 0 = no real sleeping.
	SleepScale float64
	Seed       int64
	// APIAddr and SSHAddrs are listen addresses; empty picks free loopback ports.
	APIAddr  string
	SSHAddrs []string // one per node, in node order
	// SSHUser and SSHPassword are accepted by every node (default root / pvesim-ssh).
	SSHUser     string
	SSHPassword string
	Logger      *slog.Logger
}

// Env is a running simulated cluster.
type Env struct {
	Cluster *pvesim.Cluster
	API     *pvesim.Server
	SSH     map[string]*sshd.Server // by node name
	// SSHAddr is each node's SSH address, by node name.
	SSHAddr     map[string]string
	SSHUser     string
	SSHPassword string

	cancel context.CancelFunc
	wg     sync.WaitGroup
	lns    []net.Listener
}

type guestRuntime struct{ g *guest.Guest }

func (r guestRuntime) SetRunning(running bool) { r.g.SetRunning(running) }
func (r guestRuntime) SetIP(ip string)         { _ = r.g.SetIP(ip) }

// nodeHost lets one node's SSH server reach only the containers on that node.
type nodeHost struct {
	env  *Env
	node string
}

func (h nodeHost) Guest(vmid int) (*guest.Guest, bool) {
	node, ok := h.env.Cluster.FindContainer(vmid)
	if !ok || node != h.node {
		return nil, false
	}
	return h.env.Guest(vmid)
}

// Containers lists the node's containers for pct list.
func (h nodeHost) Containers() []sshd.NodeContainer {
	var out []sshd.NodeContainer
	for _, c := range h.env.Cluster.Containers(h.node) {
		out = append(out, sshd.NodeContainer{VMID: c.VMID, Name: c.Hostname, Status: c.Status, Lock: c.Locked})
	}
	return out
}

// Start starts the API and one SSH server per node.
func Start(ctx context.Context, opts Options) (*Env, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.SSHUser == "" {
		opts.SSHUser = "root"
	}
	if opts.SSHPassword == "" {
		opts.SSHPassword = "pvesim-ssh"
	}
	e := &Env{SSH: map[string]*sshd.Server{}, SSHAddr: map[string]string{},
		SSHUser: opts.SSHUser, SSHPassword: opts.SSHPassword}
	gopts := guest.Options{SleepScale: opts.SleepScale}
	e.Cluster = pvesim.New(pvesim.Options{
		Nodes: opts.Nodes, TaskDuration: opts.TaskDuration, Latency: opts.Latency, Seed: opts.Seed,
		Logger: opts.Logger.With("component", "pvesim"),
		NewRuntime: func(node string, vmid int, hostname, ostemplate string) pvesim.Runtime {
			return guestRuntime{g: guest.New(guest.Config{VMID: vmid, Hostname: hostname, OSTemplate: ostemplate,
				Logger: opts.Logger.With("component", "guest", "vmid", vmid), Options: gopts})}
		},
	})
	api, err := pvesim.NewServer(e.Cluster)
	if err != nil {
		e.Cluster.Close()
		return nil, fmt.Errorf("starting simulated API: %w", err)
	}
	e.API = api
	addr := opts.APIAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := api.Start(addr); err != nil {
		e.Cluster.Close()
		return nil, fmt.Errorf("starting simulated API on %s: %w", addr, err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	for i, node := range e.Cluster.NodeNames() {
		srv, err := sshd.New(sshd.Config{Node: node, Host: nodeHost{env: e, node: node},
			Users:  map[string]sshd.Credential{opts.SSHUser: {Password: opts.SSHPassword}},
			Logger: opts.Logger.With("component", "pvesim-sshd", "node", node)})
		if err != nil {
			e.Close()
			return nil, fmt.Errorf("starting SSH for %s: %w", node, err)
		}
		la := "127.0.0.1:0"
		if i < len(opts.SSHAddrs) && opts.SSHAddrs[i] != "" {
			la = opts.SSHAddrs[i]
		}
		ln, err := net.Listen("tcp", la)
		if err != nil {
			e.Close()
			return nil, fmt.Errorf("listening for SSH of %s on %s: %w", node, la, err)
		}
		e.lns = append(e.lns, ln)
		e.SSH[node] = srv
		e.SSHAddr[node] = ln.Addr().String()
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			if err := srv.Serve(sctx, ln); err != nil && !errors.Is(err, net.ErrClosed) && sctx.Err() == nil {
				opts.Logger.Warn("simulated SSH stopped", "node", node, "err", err)
			}
		}()
	}
	return e, nil
}

// Guest returns the in-memory guest of a container that exists.
func (e *Env) Guest(vmid int) (*guest.Guest, bool) {
	rt, ok := e.Cluster.Runtime(vmid)
	if !ok {
		return nil, false
	}
	gr, ok := rt.(guestRuntime)
	if !ok {
		return nil, false
	}
	return gr.g, true
}

// APIURL is the API base URL, ending in /api2/json.
func (e *Env) APIURL() string { return e.API.URL() }

// NodeConfigs describes every node for the bot's YAML configuration.
func (e *Env) NodeConfigs() []pvesim.NodeConfig {
	ssh := map[string]pvesim.SSHConfig{}
	for node, addr := range e.SSHAddr {
		ssh[node] = pvesim.SSHConfig{Addr: addr, User: e.SSHUser, Password: e.SSHPassword,
			HostKey: e.SSH[node].HostKeyFingerprint()}
	}
	return e.API.NodeConfigs(e.APIURL(), ssh)
}

// Nodes returns the node records the bot stores, pinned to the simulator's
// TLS certificate and SSH host keys.
func (e *Env) Nodes() []provision.Node {
	var out []provision.Node
	for _, nc := range e.NodeConfigs() {
		n := provision.Node{Name: nc.Name, APIURL: nc.APIURL, TokenID: nc.TokenID,
			TokenSecret: secret.String(nc.TokenSecret), TLSFingerprint: nc.TLSFingerprint, IsDefault: nc.Default}
		if nc.SSH != nil {
			n.SSHAddr, n.SSHUser, n.SSHPassword, n.SSHHostKey = nc.SSH.Addr, nc.SSH.User, secret.String(nc.SSH.Password), nc.SSH.HostKey
		}
		out = append(out, n)
	}
	return out
}

// Close stops every server.
func (e *Env) Close() {
	if e.cancel != nil {
		e.cancel()
	}
	for _, ln := range e.lns {
		ln.Close()
	}
	e.wg.Wait()
	if e.API != nil {
		e.API.Close()
	}
	e.Cluster.Close()
}
