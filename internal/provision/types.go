package provision

import (
	"time"

	"github.com/lxcbot/lxcbot/internal/secret"
)

// Platform is a chat platform a request came from.
type Platform string

// Platforms.
const (
	PlatformSlack   Platform = "slack"
	PlatformDiscord Platform = "discord"
	PlatformConsole Platform = "console"
)

// Role is a permission level. Roles are ordered: viewer < operator < admin.
type Role string

// Roles.
const (
	RoleNone     Role = ""
	RoleViewer   Role = "viewer"
	RoleOperator Role = "operator"
	RoleAdmin    Role = "admin"
)

// Rank orders roles; a higher rank includes every lower one.
func (r Role) Rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleOperator:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Principal is a person on a chat platform.
type Principal struct {
	Platform Platform `json:"platform"`
	UserID   string   `json:"user_id"`
	Name     string   `json:"name,omitempty"`
}

// Workspace is a Slack team, a Discord guild or the console, with its
// notification settings.
type Workspace struct {
	ID            int64
	Platform      Platform
	ExternalID    string // Slack team id, Discord guild id, "console"
	Name          string
	NotifyChannel string   // channel that receives team notifications; "" = none
	NotifyEvents  []string // created, failed, deleted, lifecycle, drift, node
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// SubjectKind says what a role binding binds.
type SubjectKind string

// Subject kinds.
const (
	SubjectUser  SubjectKind = "user"  // a platform user id
	SubjectGroup SubjectKind = "group" // a Slack user group or a Discord role
)

// RoleBinding gives a role to a user or group on a platform.
type RoleBinding struct {
	ID          int64
	Platform    Platform
	SubjectKind SubjectKind
	SubjectID   string
	Role        Role
	GrantedBy   string // "config" for bootstrap bindings, else platform:user
	CreatedAt   time.Time
}

// ChannelBinding limits what the bot does in one channel. An empty
// AllowedCommands list allows every command.
type ChannelBinding struct {
	ID              int64
	Platform        Platform
	ChannelID       string
	AllowedCommands []string
	CreatedAt       time.Time
}

// Node is a Proxmox VE node the bot may use.
type Node struct {
	ID                 int64
	Name               string
	APIURL             string // https://host:8006/api2/json
	TokenID            string // user@realm!tokenid
	TokenSecret        secret.String
	TLSFingerprint     string // SHA-256 of the leaf certificate, AB:CD:... ; "" = not pinned yet
	InsecureSkipVerify bool
	SSHAddr            string // host:port
	SSHUser            string
	SSHPassword        secret.String
	SSHPrivateKey      secret.String // PEM
	SSHHostKey         string        // SHA256:... fingerprint; "" = not pinned yet
	IsDefault          bool
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// FilePolicy says how a managed file is written into a container.
type FilePolicy string

// File policies.
const (
	PolicyDefault FilePolicy = "default" // write only if absent (keeps user edits)
	PolicyReplace FilePolicy = "replace" // overwrite if different
	PolicyBackup  FilePolicy = "backup"  // move existing to <f>.backup-YYYYMMDD-HHMMSS, then write
)

// Manager is a package manager.
type Manager string

// Package managers, in the order the pipeline installs them.
const (
	ManagerApt    Manager = "apt"
	ManagerPip    Manager = "pip"
	ManagerNpm    Manager = "npm"
	ManagerCustom Manager = "custom"
)

// Package is one package line. Check, Install and TimeoutSec are set only for
// custom packages (name|check command|install command[|timeout seconds]).
type Package struct {
	Name       string `json:"name"`
	Check      string `json:"check,omitempty"`
	Install    string `json:"install,omitempty"`
	TimeoutSec int    `json:"timeout_sec,omitempty"`
}

// Bucket is a named, reusable package list for one manager. Buckets form a
// library shared by templates; a template's own package files are imported as
// buckets too.
type Bucket struct {
	ID          int64
	Name        string
	Manager     Manager
	Description string
	Packages    []Package
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TemplateScript is one setup script, run in ascending Order.
type TemplateScript struct {
	Order   int    // NN of NN-name.sh
	Name    string // file name, e.g. 10-install.sh
	Body    string
	Enabled bool
}

// TemplateFile is a managed file.
type TemplateFile struct {
	Name      string // file name inside the container
	TargetDir string // directory it is written into
	Policy    FilePolicy
	Content   []byte
	Mode      uint32 // permission bits; 0 means 0644
}

// Template is a recipe for a container (not a Proxmox OS template).
type Template struct {
	ID             int64
	Name           string // unique; the directory name
	App            string // display name
	Description    string
	Tags           []string
	OSTemplate     string // local:vztmpl/... volume or a short name such as debian-12-standard
	Cores          int
	MemoryMiB      int
	SwapMiB        int
	DiskGiB        int
	Storage        string
	Bridge         string
	Unprivileged   bool
	Nesting        bool
	Keyctl         bool
	Fuse           bool
	PackagesStrict bool // a failed package install fails the job instead of warning
	Scripts        []TemplateScript
	Files          []TemplateFile
	Buckets        []string          // names of buckets (library or own) installed with this template
	Extra          map[string]string // unknown template.conf keys, kept
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// State is a container's lifecycle state in the bot's records.
type State string

// Lifecycle states.
const (
	StatePending   State = "pending"
	StateCreating  State = "creating"
	StateReady     State = "ready"
	StateFailed    State = "failed"
	StateCancelled State = "cancelled"
	StateDeleting  State = "deleting"
	StateDeleted   State = "deleted"
	StateGone      State = "gone"
)

// Phase is a step of the creation pipeline.
type Phase string

// Pipeline phases, in order.
const (
	PhaseReserve  Phase = "reserve"
	PhaseCreate   Phase = "create"
	PhaseStart    Phase = "start"
	PhaseNetwork  Phase = "network"
	PhaseDeploy   Phase = "deploy"
	PhasePackages Phase = "packages"
	PhaseScripts  Phase = "scripts"
	PhaseDiscover Phase = "discover"
	PhaseReady    Phase = "ready"
)

// Phases lists the pipeline phases in order.
var Phases = []Phase{PhaseReserve, PhaseCreate, PhaseStart, PhaseNetwork, PhaseDeploy, PhasePackages, PhaseScripts, PhaseDiscover, PhaseReady}

// Origin is where a request was made, so progress and replies go back there.
type Origin struct {
	Platform    Platform `json:"platform"`
	WorkspaceID string   `json:"workspace_id,omitempty"` // team/guild id
	ChannelID   string   `json:"channel_id,omitempty"`
	ThreadID    string   `json:"thread_id,omitempty"`  // Slack thread_ts, Discord thread channel id
	MessageID   string   `json:"message_id,omitempty"` // the job card message
}

// CreateRequest is what a user asked for. Zero values mean "the template's".
type CreateRequest struct {
	Template      string   `json:"template"`
	Hostname      string   `json:"hostname"`
	Node          string   `json:"node,omitempty"`
	VMID          int      `json:"vmid,omitempty"`
	Cores         int      `json:"cores,omitempty"`
	MemoryMiB     int      `json:"memory_mib,omitempty"`
	SwapMiB       int      `json:"swap_mib,omitempty"`
	DiskGiB       int      `json:"disk_gib,omitempty"`
	Storage       string   `json:"storage,omitempty"`
	Bridge        string   `json:"bridge,omitempty"`
	OSTemplate    string   `json:"os_template,omitempty"`
	IP            string   `json:"ip,omitempty"` // "dhcp" or CIDR
	Gateway       string   `json:"gateway,omitempty"`
	Nameserver    string   `json:"nameserver,omitempty"`
	SearchDomain  string   `json:"searchdomain,omitempty"`
	SSHPublicKeys string   `json:"ssh_public_keys,omitempty"`
	Onboot        bool     `json:"onboot,omitempty"`
	Buckets       []string `json:"buckets,omitempty"`      // nil = the template's
	SkipScripts   []string `json:"skip_scripts,omitempty"` // script names disabled for this container
}

// Container is the bot's record of a container it manages.
type Container struct {
	ID              string // also the queue task id
	NodeName        string
	VMID            int // 0 until reserved
	Hostname        string
	TemplateName    string
	Owner           Principal
	Origin          Origin
	State           State
	Request         CreateRequest
	CompletedPhases []Phase
	FailedPhase     Phase  // "" unless State == failed
	LastError       string // safe to show: no secrets
	IP              string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	ReadyAt         *time.Time
	DeletedAt       *time.Time
}

// HasPhase reports whether p is recorded as completed.
func (c *Container) HasPhase(p Phase) bool {
	for _, q := range c.CompletedPhases {
		if q == p {
			return true
		}
	}
	return false
}

// EventType classifies timeline entries.
type EventType string

// Event types.
const (
	EventRequested     EventType = "requested"
	EventPhaseStarted  EventType = "phase_started"
	EventPhaseFinished EventType = "phase_finished"
	EventScript        EventType = "script_finished"
	EventWarning       EventType = "warning"
	EventError         EventType = "error"
	EventAction        EventType = "action"
	EventDrift         EventType = "drift"
)

// Event is one entry of a container's timeline.
type Event struct {
	ID          int64
	ContainerID string
	Type        EventType
	Phase       Phase
	Message     string
	Actor       string // platform:user, or "system"
	Duration    time.Duration
	Data        map[string]any
	CreatedAt   time.Time
}

// ServiceKind separates the services a template installed from the OS's own.
type ServiceKind string

// Service kinds.
const (
	ServiceApplication ServiceKind = "application"
	ServiceSystem      ServiceKind = "system"
)

// Service is a systemd unit discovered inside a container.
type Service struct {
	ContainerID string
	Unit        string
	Kind        ServiceKind
	Status      string // active, failed, ...
	Ports       []int
	URL         string // http://ip:port when a port is known
	UpdatedAt   time.Time
}

// Credential is one key/value a template saved with save_credential. The store
// keeps Value encrypted.
type Credential struct {
	ContainerID string
	Service     string
	Key         string
	Value       secret.String
	UpdatedAt   time.Time
}

// AuditEntry records one command or button press.
type AuditEntry struct {
	ID          int64
	At          time.Time
	Actor       Principal
	WorkspaceID string
	ChannelID   string
	Command     string // e.g. "stop", "creds", "button:stop"
	Target      string // container id, hostname, node, template...
	Args        string // secrets redacted
	Outcome     string // ok, denied, error, user_error
	Error       string // safe text or reference id
	Duration    time.Duration
	RefID       string
}
