package store

import (
	"context"
	"fmt"

	"github.com/lxcbot/lxcbot/internal/provision"
)

const channelCols = `id, platform, channel_id, allowed_commands, created_at`

func scanChannelBinding(r rowScanner) (provision.ChannelBinding, error) {
	var b provision.ChannelBinding
	err := r.Scan(&b.ID, &b.Platform, &b.ChannelID, &b.AllowedCommands, &b.CreatedAt)
	return b, err
}

// SetChannelBinding binds a channel (replacing its allowed commands) and fills
// in b from the stored row.
func (db *DB) SetChannelBinding(ctx context.Context, b *provision.ChannelBinding) error {
	got, err := scanChannelBinding(db.q.QueryRow(ctx, `
		INSERT INTO channel_bindings (platform, channel_id, allowed_commands)
		VALUES ($1, $2, $3)
		ON CONFLICT (platform, channel_id) DO UPDATE SET allowed_commands = excluded.allowed_commands
		RETURNING `+channelCols,
		b.Platform, b.ChannelID, strs(b.AllowedCommands)))
	if err != nil {
		return wrapf(err, "binding channel %s:%s", b.Platform, b.ChannelID)
	}
	*b = got
	return nil
}

// GetChannelBinding returns a channel's binding or ErrNotFound.
func (db *DB) GetChannelBinding(ctx context.Context, platform provision.Platform, channelID string) (provision.ChannelBinding, error) {
	b, err := scanChannelBinding(db.q.QueryRow(ctx,
		`SELECT `+channelCols+` FROM channel_bindings WHERE platform = $1 AND channel_id = $2`, platform, channelID))
	if err != nil {
		return provision.ChannelBinding{}, wrapf(err, "reading binding of channel %s:%s", platform, channelID)
	}
	return b, nil
}

// DeleteChannelBinding unbinds a channel, or returns ErrNotFound.
func (db *DB) DeleteChannelBinding(ctx context.Context, platform provision.Platform, channelID string) error {
	tag, err := db.q.Exec(ctx, `DELETE FROM channel_bindings WHERE platform = $1 AND channel_id = $2`, platform, channelID)
	if err != nil {
		return wrapf(err, "unbinding channel %s:%s", platform, channelID)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("unbinding channel %s:%s: %w", platform, channelID, provision.ErrNotFound)
	}
	return nil
}

// ListChannelBindings returns the bindings of one platform, or of all when
// platform is "".
func (db *DB) ListChannelBindings(ctx context.Context, platform provision.Platform) ([]provision.ChannelBinding, error) {
	out, err := queryAll(ctx, db.q, scanChannelBinding, `
		SELECT `+channelCols+` FROM channel_bindings WHERE $1 = '' OR platform = $1 ORDER BY platform, channel_id`,
		string(platform))
	if err != nil {
		return nil, wrapf(err, "listing channel bindings")
	}
	return out, nil
}
