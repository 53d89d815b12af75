package slack

import (
	"context"
	"time"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/provision"
)

// follow records where a job card lives and keeps it up to date.
func (a *Adapter) follow(ctx context.Context, team, channel, cardTS, threadRoot, containerID string) {
	if a.cards != nil {
		o := provision.Origin{Platform: provision.PlatformSlack, WorkspaceID: team, ChannelID: channel, ThreadID: threadRoot, MessageID: cardTS}
		if err := a.cards.SetContainerMessage(ctx, containerID, o); err != nil {
			a.log.WarnContext(ctx, "recording the job card", "container", containerID, "err", err)
		}
	}
	if !a.goWatch(func(ctx context.Context) { a.watch(ctx, team, channel, cardTS, threadRoot, containerID) }) {
		a.log.WarnContext(ctx, "too many job cards followed; this one is not updated", "container", containerID)
	}
}

// Resume keeps editing a job card posted earlier, by this replica or
// another one (its channel and ts come from the container's recorded
// origin). The lead calls it at start-up for jobs still running.
func (a *Adapter) Resume(ctx context.Context, containerID string, at provision.Origin) error {
	if at.Platform != provision.PlatformSlack || at.ChannelID == "" || at.MessageID == "" {
		return nil
	}
	root := at.ThreadID
	if root == "" {
		root = at.MessageID
	}
	if !a.goWatch(func(ctx context.Context) { a.watch(ctx, at.WorkspaceID, at.ChannelID, at.MessageID, root, containerID) }) {
		return errBusy
	}
	return nil
}

// watch edits the card at channel/cardTS as the job progresses, at most
// once per EditInterval (the latest state wins, the final state is always
// written), and posts one thread reply per phase.
func (a *Adapter) watch(ctx context.Context, team, channel, cardTS, threadRoot, containerID string) {
	log := a.log.With("container", containerID, "channel", channel, "card", cardTS)
	updates, err := a.router.Watch(ctx, containerID)
	if err != nil {
		log.WarnContext(ctx, "following a job", "err", err)
		return
	}
	var (
		latest   *commands.Response
		lastEdit time.Time
		timer    *time.Timer
		timerC   <-chan time.Time
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	edit := func() {
		if latest == nil {
			return
		}
		card := *latest
		latest = nil
		blocks := renderBlocks(card.Blocks)
		if len(blocks) > maxMessageBlocks {
			blocks = blocks[:maxMessageBlocks] // a card is short; the thread holds the detail
		}
		if err := a.update(ctx, channel, cardTS, fallbackText(card.Blocks), blocks); err != nil {
			log.WarnContext(ctx, "editing the job card", "err", err)
		}
		lastEdit = time.Now()
	}
	final := func() {
		if wait := time.Until(lastEdit.Add(a.cfg.EditInterval)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
		edit()
	}
	thread := &origin{team: team, channel: channel, threadTS: threadRoot}
	for {
		select {
		case u, ok := <-updates:
			if !ok {
				final()
				return
			}
			if u.Thread != nil {
				a.sendPublic(ctx, thread, *u.Thread)
			}
			card := u.Card
			latest = &card
			if u.Done {
				final()
				return
			}
			if time.Since(lastEdit) >= a.cfg.EditInterval {
				edit()
			} else if timerC == nil {
				timer = time.NewTimer(time.Until(lastEdit.Add(a.cfg.EditInterval)))
				timerC = timer.C
			}
		case <-timerC:
			timerC = nil
			edit()
		case <-ctx.Done():
			return
		}
	}
}
