package store

import (
	"context"

	"github.com/lxcbot/lxcbot/internal/provision"
)

const workspaceCols = `id, platform, external_id, name, notify_channel, notify_events, created_at, updated_at`

func scanWorkspace(r rowScanner) (provision.Workspace, error) {
	var w provision.Workspace
	err := r.Scan(&w.ID, &w.Platform, &w.ExternalID, &w.Name, &w.NotifyChannel, &w.NotifyEvents, &w.CreatedAt, &w.UpdatedAt)
	return w, err
}

// UpsertWorkspace records a workspace by platform and external id and fills in
// w from the stored row. A new row takes w's notification settings; an
// existing row keeps its own (SetNotifications changes them) and takes w.Name
// unless it is empty.
func (db *DB) UpsertWorkspace(ctx context.Context, w *provision.Workspace) error {
	row := db.q.QueryRow(ctx, `
		INSERT INTO workspaces (platform, external_id, name, notify_channel, notify_events)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (platform, external_id) DO UPDATE
		   SET name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE workspaces.name END,
		       updated_at = now()
		RETURNING `+workspaceCols,
		w.Platform, w.ExternalID, w.Name, w.NotifyChannel, strs(w.NotifyEvents))
	got, err := scanWorkspace(row)
	if err != nil {
		return wrapf(err, "saving workspace %s/%s", w.Platform, w.ExternalID)
	}
	*w = got
	return nil
}

// GetWorkspace returns one workspace or ErrNotFound.
func (db *DB) GetWorkspace(ctx context.Context, platform provision.Platform, externalID string) (provision.Workspace, error) {
	w, err := scanWorkspace(db.q.QueryRow(ctx,
		`SELECT `+workspaceCols+` FROM workspaces WHERE platform = $1 AND external_id = $2`, platform, externalID))
	if err != nil {
		return provision.Workspace{}, wrapf(err, "reading workspace %s/%s", platform, externalID)
	}
	return w, nil
}

// ListWorkspaces returns every workspace, by platform and external id.
func (db *DB) ListWorkspaces(ctx context.Context) ([]provision.Workspace, error) {
	out, err := queryAll(ctx, db.q, scanWorkspace, `SELECT `+workspaceCols+` FROM workspaces ORDER BY platform, external_id`)
	if err != nil {
		return nil, wrapf(err, "listing workspaces")
	}
	return out, nil
}

// SetNotifications sets where a workspace's notifications go and which events
// are sent (created, failed, deleted, lifecycle, drift, node); channel ""
// turns them off. The workspace is recorded if it is not yet known, since
// configuration may name it before the platform has been contacted.
func (db *DB) SetNotifications(ctx context.Context, platform provision.Platform, externalID, channel string, events []string) error {
	_, err := db.q.Exec(ctx, `
		INSERT INTO workspaces (platform, external_id, notify_channel, notify_events)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (platform, external_id) DO UPDATE
		   SET notify_channel = excluded.notify_channel,
		       notify_events = excluded.notify_events,
		       updated_at = now()`,
		platform, externalID, channel, strs(events))
	if err != nil {
		return wrapf(err, "setting notifications of workspace %s/%s", platform, externalID)
	}
	return nil
}
