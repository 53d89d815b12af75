package pvesim

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Options configures a simulated Proxmox VE cluster and its API server.
type Options struct {
	// Nodes is the number of cluster nodes, named pve1, pve2, ... (default 2).
	Nodes int
	// TaskDuration is how long a task stays "running". Zero is the fast,
	// deterministic mode: a task's side effect is applied and the task is
	// "stopped" before the API call that started it returns.
	TaskDuration time.Duration
	// Addr is the listen address Run uses (default "127.0.0.1:8006").
	Addr string
	// Latency is added to every API response.
	Latency time.Duration
	// Seed makes generated values (MAC addresses, PIDs, the default token
	// secret) reproducible.
	Seed int64

	// TokenID and TokenSecret are the accepted API token
	// (default "root@pam!lxcbot" and a secret derived from Seed).
	TokenID     string
	TokenSecret string
	// Username and Password are accepted by POST /access/ticket
	// (default "root@pam" / "pvesim").
	Username string
	Password string

	// SchemaPath names a pve-api-subset.json to validate against; empty
	// uses the embedded copy.
	SchemaPath string
	// Certificate is the TLS certificate to serve; nil generates a
	// self-signed ECDSA certificate.
	Certificate *tls.Certificate
	// Templates are the OS templates (file names) present in every node's
	// "local" storage; nil uses DefaultTemplates.
	Templates []string
	// StringListVMID makes GET /nodes/{node}/lxc return vmid as a string,
	// as PVE up to 8.1 did.
	StringListVMID bool
	// NewRuntime is called when a container has been created; nil gives a
	// runtime that does nothing.
	NewRuntime func(node string, vmid int, hostname, ostemplate string) Runtime
	// Logger receives the simulator's logs; nil discards them.
	Logger *slog.Logger
}

// DefaultTemplates returns the OS templates every node offers by default.
func DefaultTemplates() []string {
	return []string{
		"debian-12-standard_12.7-1_amd64.tar.zst",
		"ubuntu-24.04-standard_24.04-2_amd64.tar.zst",
		"ubuntu-22.04-standard_22.04-1_amd64.tar.zst",
		"alpine-3.20-default_20240908_amd64.tar.xz",
		"rockylinux-9-default_20240912_amd64.tar.xz",
	}
}

func (o Options) withDefaults() Options {
	if o.Nodes <= 0 {
		o.Nodes = 2
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:8006"
	}
	if o.TokenID == "" {
		o.TokenID = "root@pam!lxcbot"
	}
	if o.TokenSecret == "" {
		r := rand.New(rand.NewPCG(uint64(o.Seed), 0x70766573696d))
		o.TokenSecret = fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x",
			r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xfff, r.Uint32()&0xfff, r.Uint64()&0xffffffffffff)
	}
	if o.Username == "" {
		o.Username = "root@pam"
	}
	if o.Password == "" {
		o.Password = "pvesim"
	}
	if o.Templates == nil {
		o.Templates = DefaultTemplates()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Runtime is the per-container runtime the simulator drives: the in-memory
// guest that the SSH side executes commands in. Its methods are called with
// the cluster's lock held and must not call back into the Cluster.
type Runtime interface {
	SetRunning(running bool)
	SetIP(ip string)
}

type noopRuntime struct{}

func (noopRuntime) SetRunning(bool) {}
func (noopRuntime) SetIP(string)    {}
