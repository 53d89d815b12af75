package provision

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/lxcbot/lxcbot/internal/secret"
)

// Store is the part of the system of record the provisioning engine uses.
// internal/store satisfies it.
type Store interface {
	CreateContainer(ctx context.Context, c *Container) error
	GetContainer(ctx context.Context, id string) (Container, error)
	FindContainer(ctx context.Context, ref string) (Container, error)
	TransitionContainer(ctx context.Context, id string, from []State, to State) error
	FailContainer(ctx context.Context, id string, phase Phase, errText string) error
	CompletePhase(ctx context.Context, id string, phase Phase) error
	ResetPhasesFrom(ctx context.Context, id string, phase Phase) error
	SetContainerPlacement(ctx context.Context, id, node string, vmid int) error
	SetContainerIP(ctx context.Context, id, ip string) error

	// ReserveVMID claims vmid for a container; ErrConflict if it is taken.
	ReserveVMID(ctx context.Context, vmid int, containerID, node string) error
	// ReleaseVMID drops a reservation.
	ReleaseVMID(ctx context.Context, vmid int) error
	// ReservedVMIDs lists every reserved VMID.
	ReservedVMIDs(ctx context.Context) ([]int, error)
	// VMIDsOf lists the VMIDs reserved for one container.
	VMIDsOf(ctx context.Context, containerID string) ([]int, error)

	AppendEvent(ctx context.Context, e *Event) error
	ListEvents(ctx context.Context, containerID string, types []EventType, limit int) ([]Event, error)
	ReplaceServices(ctx context.Context, containerID string, services []Service) error
	ReplaceCredentials(ctx context.Context, containerID string, creds []Credential) error

	GetTemplate(ctx context.Context, name string) (Template, error)
	GetBucket(ctx context.Context, name string) (Bucket, error)
	GetNode(ctx context.Context, name string) (Node, error)
	DefaultNode(ctx context.Context) (Node, error)
	ListNodes(ctx context.Context) ([]Node, error)
}

// NodeClients resolves a node name into clients for its API and its SSH
// host, caching them.
type NodeClients interface {
	Proxmox(ctx context.Context, node string) (Proxmox, error)
	Host(ctx context.Context, node string) (HostRunner, error)
}

// CreateSpec is everything POST /nodes/{node}/lxc receives.
type CreateSpec struct {
	VMID          int
	Hostname      string
	OSTemplate    string
	Cores         int
	MemoryMiB     int
	SwapMiB       int
	RootFS        string // <storage>:<GiB>
	Net0          string // name=eth0,bridge=...,ip=...[,gw=...]
	Nameserver    string
	SearchDomain  string
	SSHPublicKeys string
	Password      secret.String // random root password; never stored
	Unprivileged  bool
	Nesting       bool
	Keyctl        bool
	Fuse          bool
	Onboot        bool
	Tags          []string
	Description   string
}

// NetInterface is one network interface reported by a container.
type NetInterface struct {
	Name string
	IPv4 []string // addresses, with or without /prefix
}

// ErrVMIDExists is what Proxmox reports when creating a container whose VMID
// is already in use. Proxmox adapters wrap it (or return an error whose
// errors.Is matches it).
var ErrVMIDExists = fmt.Errorf("vmid already exists: %w", ErrConflict)

// Proxmox is the part of a node's API the pipeline uses.
type Proxmox interface {
	// CreateContainer posts the creation and returns the task's UPID.
	CreateContainer(ctx context.Context, node string, spec CreateSpec) (string, error)
	// WaitTask waits for a task and fails if its exit status is not OK.
	WaitTask(ctx context.Context, node, upid string) error
	// EnsureRunning starts the container unless it runs, and confirms it runs.
	EnsureRunning(ctx context.Context, node string, vmid int) error
	// Destroy stops (if needed) and deletes the container with its disks;
	// a container that does not exist counts as destroyed.
	Destroy(ctx context.Context, node string, vmid int) error
	Interfaces(ctx context.Context, node string, vmid int) ([]NetInterface, error)
	// Description returns the container's description (the marker lives
	// there); ErrNotFound if there is no such container.
	Description(ctx context.Context, node string, vmid int) (string, error)
	// VMIDExists reports whether any guest in the cluster uses vmid.
	VMIDExists(ctx context.Context, vmid int) (bool, error)
	// UsedVMIDs lists every guest VMID in the cluster.
	UsedVMIDs(ctx context.Context) ([]int, error)
	// OSTemplates lists the vztmpl volume ids available on node.
	OSTemplates(ctx context.Context, node string) ([]string, error)
}

// ExecOptions tunes one command run inside a container.
type ExecOptions struct {
	Stdin io.Reader
	// OnLine receives each output line as it arrives; stream is "stdout"
	// or "stderr".
	OnLine func(stream, line string)
}

// ExecResult is a finished command.
type ExecResult struct {
	ExitCode int
	Stdout   string
	Stderr   string
}

// HostRunner runs commands in containers through the node that hosts them
// (pct exec / pct push over SSH).
type HostRunner interface {
	// Exec runs argv inside the container. A non-zero exit is reported in
	// the result, not as an error; errors mean the command could not run.
	Exec(ctx context.Context, vmid int, argv []string, opts ExecOptions) (ExecResult, error)
	// Push writes content to dest inside the container.
	Push(ctx context.Context, vmid int, content []byte, dest string, perms uint32, owner, group string) error
}

// Enqueuer puts creation jobs on the work queue.
type Enqueuer interface {
	// EnqueueCreate enqueues a creation job; enqueueing the same attempt of
	// the same container twice is not an error and runs it once.
	EnqueueCreate(ctx context.Context, containerID string, attempt int) error
	// CancelJob asks a running or queued job to stop at its next safe point.
	CancelJob(ctx context.Context, containerID string) error
	// CancelRequested reports whether CancelJob was called for the job.
	CancelRequested(ctx context.Context, containerID string) (bool, error)
	// ClearCancel forgets a cancel request (a retried job starts clean).
	ClearCancel(ctx context.Context, containerID string) error
}

// LockHolder says who holds a lock, for what, since when.
type LockHolder struct {
	Who    string    `json:"who"`
	Action string    `json:"action"`
	Since  time.Time `json:"since"`
}

// LockedError is returned by Locker.Acquire when someone else holds the lock.
type LockedError struct {
	Key    string
	Holder LockHolder
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("%s is busy: %s by %s since %s", e.Key, e.Holder.Action, e.Holder.Who,
		e.Holder.Since.UTC().Format(time.RFC3339))
}

// Unwrap makes a LockedError an ErrConflict.
func (e *LockedError) Unwrap() error { return ErrConflict }

// Lock is a held lock.
type Lock interface {
	Release(ctx context.Context) error
	// Refresh extends the lock's expiry; it fails if the lock was lost.
	Refresh(ctx context.Context, ttl time.Duration) error
}

// Locker hands out exclusive, expiring locks.
type Locker interface {
	Acquire(ctx context.Context, key string, holder LockHolder, ttl time.Duration) (Lock, error)
}

// Bus carries progress events, ordered per container.
type Bus interface {
	// Publish appends an event to its container's stream and returns its id.
	Publish(ctx context.Context, e ProgressEvent) (string, error)
	// Subscribe delivers the container's events after id after ("" = from
	// the start) in order. The channel closes when ctx ends or after a
	// terminal event (ready, failed, cancelled).
	Subscribe(ctx context.Context, containerID, after string) (<-chan ProgressEvent, error)
}

// Clock tells the time.
type Clock interface{ Now() time.Time }

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }
