package slack

import (
	"context"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/lxcbot/lxcbot/internal/commands"
)

// maxHomeBlocks is Slack's limit for a Home tab view.
const maxHomeBlocks = 100

// publishHome shows the user's containers and the jobs in progress on the
// app's Home tab. dmChannel is the app's DM with the user; it is kept in the
// view so that ephemeral answers to Home tab buttons have somewhere to go.
func (a *Adapter) publishHome(ctx context.Context, user, dmChannel string) {
	// A view, not a command: the router lists without auditing, so looking
	// at the tab leaves no trace in /lxc audit.
	home := a.router.Home(ctx, principal(user, ""), a.groupsOf(ctx, user))
	rendered := renderBlocks(home.Blocks)
	if len(rendered) > maxHomeBlocks {
		more := len(rendered) - maxHomeBlocks + 1
		rendered = append(rendered[:maxHomeBlocks-1], slack.NewContextBlock("more",
			mrkdwn(fmt.Sprintf("%d more blocks not shown here: run `/lxc list --mine` for everything.", more))))
	}
	view := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: rendered}, PrivateMetadata: dmChannel}
	err := a.out.do(ctx, "views.publish", func(ctx context.Context) error {
		_, err := a.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: view})
		return err
	})
	if err != nil {
		a.log.WarnContext(ctx, "publishing the home tab", "user", user, "err", err)
	}
}

// Notify posts a team notification (created, failed, deleted, lifecycle,
// drift, node) to channel. text is the notification fallback and, without
// blocks, the message itself; it must not hold secrets.
func (a *Adapter) Notify(ctx context.Context, channel, text string, blocks ...commands.Block) error {
	if len(blocks) == 0 {
		blocks = commands.TextBlocks(text)
	}
	for _, m := range splitMessages(renderBlocks(blocks)) {
		if _, err := a.post(ctx, channel, "", clipRunes(text, maxFallbackText), m); err != nil {
			return fmt.Errorf("posting a notification to %s: %w", channel, err)
		}
	}
	return nil
}
