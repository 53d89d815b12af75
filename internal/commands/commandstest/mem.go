package commandstest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/secret"
)

// Epoch is the fixed time the in-memory backend and its fixtures use.
var Epoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// FixedClock always tells the same time, so output is deterministic.
type FixedClock struct{ T time.Time }

// Now returns T.
func (c FixedClock) Now() time.Time { return c.T }

// Mem is an in-memory Backend that behaves like the real one for the chat
// layer: containers with owners and states, a role table, templates, nodes,
// buckets, an audit log, and creation jobs that emit a fixed sequence of
// progress events. Safe for concurrent use.
type Mem struct {
	mu         sync.Mutex
	containers map[string]*provision.Container
	status     map[string]string // container id → running/stopped
	roles      map[string]provision.Role
	groupRoles map[string]provision.Role
	channels   map[string]*provision.ChannelBinding
	templates  []provision.Template
	nodes      []commands.NodeStatus
	buckets    map[string]*provision.Bucket
	services   map[string][]provision.Service
	creds      map[string][]provision.Credential
	audit      []provision.AuditEntry
	locks      map[string]*provision.LockedError
	nextVMID   int
	cards      map[string]bool
	// Fail makes the next creation fail at this phase ("" = succeed).
	Fail provision.Phase
}

// Principals used by fixtures.
var (
	Admin    = provision.Principal{Platform: provision.PlatformConsole, UserID: "ada", Name: "ada"}
	Operator = provision.Principal{Platform: provision.PlatformConsole, UserID: "alice", Name: "alice"}
	Other    = provision.Principal{Platform: provision.PlatformConsole, UserID: "bob", Name: "bob"}
	Viewer   = provision.Principal{Platform: provision.PlatformConsole, UserID: "vera", Name: "vera"}
	Stranger = provision.Principal{Platform: provision.PlatformConsole, UserID: "sam", Name: "sam"}
)

// NewMem returns a backend seeded with the standard fixture: two nodes, two
// templates, containers web1 (alice's, running), web2 (bob's, running),
// db1 (alice's, failed) and the roles of Admin, Operator, Other and Viewer.
func NewMem() *Mem {
	m := &Mem{
		containers: map[string]*provision.Container{},
		status:     map[string]string{},
		roles:      map[string]provision.Role{},
		groupRoles: map[string]provision.Role{},
		channels:   map[string]*provision.ChannelBinding{},
		buckets:    map[string]*provision.Bucket{},
		services:   map[string][]provision.Service{},
		creds:      map[string][]provision.Credential{},
		locks:      map[string]*provision.LockedError{},
		nextVMID:   110,
	}
	m.SetRole(Admin, provision.RoleAdmin)
	m.SetRole(Operator, provision.RoleOperator)
	m.SetRole(Other, provision.RoleOperator)
	m.SetRole(Viewer, provision.RoleViewer)
	m.nodes = []commands.NodeStatus{
		{Node: provision.Node{Name: "pve1", APIURL: "https://10.0.0.5:8006/api2/json", IsDefault: true}, Online: true, Version: "8.2.4"},
		{Node: provision.Node{Name: "pve2", APIURL: "https://10.0.0.6:8006/api2/json"}, Online: true, Version: "8.2.4"},
	}
	m.templates = []provision.Template{
		{Name: "nginx", App: "Nginx", Description: "a web server", Tags: []string{"web"}, OSTemplate: "debian-12-standard",
			Cores: 1, MemoryMiB: 512, SwapMiB: 512, DiskGiB: 8, Unprivileged: true,
			Scripts: []provision.TemplateScript{{Order: 10, Name: "10-install.sh", Enabled: true}, {Order: 20, Name: "20-tls.sh", Enabled: true}},
			Buckets: []string{"base"}},
		{Name: "postgres", App: "PostgreSQL", Description: "a database", Tags: []string{"db"}, OSTemplate: "debian-12-standard",
			Cores: 2, MemoryMiB: 1024, DiskGiB: 16, Unprivileged: true},
	}
	m.buckets["base"] = &provision.Bucket{Name: "base", Manager: provision.ManagerApt, Packages: []provision.Package{{Name: "curl"}, {Name: "jq"}}}
	m.put(&provision.Container{ID: "ct-web1", Hostname: "web1", VMID: 101, NodeName: "pve1", TemplateName: "nginx", Owner: Operator,
		State: provision.StateReady, IP: "10.0.0.101", CreatedAt: Epoch.Add(-26 * time.Hour)}, "running")
	m.put(&provision.Container{ID: "ct-web2", Hostname: "web2", VMID: 102, NodeName: "pve2", TemplateName: "nginx", Owner: Other,
		State: provision.StateReady, IP: "10.0.0.102", CreatedAt: Epoch.Add(-3 * time.Hour)}, "running")
	m.put(&provision.Container{ID: "ct-db1", Hostname: "db1", VMID: 103, NodeName: "pve1", TemplateName: "postgres", Owner: Operator,
		State: provision.StateFailed, FailedPhase: provision.PhaseScripts, LastError: "script 10-install.sh exited with status 1",
		CreatedAt: Epoch.Add(-time.Hour)}, "running")
	m.services["ct-web1"] = []provision.Service{
		{ContainerID: "ct-web1", Unit: "nginx.service", Kind: provision.ServiceApplication, Status: "active", Ports: []int{80}, URL: "http://10.0.0.101:80"},
		{ContainerID: "ct-web1", Unit: "ssh.service", Kind: provision.ServiceSystem, Status: "active", Ports: []int{22}},
	}
	m.creds["ct-web1"] = []provision.Credential{{ContainerID: "ct-web1", Service: "nginx", Key: "ADMIN_PASSWORD", Value: secret.String("s3cret-pa55")}}
	return m
}

func (m *Mem) put(c *provision.Container, status string) {
	c.UpdatedAt = c.CreatedAt
	m.containers[c.ID] = c
	m.status[c.ID] = status
}

func key(p provision.Principal) string { return string(p.Platform) + ":" + p.UserID }

// SetRole binds a role to a principal (RoleNone removes it).
func (m *Mem) SetRole(p provision.Principal, r provision.Role) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.roles[key(p)] = r
}

// SetGroupRole binds a role to a group id.
func (m *Mem) SetGroupRole(group string, r provision.Role) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.groupRoles[group] = r
}

// BindChannel limits a channel to some commands.
func (m *Mem) BindChannel(platform provision.Platform, channel string, allowed ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.channels[string(platform)+":"+channel] = &provision.ChannelBinding{Platform: platform, ChannelID: channel, AllowedCommands: allowed}
}

// Lock makes lifecycle actions on a container fail as if someone held its lock.
func (m *Mem) Lock(containerID string, holder provision.LockHolder) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.locks[containerID] = &provision.LockedError{Key: "ct:" + containerID, Holder: holder}
}

// AuditEntries returns a copy of the audit log.
func (m *Mem) AuditEntries() []provision.AuditEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.audit)
}

// Get returns a copy of a container by id.
func (m *Mem) Get(id string) (provision.Container, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.containers[id]
	if !ok {
		return provision.Container{}, false
	}
	return *c, true
}

func (m *Mem) find(ref string) (*provision.Container, error) {
	if c, ok := m.containers[ref]; ok {
		return c, nil
	}
	var hit *provision.Container
	for _, c := range m.containers {
		if c.State == provision.StateDeleted {
			continue
		}
		if c.Hostname == strings.ToLower(ref) || (c.VMID != 0 && strconv.Itoa(c.VMID) == ref) {
			hit = c
		}
	}
	if hit == nil {
		return nil, provision.Userf(provision.ErrNotFound, "no container %q: use a hostname or VMID from /lxc list", ref)
	}
	return hit, nil
}

// PlanCreate implements commands.Backend.
func (m *Mem) PlanCreate(_ context.Context, _ provision.Principal, req provision.CreateRequest) (*provision.Plan, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var tpl *provision.Template
	for i := range m.templates {
		if m.templates[i].Name == req.Template {
			tpl = &m.templates[i]
		}
	}
	if tpl == nil {
		return nil, provision.Userf(provision.ErrNotFound, "no template %q; see /lxc templates", req.Template)
	}
	for _, c := range m.containers {
		if c.Hostname == req.Hostname && c.State != provision.StateDeleted {
			return nil, provision.Userf(provision.ErrConflict, "a container named %s already exists: choose another hostname", req.Hostname)
		}
	}
	if req.Node == "" {
		req.Node = "pve1"
	}
	known := false
	for _, n := range m.nodes {
		known = known || n.Node.Name == req.Node
	}
	if !known {
		return nil, provision.Userf(provision.ErrNotFound, "no node %q; see /lxc nodes", req.Node)
	}
	fill := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	fill(&req.Cores, tpl.Cores)
	fill(&req.MemoryMiB, tpl.MemoryMiB)
	fill(&req.SwapMiB, tpl.SwapMiB)
	fill(&req.DiskGiB, tpl.DiskGiB)
	if req.Storage == "" {
		req.Storage = "local-lvm"
	}
	if req.Bridge == "" {
		req.Bridge = "vmbr0"
	}
	if req.OSTemplate == "" {
		req.OSTemplate = tpl.OSTemplate
	}
	return &provision.Plan{Request: req, Template: *tpl, Node: req.Node}, nil
}

// Create implements commands.Backend.
func (m *Mem) Create(ctx context.Context, p provision.Principal, origin provision.Origin, req provision.CreateRequest, dedupeKey string) (*provision.Container, error) {
	plan, err := m.PlanCreate(ctx, p, req)
	m.mu.Lock()
	defer m.mu.Unlock()
	id := "ct-" + req.Hostname
	if dedupeKey != "" {
		id = provision.ContainerIDFor(dedupeKey)
		if c, ok := m.containers[id]; ok {
			cp := *c
			return &cp, nil
		}
	}
	if err != nil {
		return nil, err
	}
	c := &provision.Container{ID: id, Hostname: plan.Request.Hostname, NodeName: plan.Node, TemplateName: plan.Template.Name,
		Owner: p, Origin: origin, State: provision.StatePending, Request: plan.Request, CreatedAt: Epoch}
	m.put(c, "stopped")
	cp := *c
	return &cp, nil
}

// Retry implements commands.Backend.
func (m *Mem) Retry(_ context.Context, _ provision.Principal, id string) error {
	return m.transition(id, provision.StateFailed, provision.StatePending, "retried")
}

// Cancel implements commands.Backend.
func (m *Mem) Cancel(_ context.Context, _ provision.Principal, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.containers[id]
	if !ok {
		return provision.ErrNotFound
	}
	if c.State != provision.StatePending && c.State != provision.StateCreating {
		return provision.Userf(provision.ErrConflict, "%s is %s: there is no creation to cancel", c.Hostname, c.State)
	}
	c.State = provision.StateCancelled
	return nil
}

// Keep implements commands.Backend.
func (m *Mem) Keep(_ context.Context, _ provision.Principal, id string) error {
	return m.transition(id, provision.StateFailed, provision.StateFailed, "kept")
}

func (m *Mem) transition(id string, from, to provision.State, what string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.containers[id]
	if !ok {
		return provision.ErrNotFound
	}
	if c.State != from {
		return provision.Userf(provision.ErrConflict, "%s is %s, not %s: it cannot be %s", c.Hostname, c.State, from, what)
	}
	c.State = to
	return nil
}

// Subscribe implements commands.Backend: a pending job runs at once through
// every phase (or fails at Fail), emitting its events in order.
func (m *Mem) Subscribe(ctx context.Context, id, _ string) (<-chan provision.ProgressEvent, error) {
	m.mu.Lock()
	c, ok := m.containers[id]
	if !ok {
		m.mu.Unlock()
		return nil, provision.ErrNotFound
	}
	evs := m.runJob(c)
	m.mu.Unlock()
	ch := make(chan provision.ProgressEvent)
	go func() {
		defer close(ch)
		for _, e := range evs {
			select {
			case ch <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}

// runJob moves a pending container to ready (or failed) and returns the
// events of that run. Called with m.mu held.
func (m *Mem) runJob(c *provision.Container) []provision.ProgressEvent {
	if c.State != provision.StatePending {
		return nil
	}
	at := Epoch
	var evs []provision.ProgressEvent
	emit := func(e provision.ProgressEvent) {
		e.ContainerID, e.Seq, e.Hostname, e.At = c.ID, int64(len(evs)+1), c.Hostname, at
		evs = append(evs, e)
		at = at.Add(2 * time.Second)
	}
	if c.VMID == 0 {
		c.VMID = m.nextVMID
		m.nextVMID++
	}
	for _, ph := range provision.Phases {
		emit(provision.ProgressEvent{Type: provision.ProgressPhaseStarted, Phase: ph, Percent: provision.PhasePercent(ph, 0)})
		if ph == provision.PhaseScripts {
			for i, s := range []string{"10-install.sh", "20-tls.sh"} {
				emit(provision.ProgressEvent{Type: provision.ProgressScriptStarted, Phase: ph, Script: s, ScriptIndex: i + 1, ScriptTotal: 2, Percent: provision.PhasePercent(ph, float64(i)/2)})
				emit(provision.ProgressEvent{Type: provision.ProgressLog, Phase: ph, Script: s, Line: "running " + s, Stream: "stdout", Percent: provision.PhasePercent(ph, float64(i)/2)})
				if m.Fail == ph {
					emit(provision.ProgressEvent{Type: provision.ProgressFailed, Phase: ph, Message: "script " + s + " exited with status 1",
						Lines: []string{"running " + s, "E: Unable to locate package nginx-extras"}, Percent: provision.PhasePercent(ph, float64(i)/2)})
					c.State, c.FailedPhase, c.LastError = provision.StateFailed, ph, "script "+s+" exited with status 1"
					m.Fail = ""
					return evs
				}
				emit(provision.ProgressEvent{Type: provision.ProgressScriptFinished, Phase: ph, Script: s, ScriptIndex: i + 1, ScriptTotal: 2, Percent: provision.PhasePercent(ph, float64(i+1)/2)})
			}
		}
		if ph == provision.PhaseNetwork {
			c.IP = fmt.Sprintf("10.0.0.%d", c.VMID)
			emit(provision.ProgressEvent{Type: provision.ProgressPhaseFinished, Phase: ph, Duration: 2 * time.Second, IP: c.IP, VMID: c.VMID, Node: c.NodeName, Percent: provision.PhasePercent(ph, 1)})
			continue
		}
		if ph == provision.PhasePackages {
			emit(provision.ProgressEvent{Type: provision.ProgressWarning, Phase: ph, Message: "pip package foo failed to install; continuing", Percent: provision.PhasePercent(ph, 1)})
		}
		if ph == provision.PhaseReady {
			break
		}
		emit(provision.ProgressEvent{Type: provision.ProgressPhaseFinished, Phase: ph, Duration: 2 * time.Second, VMID: c.VMID, Node: c.NodeName, Percent: provision.PhasePercent(ph, 1)})
	}
	c.State = provision.StateReady
	m.status[c.ID] = "running"
	m.services[c.ID] = []provision.Service{{ContainerID: c.ID, Unit: "nginx.service", Kind: provision.ServiceApplication, Status: "active", Ports: []int{80}, URL: "http://" + c.IP + ":80"}}
	emit(provision.ProgressEvent{Type: provision.ProgressReady, Phase: provision.PhaseReady, Percent: 100, IP: c.IP, VMID: c.VMID, Node: c.NodeName})
	return evs
}

// Container implements commands.Backend.
func (m *Mem) Container(_ context.Context, ref string) (*provision.Container, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.find(ref)
	if err != nil {
		return nil, err
	}
	cp := *c
	return &cp, nil
}

// Lifecycle implements commands.Backend.
func (m *Mem) Lifecycle(_ context.Context, _ provision.Principal, id string, a commands.LifecycleAction) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.containers[id]
	if !ok {
		return "", provision.ErrNotFound
	}
	if l := m.locks[id]; l != nil {
		return "", l
	}
	st := m.status[id]
	switch a {
	case commands.ActionStart:
		if st == "running" {
			return "", provision.Userf(provision.ErrConflict, "%s is already running", c.Hostname)
		}
		m.status[id] = "running"
		return "started", nil
	case commands.ActionStop, commands.ActionShutdown:
		if st != "running" {
			return "", provision.Userf(provision.ErrConflict, "%s is not running", c.Hostname)
		}
		m.status[id] = "stopped"
		if a == commands.ActionShutdown {
			return "shut down gracefully", nil
		}
		return "stopped (forced)", nil
	case commands.ActionRestart:
		m.status[id] = "running"
		return "restarted (reboot)", nil
	case commands.ActionDelete:
		c.State = provision.StateDeleted
		m.status[id] = "stopped"
		return "deleted with its disks", nil
	}
	return "", provision.Userf(provision.ErrInvalid, "unknown action %s", a)
}

// Containers implements commands.Backend.
func (m *Mem) Containers(_ context.Context, f commands.ContainerFilter) ([]provision.Container, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []provision.Container
	for _, c := range m.containers {
		if f.State == "" && (c.State == provision.StateDeleted) || f.State != "" && c.State != f.State {
			continue
		}
		if f.Node != "" && c.NodeName != f.Node || f.Owner != nil && key(c.Owner) != key(*f.Owner) {
			continue
		}
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Hostname < out[j].Hostname })
	return out, nil
}

// Status implements commands.Backend.
// Statuses implements commands.Monitor with one Status per id.
func (m *Mem) Statuses(ctx context.Context, ids []string) (map[string]*commands.LiveStatus, error) {
	out := map[string]*commands.LiveStatus{}
	for _, id := range ids {
		if st, err := m.Status(ctx, id); err == nil {
			out[id] = st
		}
	}
	return out, nil
}

func (m *Mem) Status(_ context.Context, id string) (*commands.LiveStatus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.containers[id]
	if !ok {
		return nil, provision.ErrNotFound
	}
	st := &commands.LiveStatus{Status: m.status[id], MemTotal: 512 << 20, DiskTotal: 8 << 30, DiskUsed: 1 << 30, IP: c.IP}
	if st.Status == "running" {
		st.CPU, st.MemUsed, st.Uptime = 0.03, 128<<20, 90*time.Minute
	}
	return st, nil
}

// Services implements commands.Backend.
func (m *Mem) Services(_ context.Context, id string, _ bool) ([]provision.Service, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.services[id]), nil
}

// Logs implements commands.Backend.
func (m *Mem) Logs(_ context.Context, id, unit string, lines int) (string, error) {
	var b strings.Builder
	for i := 1; i <= lines; i++ {
		fmt.Fprintf(&b, "Mar 01 12:00:%02d %s %s[42]: line %d\n", i%60, id, strings.TrimSuffix(unit, ".service"), i)
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// Credentials implements commands.Backend.
func (m *Mem) Credentials(_ context.Context, id, service string) ([]provision.Credential, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []provision.Credential
	for _, c := range m.creds[id] {
		if service == "" || c.Service == service {
			out = append(out, c)
		}
	}
	return out, nil
}

// Events implements commands.Backend.
func (m *Mem) Events(_ context.Context, id string, types []provision.EventType) ([]provision.Event, error) {
	all := []provision.Event{
		{ContainerID: id, Type: provision.EventRequested, Message: "requested", Actor: "console:alice", CreatedAt: Epoch.Add(-time.Hour)},
		{ContainerID: id, Type: provision.EventPhaseFinished, Phase: provision.PhaseCreate, Message: "created", Duration: 4 * time.Second, CreatedAt: Epoch.Add(-time.Hour + 5*time.Second)},
		{ContainerID: id, Type: provision.EventWarning, Phase: provision.PhasePackages, Message: "pip package foo failed", CreatedAt: Epoch.Add(-time.Hour + 20*time.Second)},
	}
	var out []provision.Event
	for _, e := range all {
		if len(types) == 0 || slices.Contains(types, e.Type) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Templates implements commands.Backend.
func (m *Mem) Templates(_ context.Context, search string) ([]provision.Template, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []provision.Template
	for _, t := range m.templates {
		if search == "" || strings.Contains(t.Name, search) || slices.Contains(t.Tags, search) {
			out = append(out, t)
		}
	}
	return out, nil
}

// Template implements commands.Backend.
func (m *Mem) Template(_ context.Context, name string) (*provision.Template, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.templates {
		if t.Name == name {
			return &t, nil
		}
	}
	return nil, provision.ErrNotFound
}

// EditTemplate implements commands.Backend.
func (m *Mem) EditTemplate(_ context.Context, _ provision.Principal, name string, e commands.TemplateEdit) (*provision.Template, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.templates {
		t := &m.templates[i]
		if t.Name != name {
			continue
		}
		if e.Cores != 0 {
			t.Cores = e.Cores
		}
		if e.MemoryMiB != 0 {
			t.MemoryMiB = e.MemoryMiB
		}
		if e.Description != "" {
			t.Description = e.Description
		}
		for j := range t.Scripts {
			if slices.Contains(e.DisableScripts, t.Scripts[j].Name) {
				t.Scripts[j].Enabled = false
			}
			if slices.Contains(e.EnableScripts, t.Scripts[j].Name) {
				t.Scripts[j].Enabled = true
			}
		}
		cp := *t
		return &cp, nil
	}
	return nil, provision.ErrNotFound
}

// SyncTemplates implements commands.Backend.
func (m *Mem) SyncTemplates(context.Context, provision.Principal) (*commands.SyncReport, error) {
	return &commands.SyncReport{Imported: []string{"nginx", "postgres"}, Failed: map[string]string{"broken": "template.conf: line 3: unterminated quote"}}, nil
}

// ExportTemplate implements commands.Backend.
func (m *Mem) ExportTemplate(ctx context.Context, name string) ([]byte, error) {
	if _, err := m.Template(ctx, name); err != nil {
		return nil, err
	}
	return []byte("tar.gz of " + name), nil
}

// Buckets implements commands.Backend.
func (m *Mem) Buckets(context.Context) ([]provision.Bucket, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []provision.Bucket
	for _, b := range m.buckets {
		out = append(out, *b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Bucket implements commands.Backend.
func (m *Mem) Bucket(_ context.Context, name string) (*provision.Bucket, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if b, ok := m.buckets[name]; ok {
		cp := *b
		return &cp, nil
	}
	return nil, provision.ErrNotFound
}

// SaveBucket implements commands.Backend.
func (m *Mem) SaveBucket(_ context.Context, _ provision.Principal, b *provision.Bucket) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp := *b
	m.buckets[b.Name] = &cp
	return nil
}

// RemoveBucket implements commands.Backend.
func (m *Mem) RemoveBucket(_ context.Context, _ provision.Principal, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.buckets[name]; !ok {
		return provision.Userf(provision.ErrNotFound, "no bucket %q; see /lxc buckets", name)
	}
	delete(m.buckets, name)
	return nil
}

// Nodes implements commands.Backend.
func (m *Mem) Nodes(context.Context) ([]commands.NodeStatus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.nodes)
	for i := range out {
		for _, c := range m.containers {
			if c.NodeName == out[i].Node.Name && c.State != provision.StateDeleted {
				out[i].Containers++
			}
		}
	}
	return out, nil
}

// NodeChoices implements commands.Backend.
func (m *Mem) NodeChoices(_ context.Context, node string) (*commands.NodeChoices, error) {
	return &commands.NodeChoices{
		OSTemplates: []string{"local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst", "local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst"},
		Storages:    []string{"local-lvm", node + "-zfs"},
		Bridges:     []string{"vmbr0"},
	}, nil
}

// AddNode implements commands.Backend.
func (m *Mem) AddNode(_ context.Context, _ provision.Principal, n provision.Node) (*commands.NodeTest, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nodes = append(m.nodes, commands.NodeStatus{Node: n, Online: true, Version: "8.2.4"})
	return &commands.NodeTest{APIVersion: "8.2.4", TLSFingerprint: "AB:CD:EF", SSHHostKey: "SHA256:abc"}, nil
}

// EditNode implements commands.Backend.
func (m *Mem) EditNode(ctx context.Context, _ provision.Principal, name string, _ provision.Node) (*commands.NodeTest, error) {
	return m.TestNode(ctx, name)
}

// TestNode implements commands.Backend.
func (m *Mem) TestNode(_ context.Context, name string) (*commands.NodeTest, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range m.nodes {
		if n.Node.Name == name {
			return &commands.NodeTest{APIVersion: "8.2.4", TLSFingerprint: "AB:CD:EF", SSHHostKey: "SHA256:abc"}, nil
		}
	}
	return nil, provision.Userf(provision.ErrNotFound, "no node %q; see /lxc nodes", name)
}

// SetDefaultNode implements commands.Backend.
func (m *Mem) SetDefaultNode(_ context.Context, _ provision.Principal, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	found := false
	for i := range m.nodes {
		m.nodes[i].Node.IsDefault = m.nodes[i].Node.Name == name
		found = found || m.nodes[i].Node.IsDefault
	}
	if !found {
		return provision.Userf(provision.ErrNotFound, "no node %q; see /lxc nodes", name)
	}
	return nil
}

// RemoveNode implements commands.Backend.
func (m *Mem) RemoveNode(_ context.Context, _ provision.Principal, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.containers {
		if c.NodeName == name && c.State != provision.StateDeleted {
			return provision.Userf(provision.ErrConflict, "%s still hosts %s; delete its containers first", name, c.Hostname)
		}
	}
	return provision.Userf(provision.ErrNotFound, "no node %q; see /lxc nodes", name)
}

// RoleOf implements commands.Backend.
func (m *Mem) RoleOf(_ context.Context, p provision.Principal, groups []string) (provision.Role, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.roles[key(p)]
	for _, g := range groups {
		if gr := m.groupRoles[g]; gr.Rank() > r.Rank() {
			r = gr
		}
	}
	return r, nil
}

// RoleBindings implements commands.Backend.
func (m *Mem) RoleBindings(_ context.Context, platform provision.Platform) ([]provision.RoleBinding, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []provision.RoleBinding
	for k, r := range m.roles {
		plat, id, _ := strings.Cut(k, ":")
		if provision.Platform(plat) == platform && r != provision.RoleNone {
			out = append(out, provision.RoleBinding{Platform: platform, SubjectKind: provision.SubjectUser, SubjectID: id, Role: r, GrantedBy: "config"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SubjectID < out[j].SubjectID })
	return out, nil
}

// GrantRole implements commands.Backend.
func (m *Mem) GrantRole(_ context.Context, _ provision.Principal, b provision.RoleBinding) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if b.SubjectKind == provision.SubjectGroup {
		m.groupRoles[b.SubjectID] = b.Role
		return nil
	}
	m.roles[string(b.Platform)+":"+b.SubjectID] = b.Role
	return nil
}

// RevokeRole implements commands.Backend.
func (m *Mem) RevokeRole(_ context.Context, _ provision.Principal, b provision.RoleBinding) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := string(b.Platform) + ":" + b.SubjectID
	if m.roles[k] != b.Role {
		return provision.Userf(provision.ErrNotFound, "%s does not have the %s role", b.SubjectID, b.Role)
	}
	delete(m.roles, k)
	return nil
}

// ChannelBinding implements commands.Backend.
func (m *Mem) ChannelBinding(_ context.Context, platform provision.Platform, channel string) (*provision.ChannelBinding, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.channels[string(platform)+":"+channel]
	if b == nil {
		return nil, nil
	}
	c := *b
	c.AllowedCommands = slices.Clone(b.AllowedCommands)
	return &c, nil
}

// SetChannelBinding implements commands.Backend.
func (m *Mem) SetChannelBinding(_ context.Context, _ provision.Principal, b *provision.ChannelBinding) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b.CreatedAt = Epoch
	saved := *b
	saved.AllowedCommands = slices.Clone(b.AllowedCommands)
	m.channels[string(b.Platform)+":"+b.ChannelID] = &saved
	return nil
}

// RemoveChannelBinding implements commands.Backend.
func (m *Mem) RemoveChannelBinding(_ context.Context, _ provision.Principal, platform provision.Platform, channel string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := string(platform) + ":" + channel
	if m.channels[k] == nil {
		return fmt.Errorf("unbinding channel %s: %w", k, provision.ErrNotFound)
	}
	delete(m.channels, k)
	return nil
}

// ChannelBindings implements commands.Backend.
func (m *Mem) ChannelBindings(_ context.Context, platform provision.Platform) ([]provision.ChannelBinding, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []provision.ChannelBinding
	for _, b := range m.channels {
		if b.Platform == platform {
			c := *b
			c.AllowedCommands = slices.Clone(b.AllowedCommands)
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ChannelID < out[j].ChannelID })
	return out, nil
}

// SetNotifications implements commands.Backend.
func (m *Mem) SetNotifications(context.Context, provision.Principal, provision.Platform, string, string, []string) error {
	return nil
}

// Audit implements commands.Backend.
func (m *Mem) Audit(_ context.Context, e *provision.AuditEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.audit = append(m.audit, *e)
	return nil
}

// AuditLog implements commands.Backend.
func (m *Mem) AuditLog(_ context.Context, q commands.AuditQuery) ([]provision.AuditEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []provision.AuditEntry
	for i := len(m.audit) - 1; i >= 0 && (q.Limit == 0 || len(out) < q.Limit); i-- {
		if q.Target == "" || m.audit[i].Target == q.Target {
			out = append(out, m.audit[i])
		}
	}
	return out, nil
}

var _ commands.Backend = (*Mem)(nil)

// ClaimJobCard implements commands.JobCardClaimer: true once per container.
func (m *Mem) ClaimJobCard(_ context.Context, containerID string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cards == nil {
		m.cards = map[string]bool{}
	}
	if m.cards[containerID] {
		return false, nil
	}
	m.cards[containerID] = true
	return true, nil
}
