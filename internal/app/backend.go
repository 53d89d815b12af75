package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/metrics"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/store"
)

// BackendStore is what the Backend reads from the system of record itself,
// beyond what the provisioning facades offer. *store.DB satisfies it.
type BackendStore interface {
	ListContainers(ctx context.Context, f store.ContainerFilter) ([]provision.Container, error)
	CountContainers(ctx context.Context, f store.ContainerFilter) (int, error)
	GetContainer(ctx context.Context, id string) (provision.Container, error)
	RoleOf(ctx context.Context, platform provision.Platform, userID string, groupIDs []string) (provision.Role, error)
	ListRoleBindings(ctx context.Context, platform provision.Platform) ([]provision.RoleBinding, error)
	GetChannelBinding(ctx context.Context, platform provision.Platform, channelID string) (provision.ChannelBinding, error)
	SetChannelBinding(ctx context.Context, b *provision.ChannelBinding) error
	DeleteChannelBinding(ctx context.Context, platform provision.Platform, channelID string) error
	ListChannelBindings(ctx context.Context, platform provision.Platform) ([]provision.ChannelBinding, error)
	GetTemplate(ctx context.Context, name string) (provision.Template, error)
	UpsertTemplate(ctx context.Context, t *provision.Template) error
	GetBucket(ctx context.Context, name string) (provision.Bucket, error)
	AppendAudits(ctx context.Context, es []*provision.AuditEntry) error
}

var _ BackendStore = (*store.DB)(nil)

// NodeChoicesSource lists what a create form offers once a node is chosen.
type NodeChoicesSource interface {
	NodeChoices(ctx context.Context, node string) (*commands.NodeChoices, error)
}

// BackendDeps are the Backend's collaborators; New builds them all.
type BackendDeps struct {
	Engine    *provision.Engine
	Lifecycle *provision.Lifecycle
	Monitor   *provision.Monitor
	Nodes     *provision.NodeAdmin
	Catalog   *provision.CatalogAdmin
	Admin     *provision.Admin
	Store     BackendStore
	Choices   NodeChoicesSource
	// Confirmations remembers fingerprints shown to an admin until they
	// repeat node add or edit to confirm them.
	Confirmations Confirmations
	// TemplatesDir is what SyncTemplates imports (the catalog's TemplateDir
	// decides whether it is a directory or an embedded file system).
	TemplatesDir string
	// Cards claims each container's job card once (nil: no claim, every
	// confirmed Create posts a card).
	Cards Claimer
	// BootstrapAdmins are admins whatever the role table says.
	BootstrapAdmins []provision.Principal
	Metrics         *metrics.Metrics // nil = not counted
	Log             *slog.Logger
	// LookupTTL is how long role and channel-binding lookups are cached:
	// how late this process sees a change another replica made. 0 = 5 s;
	// negative = not cached.
	LookupTTL time.Duration
	// AuditInterval is how long a queued audit entry waits for others to
	// be written with it. 0 = 10 ms.
	AuditInterval time.Duration
}

// Backend is the chat layer's view of the provisioning domain: it
// implements commands.Backend by delegating to the engine, lifecycle,
// monitor, node, catalog and admin facades, translating types both ways.
// Like them, it does not authorise: the Router does.
type Backend struct {
	engine    *provision.Engine
	lifecycle *provision.Lifecycle
	monitor   *provision.Monitor
	nodes     *provision.NodeAdmin
	catalog   *provision.CatalogAdmin
	admin     *provision.Admin
	store     BackendStore
	choices   NodeChoicesSource
	confirm   Confirmations
	dir       string
	bootstrap []provision.Principal
	metrics   *metrics.Metrics
	log       *slog.Logger

	roles    *lookupCache[roleKey, provision.Role]
	bindings *lookupCache[bindingKey, *provision.ChannelBinding] // nil: the channel has none
	audit    *auditBatcher
	cards    Claimer
}

// Claimer claims a key once across every replica; redisx.Deduper is one.
type Claimer interface {
	Claim(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

var _ commands.JobCardClaimer = (*Backend)(nil)

// ClaimJobCard implements commands.JobCardClaimer: the first caller for a
// container posts its job card. Without a claimer every caller does.
func (b *Backend) ClaimJobCard(ctx context.Context, containerID string) (bool, error) {
	if b.cards == nil {
		return true, nil
	}
	return b.cards.Claim(ctx, "jobcard:"+containerID, 24*time.Hour)
}

type roleKey struct {
	platform     provision.Platform
	user, groups string
}

type bindingKey struct {
	platform provision.Platform
	channel  string
}

var _ commands.Backend = (*Backend)(nil)

// NewBackend builds a Backend.
func NewBackend(d BackendDeps) *Backend {
	b := &Backend{engine: d.Engine, lifecycle: d.Lifecycle, monitor: d.Monitor, nodes: d.Nodes, catalog: d.Catalog,
		admin: d.Admin, store: d.Store, choices: d.Choices, confirm: d.Confirmations, dir: d.TemplatesDir,
		bootstrap: slices.Clone(d.BootstrapAdmins), metrics: d.Metrics, log: d.Log, cards: d.Cards}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.confirm == nil {
		b.confirm = newMemConfirmations()
	}
	ttl := d.LookupTTL
	if ttl == 0 {
		ttl = 5 * time.Second
	}
	b.roles = newLookupCache[roleKey, provision.Role](ttl, time.Now)
	b.bindings = newLookupCache[bindingKey, *provision.ChannelBinding](ttl, time.Now)
	interval := d.AuditInterval
	if interval <= 0 {
		interval = 10 * time.Millisecond
	}
	b.audit = newAuditBatcher(b.store.AppendAudits, b.admin.Record, interval, b.log)
	return b
}

// FlushAudit returns once every audit entry recorded so far is written.
func (b *Backend) FlushAudit(ctx context.Context) error { return b.audit.flush(ctx) }

// Close writes the audit entries still queued; entries recorded later are
// written as they come. Call it before closing the store.
func (b *Backend) Close(ctx context.Context) error { return b.audit.close(ctx) }

// Jobs.

// PlanCreate implements commands.Jobs.
func (b *Backend) PlanCreate(ctx context.Context, p provision.Principal, req provision.CreateRequest) (*provision.Plan, error) {
	return b.engine.PlanCreate(ctx, p, req)
}

// Create implements commands.Jobs.
func (b *Backend) Create(ctx context.Context, p provision.Principal, origin provision.Origin, req provision.CreateRequest, dedupeKey string) (*provision.Container, error) {
	return b.engine.Create(ctx, p, origin, req, dedupeKey)
}

// Retry implements commands.Jobs.
func (b *Backend) Retry(ctx context.Context, p provision.Principal, containerID string) error {
	return b.engine.Retry(ctx, p, containerID)
}

// Cancel implements commands.Jobs.
func (b *Backend) Cancel(ctx context.Context, p provision.Principal, containerID string) error {
	return b.engine.Cancel(ctx, p, containerID)
}

// Keep implements commands.Jobs.
func (b *Backend) Keep(ctx context.Context, p provision.Principal, containerID string) error {
	return b.engine.Keep(ctx, p, containerID)
}

// Subscribe implements commands.Jobs.
func (b *Backend) Subscribe(ctx context.Context, containerID, after string) (<-chan provision.ProgressEvent, error) {
	return b.engine.Subscribe(ctx, containerID, after)
}

// Container implements commands.Jobs.
func (b *Backend) Container(ctx context.Context, ref string) (*provision.Container, error) {
	return b.engine.Container(ctx, ref)
}

// Lifecycle.

// Lifecycle implements commands.Lifecycle: it runs the action and returns
// the sentence saying what happened.
func (b *Backend) Lifecycle(ctx context.Context, p provision.Principal, containerID string, action commands.LifecycleAction) (string, error) {
	res, err := b.lifecycle.Do(ctx, p, containerID, provision.Action(action))
	if err != nil {
		var locked *provision.LockedError
		if errors.As(err, &locked) && b.metrics != nil {
			b.metrics.LockContention.WithLabelValues(string(action)).Inc()
		}
		return "", err
	}
	return res.Outcome, nil
}

// Monitor.

// Containers implements commands.Monitor.
func (b *Backend) Containers(ctx context.Context, f commands.ContainerFilter) ([]provision.Container, error) {
	cs, err := b.store.ListContainers(ctx, storeFilter(f))
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	return cs, nil
}

// ContainerPage implements commands.ContainerPager: the database pages the
// list, so a page costs its own rows and a count, not every row.
func (b *Backend) ContainerPage(ctx context.Context, f commands.ContainerFilter, offset, limit int) ([]provision.Container, int, error) {
	sf := storeFilter(f)
	total, err := b.store.CountContainers(ctx, sf)
	if err != nil {
		return nil, 0, fmt.Errorf("listing containers: %w", err)
	}
	if total == 0 || offset >= total {
		return nil, total, nil
	}
	sf.Offset, sf.Limit = offset, limit
	cs, err := b.store.ListContainers(ctx, sf)
	if err != nil {
		return nil, 0, fmt.Errorf("listing containers: %w", err)
	}
	return cs, total, nil
}

var _ commands.ContainerPager = (*Backend)(nil)

func storeFilter(f commands.ContainerFilter) store.ContainerFilter {
	sf := store.ContainerFilter{Node: f.Node, State: f.State}
	if f.Owner != nil {
		sf.OwnerPlatform, sf.OwnerUserID = f.Owner.Platform, f.Owner.UserID
	}
	return sf
}

// Statuses implements commands.Monitor: one request per node for the lot.
func (b *Backend) Statuses(ctx context.Context, ids []string) (map[string]*commands.LiveStatus, error) {
	cs := make([]provision.Container, 0, len(ids))
	for _, id := range ids {
		c, err := b.store.GetContainer(ctx, id)
		if err != nil {
			continue
		}
		cs = append(cs, c)
	}
	views, _, err := b.monitor.Live(ctx, cs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*commands.LiveStatus, len(views))
	for _, v := range views {
		out[v.Container.ID] = liveStatusOf(v)
	}
	return out, nil
}

func liveStatusOf(v provision.ContainerView) *commands.LiveStatus {
	l := v.Live
	st := &commands.LiveStatus{Status: l.Status, CPU: l.CPU, MemUsed: l.MemUsed, MemTotal: l.MemTotal,
		DiskUsed: l.DiskUsed, DiskTotal: l.DiskTotal, Uptime: l.Uptime, IP: l.IP}
	if st.Status == "" || v.Problem != "" {
		st.Status = provision.StatusUnknown
	}
	if st.IP == "" {
		st.IP = v.Container.IP
	}
	return st
}

// Status implements commands.Monitor. A node that does not answer gives
// status unknown rather than an error.
func (b *Backend) Status(ctx context.Context, containerID string) (*commands.LiveStatus, error) {
	v, err := b.monitor.Show(ctx, containerID)
	if err != nil {
		return nil, err
	}
	return liveStatusOf(*v), nil
}

// Services implements commands.Monitor.
func (b *Backend) Services(ctx context.Context, containerID string, refresh bool) ([]provision.Service, error) {
	return b.monitor.Services(ctx, containerID, refresh)
}

// Logs implements commands.Monitor.
func (b *Backend) Logs(ctx context.Context, containerID, unit string, lines int) (string, error) {
	return b.monitor.Logs(ctx, containerID, unit, lines)
}

// Credentials implements commands.Monitor.
func (b *Backend) Credentials(ctx context.Context, containerID, service string) ([]provision.Credential, error) {
	return b.monitor.Credentials(ctx, containerID, service)
}

// Events implements commands.Monitor.
func (b *Backend) Events(ctx context.Context, containerID string, types []provision.EventType) ([]provision.Event, error) {
	return b.monitor.Events(ctx, containerID, types, 0)
}

// Admin.

// RoleOf implements commands.Admin: the highest role bound to the user or
// any of their groups; bootstrap admins from configuration are always admins.
func (b *Backend) RoleOf(ctx context.Context, p provision.Principal, groups []string) (provision.Role, error) {
	for _, a := range b.bootstrap {
		if a.Platform == p.Platform && a.UserID == p.UserID {
			return provision.RoleAdmin, nil
		}
	}
	k := roleKey{platform: p.Platform, user: p.UserID, groups: strings.Join(groups, "\x00")}
	r, err := b.roles.get(k, func() (provision.Role, error) { return b.store.RoleOf(ctx, p.Platform, p.UserID, groups) })
	if err != nil {
		return provision.RoleNone, fmt.Errorf("reading role of %s:%s: %w", p.Platform, p.UserID, err)
	}
	return r, nil
}

// RoleBindings implements commands.Admin.
func (b *Backend) RoleBindings(ctx context.Context, platform provision.Platform) ([]provision.RoleBinding, error) {
	bs, err := b.store.ListRoleBindings(ctx, platform)
	if err != nil {
		return nil, fmt.Errorf("listing roles: %w", err)
	}
	return bs, nil
}

func subject(rb provision.RoleBinding) string {
	if rb.SubjectKind == provision.SubjectGroup {
		return "group:" + rb.SubjectID
	}
	return rb.SubjectID
}

// GrantRole implements commands.Admin.
func (b *Backend) GrantRole(ctx context.Context, actor provision.Principal, rb provision.RoleBinding) error {
	defer b.roles.invalidate()
	_, err := b.admin.Grant(ctx, actor, rb.Platform, subject(rb), rb.Role)
	return err
}

// RevokeRole implements commands.Admin. The subject must hold the role named:
// revoking "viewer" from an admin is refused rather than demoting them.
func (b *Backend) RevokeRole(ctx context.Context, actor provision.Principal, rb provision.RoleBinding) error {
	bs, err := b.RoleBindings(ctx, rb.Platform)
	if err != nil {
		return err
	}
	kind := rb.SubjectKind
	if kind == "" {
		kind = provision.SubjectUser
	}
	i := slices.IndexFunc(bs, func(x provision.RoleBinding) bool { return x.SubjectKind == kind && x.SubjectID == rb.SubjectID })
	if i < 0 {
		return provision.Userf(provision.ErrNotFound, "%s has no role on %s", rb.SubjectID, rb.Platform)
	}
	if rb.Role != provision.RoleNone && bs[i].Role != rb.Role {
		return provision.Userf(provision.ErrConflict, "%s has the %s role, not %s: nothing was revoked", rb.SubjectID, bs[i].Role, rb.Role)
	}
	rb.SubjectKind = kind
	defer b.roles.invalidate()
	return b.admin.Revoke(ctx, actor, rb.Platform, subject(rb))
}

// ChannelBinding implements commands.Admin.
func (b *Backend) ChannelBinding(ctx context.Context, platform provision.Platform, channelID string) (*provision.ChannelBinding, error) {
	cb, err := b.bindings.get(bindingKey{platform: platform, channel: channelID}, func() (*provision.ChannelBinding, error) {
		cb, err := b.store.GetChannelBinding(ctx, platform, channelID)
		if errors.Is(err, provision.ErrNotFound) {
			return nil, nil
		}
		return &cb, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading binding of channel %s: %w", channelID, err)
	}
	if cb == nil {
		return nil, nil
	}
	out := *cb // the cached binding stays as read
	out.AllowedCommands = slices.Clone(cb.AllowedCommands)
	return &out, nil
}

// SetNotifications implements commands.Admin.
func (b *Backend) SetNotifications(ctx context.Context, _ provision.Principal, platform provision.Platform, workspace, channel string, events []string) error {
	return b.admin.SetNotify(ctx, platform, workspace, channel, events)
}

// Audit implements commands.Admin. The entry is queued and written within
// a few milliseconds, with others (see auditBatcher); AuditLog reads it.
//
// Credential reveals are written before the reply goes out, so no reveal can
// go unrecorded; everything else is batched.
func (b *Backend) Audit(ctx context.Context, e *provision.AuditEntry) error {
	if strings.HasPrefix(e.Args, "reveal") {
		return b.audit.writeOne(ctx, e)
	}
	return b.audit.Add(ctx, e)
}

// AuditLog implements commands.Admin.
func (b *Backend) AuditLog(ctx context.Context, q commands.AuditQuery) ([]provision.AuditEntry, error) {
	if err := b.FlushAudit(ctx); err != nil {
		return nil, err
	}
	return b.admin.Audit(ctx, provision.AuditQuery{Target: q.Target, Limit: q.Limit})
}
