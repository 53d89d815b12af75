package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// applyConfig makes the records match the configuration at start-up: nodes
// from the file, role bindings, bootstrap admins, and the templates
// directory imported. Every step is idempotent, so every replica and every
// restart may run it.
func (a *App) applyConfig(ctx context.Context, haveTemplatesFS bool) error {
	if err := a.applyNodes(ctx); err != nil {
		return err
	}
	if err := a.applyRoles(ctx); err != nil {
		return err
	}
	if haveTemplatesFS || a.cfg.TemplatesDir != "" {
		rep, err := a.catalog.Sync(ctx, a.cfg.TemplatesDir)
		if err != nil {
			return fmt.Errorf("applying configuration: %w", err)
		}
		for name, why := range rep.Failed {
			a.log.WarnContext(ctx, "template not imported", "template", name, "reason", why)
		}
		for _, w := range rep.Warnings {
			a.log.InfoContext(ctx, "template warning", "warning", w)
		}
	}
	return nil
}

// applyNodes upserts the configuration file's nodes. A pin the file leaves
// empty keeps the one an admin confirmed in chat, so a restart never
// unpins a node.
func (a *App) applyNodes(ctx context.Context) error {
	for _, cn := range a.cfg.Nodes {
		n := cn.Provision()
		old, err := a.db.GetNode(ctx, n.Name)
		switch {
		case err == nil:
			if n.TLSFingerprint == "" {
				n.TLSFingerprint = old.TLSFingerprint
			}
			if n.SSHHostKey == "" {
				n.SSHHostKey = old.SSHHostKey
			}
		case !errors.Is(err, provision.ErrNotFound):
			return fmt.Errorf("applying configuration: reading node %s: %w", n.Name, err)
		}
		if err := a.db.UpsertNode(ctx, &n); err != nil {
			return fmt.Errorf("applying configuration: node %s: %w", n.Name, err)
		}
		a.pool.Invalidate(n.Name)
		if n.TLSFingerprint == "" && !n.InsecureSkipVerify || n.SSHHostKey == "" {
			a.log.WarnContext(ctx, "node is not pinned: it is not used until an admin confirms its fingerprints with /lxc node edit",
				"node", n.Name)
		}
	}
	return nil
}

// applyRoles grants the configured roles (viewers, then operators, then
// admins, so whoever is listed twice ends with the higher role) and the
// bootstrap admins (LXCBOT_ADMINS).
func (a *App) applyRoles(ctx context.Context) error {
	for _, g := range []struct {
		role provision.Role
		who  []provision.Principal
	}{
		{provision.RoleViewer, a.cfg.Roles.Viewers},
		{provision.RoleOperator, a.cfg.Roles.Operators},
		{provision.RoleAdmin, a.cfg.Roles.Admins},
	} {
		for _, p := range g.who {
			b := &provision.RoleBinding{Platform: p.Platform, SubjectKind: provision.SubjectUser, SubjectID: p.UserID,
				Role: g.role, GrantedBy: "config"}
			if err := a.db.GrantRole(ctx, b); err != nil {
				return fmt.Errorf("applying configuration: granting %s to %s:%s: %w", g.role, p.Platform, p.UserID, err)
			}
		}
	}
	if err := a.admin.ApplyBootstrap(ctx, a.cfg.Admins); err != nil {
		return fmt.Errorf("applying configuration: %w", err)
	}
	return nil
}
