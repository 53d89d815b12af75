package slack

import (
	"context"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/lxcbot/lxcbot/internal/commands"
)

// maxHomeBlocks is Slack's limit for a Home tab view.
const maxHomeBlocks = 100

// publishHome shows the user's containers and the jobs in progress on the
// app's Home tab. dmChannel is the app's DM with the user; it is kept in the
// view so that ephemeral answers to Home tab buttons have somewhere to go.
func (a *Adapter) publishHome(ctx context.Context, team, user, dmChannel string) {
	req := commands.Request{Principal: principal(user, ""), Workspace: team, Platform: "slack", Kind: commands.KindCommand,
		Groups: a.groupsOf(ctx, user), ReceivedAt: a.now()}
	req.Text = "list --mine"
	mine := a.router.Handle(ctx, req)
	req.Text = "list --mine --state creating"
	jobs := a.router.Handle(ctx, req)
	blocks := []commands.Block{
		commands.HeaderBlock("lxcbot"),
		commands.ContextBlock("Your containers and the jobs in progress. Type `/lxc help` in any channel for every command."),
		commands.DividerBlock(),
	}
	blocks = append(blocks, mine.Blocks...)
	blocks = append(blocks, commands.DividerBlock(), commands.HeaderBlock("Jobs in progress"))
	if noMatches(jobs) {
		blocks = append(blocks, commands.ContextBlock("No creation running."))
	} else {
		blocks = append(blocks, jobs.Blocks...)
	}
	rendered := renderBlocks(blocks)
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

func noMatches(r commands.Response) bool {
	return len(r.Blocks) == 1 && strings.HasPrefix(r.Blocks[0].Text, "No containers match")
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
