package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// AppendAudit records a command or button press and fills in its ID (and its
// time, if zero). Callers redact secrets from Args before.
func (db *DB) AppendAudit(ctx context.Context, a *provision.AuditEntry) error {
	var at *time.Time
	if !a.At.IsZero() {
		at = &a.At
	}
	err := db.q.QueryRow(ctx, `
		INSERT INTO audit_log (at, actor_platform, actor_user_id, actor_name, workspace_id, channel_id,
		                       command, target, args, outcome, error, duration_ms, ref_id)
		VALUES (coalesce($1, now()), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		RETURNING id, at`,
		at, a.Actor.Platform, a.Actor.UserID, a.Actor.Name, a.WorkspaceID, a.ChannelID,
		a.Command, a.Target, a.Args, a.Outcome, a.Error, a.Duration.Milliseconds(), a.RefID,
	).Scan(&a.ID, &a.At)
	if err != nil {
		return wrapf(err, "recording audit entry for %s", a.Command)
	}
	return nil
}

// AuditFilter selects audit entries. Zero fields do not filter.
type AuditFilter struct {
	Target        string
	ActorPlatform provision.Platform
	ActorUserID   string
	Before        time.Time // entries strictly older, for paging
	Limit         int       // 0 = 100
}

func scanAudit(r rowScanner) (provision.AuditEntry, error) {
	var a provision.AuditEntry
	var ms int64
	err := r.Scan(&a.ID, &a.At, &a.Actor.Platform, &a.Actor.UserID, &a.Actor.Name, &a.WorkspaceID, &a.ChannelID,
		&a.Command, &a.Target, &a.Args, &a.Outcome, &a.Error, &ms, &a.RefID)
	a.Duration = time.Duration(ms) * time.Millisecond
	return a, err
}

// ListAudit returns audit entries, newest first.
func (db *DB) ListAudit(ctx context.Context, f AuditFilter) ([]provision.AuditEntry, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Target != "" {
		add("target = $%d", f.Target)
	}
	if f.ActorPlatform != "" {
		add("actor_platform = $%d", string(f.ActorPlatform))
	}
	if f.ActorUserID != "" {
		add("actor_user_id = $%d", f.ActorUserID)
	}
	if !f.Before.IsZero() {
		add("at < $%d", f.Before)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	query := `SELECT id, at, actor_platform, actor_user_id, actor_name, workspace_id, channel_id,
	                 command, target, args, outcome, error, duration_ms, ref_id
	            FROM audit_log`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, limit)
	query += fmt.Sprintf(` ORDER BY at DESC, id DESC LIMIT $%d`, len(args))
	out, err := queryAll(ctx, db.q, scanAudit, query, args...)
	if err != nil {
		return nil, wrapf(err, "listing audit log")
	}
	return out, nil
}

// AppendAudits records several entries in one transaction (one commit, one
// round trip) and fills in their IDs and times like AppendAudit. Either
// every entry is recorded or none is.
func (db *DB) AppendAudits(ctx context.Context, es []*provision.AuditEntry) error {
	if len(es) == 0 {
		return nil
	}
	tx, err := db.q.Begin(ctx)
	if err != nil {
		return wrapf(err, "recording %d audit entries", len(es))
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var b pgx.Batch
	for _, a := range es {
		var at *time.Time
		if !a.At.IsZero() {
			at = &a.At
		}
		b.Queue(`
			INSERT INTO audit_log (at, actor_platform, actor_user_id, actor_name, workspace_id, channel_id,
			                       command, target, args, outcome, error, duration_ms, ref_id)
			VALUES (coalesce($1, now()), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			RETURNING id, at`,
			at, a.Actor.Platform, a.Actor.UserID, a.Actor.Name, a.WorkspaceID, a.ChannelID,
			a.Command, a.Target, a.Args, a.Outcome, a.Error, a.Duration.Milliseconds(), a.RefID,
		).QueryRow(func(row pgx.Row) error { return row.Scan(&a.ID, &a.At) })
	}
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return wrapf(err, "recording %d audit entries", len(es))
	}
	if err := tx.Commit(ctx); err != nil {
		return wrapf(err, "recording %d audit entries", len(es))
	}
	return nil
}
