package provision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// AdminStore is what administration needs from the system of record.
type AdminStore interface {
	GrantRole(ctx context.Context, b *RoleBinding) error
	RevokeRole(ctx context.Context, platform Platform, kind SubjectKind, subjectID string) error
	ListRoleBindings(ctx context.Context, platform Platform) ([]RoleBinding, error)
	SetNotifications(ctx context.Context, platform Platform, externalID, channel string, events []string) error
	AppendAudit(ctx context.Context, a *AuditEntry) error
}

// AuditQuery selects audit entries, newest first.
type AuditQuery struct {
	Target string // container id, hostname, node...; "" = all
	Actor  *Principal
	Before time.Time // entries strictly older, for paging
	Limit  int       // 0 = 100
}

// AuditLister reads the audit log. internal/store's ListAudit takes its own
// filter type, so the wiring adapts it with AuditListerFunc.
type AuditLister interface {
	ListAudit(ctx context.Context, q AuditQuery) ([]AuditEntry, error)
}

// AuditListerFunc adapts a function to AuditLister.
type AuditListerFunc func(ctx context.Context, q AuditQuery) ([]AuditEntry, error)

// ListAudit calls f.
func (f AuditListerFunc) ListAudit(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	return f(ctx, q)
}

// AdminDeps are Admin's collaborators.
type AdminDeps struct {
	Store AdminStore
	Audit AuditLister
	Log   *slog.Logger
}

// Admin serves role bindings, notification settings and the audit log. It
// does not authorise: the command layer lets only admins call it.
type Admin struct {
	store AdminStore
	audit AuditLister
	log   *slog.Logger
}

// NewAdmin builds an Admin.
func NewAdmin(d AdminDeps) *Admin {
	a := &Admin{store: d.Store, audit: d.Audit, log: d.Log}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	return a
}

// NotificationKinds lists every kind a channel can receive, in display order.
var NotificationKinds = []NotificationKind{NotifyCreated, NotifyFailed, NotifyDeleted, NotifyLifecycle, NotifyDrift, NotifyNode}

func checkRole(r Role) error {
	if r.Rank() == 0 {
		return Userf(ErrInvalid, "unknown role %q: use viewer, operator or admin", r)
	}
	return nil
}

// Grant gives role to a user (subject "U0123") or a group (subject
// "group:S0123"), replacing what they had.
func (a *Admin) Grant(ctx context.Context, by Principal, platform Platform, subject string, role Role) (*RoleBinding, error) {
	if err := checkRole(role); err != nil {
		return nil, err
	}
	kind, id, err := parseSubject(subject)
	if err != nil {
		return nil, err
	}
	b := &RoleBinding{Platform: platform, SubjectKind: kind, SubjectID: id, Role: role, GrantedBy: actor(by)}
	if err := a.store.GrantRole(ctx, b); err != nil {
		if errors.Is(err, ErrInvalid) {
			return nil, Userf(ErrInvalid, "cannot grant %s to %s on %s: %v", role, subject, platform, err)
		}
		return nil, fmt.Errorf("granting %s to %s: %w", role, subject, err)
	}
	a.log.InfoContext(ctx, "role granted", "platform", string(platform), "subject", subject, "role", string(role), "by", actor(by))
	return b, nil
}

// Revoke removes the subject's role. Admins cannot revoke their own admin
// role, so a workspace is never left without the person who changed it.
func (a *Admin) Revoke(ctx context.Context, by Principal, platform Platform, subject string) error {
	kind, id, err := parseSubject(subject)
	if err != nil {
		return err
	}
	if kind == SubjectUser && platform == by.Platform && id == by.UserID {
		return Userf(ErrForbidden, "you cannot revoke your own role: ask another admin")
	}
	if err := a.store.RevokeRole(ctx, platform, kind, id); err != nil {
		if errors.Is(err, ErrNotFound) {
			return Userf(ErrNotFound, "%s has no role on %s", subject, platform)
		}
		return fmt.Errorf("revoking role of %s: %w", subject, err)
	}
	a.log.InfoContext(ctx, "role revoked", "platform", string(platform), "subject", subject, "by", actor(by))
	return nil
}

// parseSubject reads "U0123" (a user) or "group:S0123" (a group or role).
func parseSubject(s string) (SubjectKind, string, error) {
	s = strings.TrimSpace(s)
	kind := SubjectUser
	if rest, ok := strings.CutPrefix(s, "group:"); ok {
		kind, s = SubjectGroup, rest
	} else if rest, ok := strings.CutPrefix(s, "user:"); ok {
		s = rest
	}
	if s == "" || strings.ContainsAny(s, " \t\n") {
		return "", "", Userf(ErrInvalid, "%q is not a user or group id: use U0123 or group:S0123", s)
	}
	return kind, s, nil
}

// Roles lists every role binding, admins first.
func (a *Admin) Roles(ctx context.Context) ([]RoleBinding, error) {
	bs, err := a.store.ListRoleBindings(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("listing roles: %w", err)
	}
	return bs, nil
}

// SetNotify sends the chosen kinds of notifications of a workspace to
// channel (nil events = all kinds; channel "" turns them off).
func (a *Admin) SetNotify(ctx context.Context, platform Platform, workspace, channel string, events []string) error {
	if events == nil {
		for _, k := range NotificationKinds {
			events = append(events, string(k))
		}
	}
	var clean []string
	for _, e := range events {
		e = strings.ToLower(strings.TrimSpace(e))
		if !slices.Contains(NotificationKinds, NotificationKind(e)) {
			return Userf(ErrInvalid, "unknown notification %q: choose from created, failed, deleted, lifecycle, drift, node", e)
		}
		if !slices.Contains(clean, e) {
			clean = append(clean, e)
		}
	}
	if err := a.store.SetNotifications(ctx, platform, workspace, channel, clean); err != nil {
		return fmt.Errorf("setting notifications: %w", err)
	}
	return nil
}

// Audit returns audit entries, newest first.
func (a *Admin) Audit(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	es, err := a.audit.ListAudit(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("reading the audit log: %w", err)
	}
	return es, nil
}

// Record appends one entry to the audit log.
func (a *Admin) Record(ctx context.Context, e *AuditEntry) error {
	if err := a.store.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("recording audit entry: %w", err)
	}
	return nil
}

// ApplyBootstrap makes the configured admins admins (idempotent). Bindings
// granted from configuration are marked GrantedBy "config".
func (a *Admin) ApplyBootstrap(ctx context.Context, admins []Principal) error {
	for _, p := range admins {
		if p.Platform == "" || p.UserID == "" {
			return Userf(ErrInvalid, "bootstrap admin %q: use platform:userid", actor(p))
		}
		b := &RoleBinding{Platform: p.Platform, SubjectKind: SubjectUser, SubjectID: p.UserID, Role: RoleAdmin, GrantedBy: "config"}
		if err := a.store.GrantRole(ctx, b); err != nil {
			return fmt.Errorf("granting admin to bootstrap admin %s: %w", actor(p), err)
		}
	}
	if len(admins) > 0 {
		a.log.InfoContext(ctx, "bootstrap admins applied", "count", len(admins))
	}
	return nil
}
