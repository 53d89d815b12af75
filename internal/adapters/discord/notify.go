package discord

import (
	"context"
	"fmt"

	"github.com/lxcbot/lxcbot/internal/commands"
)

// Notify posts a team notification into a channel with the bot token.
// Notifications are public: the response is rendered in-channel.
func (a *Adapter) Notify(ctx context.Context, channelID string, resp commands.Response) error {
	if !isSnowflake(channelID) {
		return fmt.Errorf("notifying discord channel %q: not a channel id", channelID)
	}
	resp.Visibility = commands.InChannel
	msgs, err := a.render(ctx, resp)
	if err != nil {
		return fmt.Errorf("rendering a notification: %w", err)
	}
	for _, m := range msgs {
		if _, err := a.postChannel(ctx, channelID, m); err != nil {
			return fmt.Errorf("notifying channel %s: %w", channelID, err)
		}
	}
	return nil
}

// NotifyText posts plain text, split into messages of at most 2000
// characters.
func (a *Adapter) NotifyText(ctx context.Context, channelID, text string) error {
	if !isSnowflake(channelID) {
		return fmt.Errorf("notifying discord channel %q: not a channel id", channelID)
	}
	for _, part := range splitRunes(text, maxContent) {
		if _, err := a.postChannel(ctx, channelID, textMessage(part, false)); err != nil {
			return fmt.Errorf("notifying channel %s: %w", channelID, err)
		}
	}
	return nil
}
