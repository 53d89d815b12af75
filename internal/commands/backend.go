package commands

import (
	"context"
	"time"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// Backend is everything the chat layer asks of the provisioning domain.
// provision.Service satisfies it (wired in main); tests use the behaving
// in-memory backend of package commandstest. The backend does not authorise:
// the router checks roles, ownership and channel bindings before calling it.
type Backend interface {
	Jobs
	Lifecycle
	Monitor
	Catalog
	Nodes
	Admin
}

// Jobs creates containers and follows their creation jobs.
type Jobs interface {
	// PlanCreate validates req against templates, nodes and free resources
	// and fills in the template's defaults, without recording anything.
	PlanCreate(ctx context.Context, p provision.Principal, req provision.CreateRequest) (*provision.Plan, error)
	// Create records and enqueues the creation. The same dedupeKey returns
	// the container created the first time.
	Create(ctx context.Context, p provision.Principal, origin provision.Origin, req provision.CreateRequest, dedupeKey string) (*provision.Container, error)
	// Retry resumes a failed creation from the phase that failed.
	Retry(ctx context.Context, p provision.Principal, containerID string) error
	// Cancel stops a pending or running creation.
	Cancel(ctx context.Context, p provision.Principal, containerID string) error
	// Keep leaves a failed container in place for debugging.
	Keep(ctx context.Context, p provision.Principal, containerID string) error
	// Subscribe streams progress events after the event id after ("" = from
	// the start); the channel closes after a terminal event or when ctx ends.
	Subscribe(ctx context.Context, containerID, after string) (<-chan provision.ProgressEvent, error)
	// Container resolves a container id, hostname or VMID. Unknown refs
	// return an error wrapping provision.ErrNotFound.
	Container(ctx context.Context, ref string) (*provision.Container, error)
}

// LifecycleAction is a power or delete action on a container.
type LifecycleAction string

// Lifecycle actions.
const (
	ActionStart    LifecycleAction = "start"
	ActionStop     LifecycleAction = "stop"     // forced
	ActionShutdown LifecycleAction = "shutdown" // graceful, then forced after 30 s
	ActionRestart  LifecycleAction = "restart"  // reboot, falling back to stop + start
	ActionDelete   LifecycleAction = "delete"   // stop if running, destroy, purge
)

// Lifecycle runs lifecycle actions under the per-container lock.
type Lifecycle interface {
	// Lifecycle runs action and returns one sentence saying what happened
	// ("shut down gracefully", "forced stop after the 30 s shutdown timeout").
	// A held lock is reported as *provision.LockedError.
	Lifecycle(ctx context.Context, p provision.Principal, containerID string, action LifecycleAction) (string, error)
}

// ContainerFilter selects containers for list.
type ContainerFilter struct {
	Node  string
	State provision.State
	Owner *provision.Principal // nil = anyone's
}

// LiveStatus is a container's state on Proxmox now.
type LiveStatus struct {
	Status    string // running, stopped, unknown
	CPU       float64
	MemUsed   uint64 // bytes
	MemTotal  uint64
	DiskUsed  uint64
	DiskTotal uint64
	Uptime    time.Duration
	IP        string
}

// Monitor answers questions about containers.
type Monitor interface {
	// Containers lists containers the bot manages (deleted ones excluded
	// unless State asks for them), newest first.
	Containers(ctx context.Context, f ContainerFilter) ([]provision.Container, error)
	// Status reads the container's live state from Proxmox.
	Status(ctx context.Context, containerID string) (*LiveStatus, error)
	// Statuses reads the live state of several containers with one request
	// per node, not one per container; missing ids are left out.
	Statuses(ctx context.Context, containerIDs []string) (map[string]*LiveStatus, error)
	// Services lists discovered services; refresh rediscovers them first.
	Services(ctx context.Context, containerID string, refresh bool) ([]provision.Service, error)
	// Logs returns the last lines of journalctl -u unit.
	Logs(ctx context.Context, containerID, unit string, lines int) (string, error)
	// Credentials returns saved credentials (all services when service is
	// ""). The caller audits the reveal.
	Credentials(ctx context.Context, containerID, service string) ([]provision.Credential, error)
	// Events returns the timeline, oldest first, filtered by types (nil = all).
	Events(ctx context.Context, containerID string, types []provision.EventType) ([]provision.Event, error)
}

// TemplateEdit changes a template. Empty or zero fields are left alone.
type TemplateEdit struct {
	Description    string
	Tags           []string
	Cores          int
	MemoryMiB      int
	SwapMiB        int
	DiskGiB        int
	Storage        string
	Bridge         string
	EnableScripts  []string
	DisableScripts []string
	AddBuckets     []string
	RemoveBuckets  []string
}

// SyncReport is the result of importing the templates directory.
type SyncReport struct {
	Imported []string
	Failed   map[string]string // template name → reason
}

// Catalog serves templates and package buckets.
type Catalog interface {
	Templates(ctx context.Context, search string) ([]provision.Template, error)
	Template(ctx context.Context, name string) (*provision.Template, error)
	EditTemplate(ctx context.Context, p provision.Principal, name string, edit TemplateEdit) (*provision.Template, error)
	SyncTemplates(ctx context.Context, p provision.Principal) (*SyncReport, error)
	// ExportTemplate returns the template in the directory format as a
	// .tar.gz archive.
	ExportTemplate(ctx context.Context, name string) ([]byte, error)
	Buckets(ctx context.Context) ([]provision.Bucket, error)
	Bucket(ctx context.Context, name string) (*provision.Bucket, error)
	SaveBucket(ctx context.Context, p provision.Principal, b *provision.Bucket) error
	RemoveBucket(ctx context.Context, p provision.Principal, name string) error
}

// NodeStatus is a node with whether it answers now.
type NodeStatus struct {
	Node       provision.Node
	Online     bool
	Version    string // Proxmox VE version when online
	Containers int    // containers the bot manages there
	Problem    string // why it is offline, safe to show
}

// NodeChoices are what a create form offers once a node is chosen.
type NodeChoices struct {
	OSTemplates []string
	Storages    []string
	Bridges     []string
}

// NodeTest is the outcome of testing a node's API and SSH.
type NodeTest struct {
	APIVersion     string
	TLSFingerprint string // the leaf certificate seen (to pin)
	SSHHostKey     string // the host key seen (to pin)
	Problems       []string
}

// Nodes manages Proxmox nodes.
type Nodes interface {
	Nodes(ctx context.Context) ([]NodeStatus, error)
	NodeChoices(ctx context.Context, node string) (*NodeChoices, error)
	// AddNode tests the API and SSH, then saves; a failed test saves nothing
	// and returns a provision.UserError naming the problem.
	AddNode(ctx context.Context, p provision.Principal, n provision.Node) (*NodeTest, error)
	// EditNode applies the non-zero fields of n to the node named name,
	// tests, then saves.
	EditNode(ctx context.Context, p provision.Principal, name string, n provision.Node) (*NodeTest, error)
	TestNode(ctx context.Context, name string) (*NodeTest, error)
	SetDefaultNode(ctx context.Context, p provision.Principal, name string) error
	// RemoveNode refuses (UserError) while live containers are on it.
	RemoveNode(ctx context.Context, p provision.Principal, name string) error
}

// AuditQuery selects audit entries, newest first.
type AuditQuery struct {
	Target string // container id or hostname; "" = all
	Limit  int
}

// Admin serves roles, channel bindings, notifications and the audit log.
type Admin interface {
	// RoleOf is the highest role bound to the user or any of their groups
	// (RoleNone when none).
	RoleOf(ctx context.Context, p provision.Principal, groups []string) (provision.Role, error)
	RoleBindings(ctx context.Context, platform provision.Platform) ([]provision.RoleBinding, error)
	GrantRole(ctx context.Context, actor provision.Principal, b provision.RoleBinding) error
	RevokeRole(ctx context.Context, actor provision.Principal, b provision.RoleBinding) error
	// ChannelBinding returns the channel's binding, or nil when it has none.
	ChannelBinding(ctx context.Context, platform provision.Platform, channelID string) (*provision.ChannelBinding, error)
	// SetChannelBinding limits a channel to b.AllowedCommands, replacing
	// any earlier binding, and fills in b from what was saved.
	SetChannelBinding(ctx context.Context, actor provision.Principal, b *provision.ChannelBinding) error
	// RemoveChannelBinding lets a channel accept every command again; a
	// channel without a binding gives an error wrapping provision.ErrNotFound.
	RemoveChannelBinding(ctx context.Context, actor provision.Principal, platform provision.Platform, channelID string) error
	// ChannelBindings lists the platform's bound channels by channel id.
	ChannelBindings(ctx context.Context, platform provision.Platform) ([]provision.ChannelBinding, error)
	SetNotifications(ctx context.Context, actor provision.Principal, platform provision.Platform, workspace, channel string, events []string) error
	Audit(ctx context.Context, e *provision.AuditEntry) error
	AuditLog(ctx context.Context, q AuditQuery) ([]provision.AuditEntry, error)
}
