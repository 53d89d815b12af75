package store

import (
	"context"
	"fmt"
	"time"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// ClaimDelivery records an inbound delivery's dedupe key. It returns nil the
// first time and ErrConflict when the key was already claimed (a platform
// retry or a double click), across every replica sharing the database.
func (db *DB) ClaimDelivery(ctx context.Context, key string, platform provision.Platform) error {
	tag, err := db.q.Exec(ctx, `
		INSERT INTO inbound_deliveries (dedupe_key, platform) VALUES ($1, $2)
		ON CONFLICT (dedupe_key) DO NOTHING`, key, platform)
	if err != nil {
		return wrapf(err, "claiming %s delivery", platform)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("claiming %s delivery: already received: %w", platform, provision.ErrConflict)
	}
	return nil
}

// PruneDeliveries forgets dedupe keys received before olderThan and returns
// how many were removed.
func (db *DB) PruneDeliveries(ctx context.Context, olderThan time.Time) (int64, error) {
	tag, err := db.q.Exec(ctx, `DELETE FROM inbound_deliveries WHERE received_at < $1`, olderThan)
	if err != nil {
		return 0, wrapf(err, "pruning inbound deliveries")
	}
	return tag.RowsAffected(), nil
}
