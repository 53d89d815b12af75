package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// SetChannelBinding implements commands.Admin. The router has checked the
// allowed names and records the change in the audit log like any command.
func (b *Backend) SetChannelBinding(ctx context.Context, actor provision.Principal, cb *provision.ChannelBinding) error {
	defer b.bindings.invalidate()
	if err := b.store.SetChannelBinding(ctx, cb); err != nil {
		return fmt.Errorf("binding channel %s: %w", cb.ChannelID, err)
	}
	b.log.InfoContext(ctx, "channel bound", "platform", cb.Platform, "channel", cb.ChannelID,
		"allowed", strings.Join(cb.AllowedCommands, " "), "actor", string(actor.Platform)+":"+actor.UserID)
	return nil
}

// RemoveChannelBinding implements commands.Admin; an unbound channel gives
// an error wrapping provision.ErrNotFound.
func (b *Backend) RemoveChannelBinding(ctx context.Context, actor provision.Principal, platform provision.Platform, channelID string) error {
	defer b.bindings.invalidate()
	if err := b.store.DeleteChannelBinding(ctx, platform, channelID); err != nil {
		return fmt.Errorf("opening channel %s: %w", channelID, err)
	}
	b.log.InfoContext(ctx, "channel opened", "platform", platform, "channel", channelID,
		"actor", string(actor.Platform)+":"+actor.UserID)
	return nil
}

// ChannelBindings implements commands.Admin.
func (b *Backend) ChannelBindings(ctx context.Context, platform provision.Platform) ([]provision.ChannelBinding, error) {
	bs, err := b.store.ListChannelBindings(ctx, platform)
	if err != nil {
		return nil, fmt.Errorf("listing channel bindings: %w", err)
	}
	return bs, nil
}
