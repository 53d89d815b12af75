package provision

import (
	"context"
	"time"
)

// GuestStatus is one container as Proxmox reports it now.
type GuestStatus struct {
	VMID      int
	Node      string
	Name      string // hostname
	Status    string // running, stopped; unknown when its node does not answer
	CPU       float64
	CPUs      int // allocated cores; CPU is a fraction of them
	MemUsed   uint64
	MemTotal  uint64
	DiskUsed  uint64
	DiskTotal uint64
	Uptime    time.Duration
	Tags      []string
	Lock      string // Proxmox's own config lock (backup, migrate, ...), "" when none
}

// Guest statuses beyond Proxmox's running and stopped.
const (
	StatusRunning = "running"
	StatusStopped = "stopped"
	StatusUnknown = "unknown"
)

// CPUPercent is the CPU use in percent of the allocated cores.
func (g GuestStatus) CPUPercent() float64 { return g.CPU * 100 }

// PowerAPI is what lifecycle actions need from a node's API. Every method
// waits for its Proxmox task and fails when the task fails. A container that
// does not exist is reported as an error wrapping ErrNotFound.
type PowerAPI interface {
	GuestStatus(ctx context.Context, node string, vmid int) (GuestStatus, error)
	Start(ctx context.Context, node string, vmid int) error
	// Stop is a forced stop.
	Stop(ctx context.Context, node string, vmid int) error
	// Shutdown asks the container to shut down cleanly within timeout; with
	// force, Proxmox stops it when the timeout passes.
	Shutdown(ctx context.Context, node string, vmid int, timeout time.Duration, force bool) error
	Reboot(ctx context.Context, node string, vmid int) error
	// Delete removes a stopped container with purge=1 and
	// destroy-unreferenced-disks=1.
	Delete(ctx context.Context, node string, vmid int) error
}

// InventoryAPI is what monitoring and the reconciler read from a node's API.
type InventoryAPI interface {
	// NodeGuests lists the containers on node with their live figures in
	// one call (cluster resources), however many there are. A node that is
	// down (even behind a cluster API that still answers) is an error
	// wrapping ErrUnavailable.
	NodeGuests(ctx context.Context, node string) ([]GuestStatus, error)
	// Version is GET /version: the Proxmox VE version.
	Version(ctx context.Context) (string, error)
	Interfaces(ctx context.Context, node string, vmid int) ([]NetInterface, error)
	// Description returns the container's description (the marker lives
	// there); ErrNotFound if there is no such container.
	Description(ctx context.Context, node string, vmid int) (string, error)
}

// NodeAPI is a node's API as lifecycle, monitoring and the reconciler use it.
type NodeAPI interface {
	PowerAPI
	InventoryAPI
}

// NodeAPIs resolves node names into API clients and SSH runners.
// internal/adapters/nodepool satisfies it (and NodeClients).
type NodeAPIs interface {
	NodeAPI(ctx context.Context, node string) (NodeAPI, error)
	Host(ctx context.Context, node string) (HostRunner, error)
}

// NotificationKind is what a team notification is about; admins choose
// which kinds their channel receives.
type NotificationKind string

// Notification kinds.
const (
	NotifyCreated   NotificationKind = "created"
	NotifyFailed    NotificationKind = "failed"
	NotifyDeleted   NotificationKind = "deleted"
	NotifyLifecycle NotificationKind = "lifecycle"
	NotifyDrift     NotificationKind = "drift"
	NotifyNode      NotificationKind = "node"
)

// Notification is a message for a team's notification channel. Platform and
// Workspace name the team; both empty means every team (node and drift news
// concern everyone who uses the node). Text never holds secrets.
type Notification struct {
	Kind      NotificationKind
	Platform  Platform
	Workspace string
	Text      string
	Container *Container // nil for node notifications
	Node      string
	At        time.Time
}

// Notifier delivers team notifications; the chat layer decides, from the
// workspace's settings, whether and where each kind is posted.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// containerNotification addresses n to the team the container was requested
// from.
func containerNotification(kind NotificationKind, c *Container, text string, at time.Time) Notification {
	cc := *c
	return Notification{Kind: kind, Platform: c.Origin.Platform, Workspace: c.Origin.WorkspaceID,
		Text: text, Container: &cc, Node: c.NodeName, At: at}
}
