package slack

import (
	"context"
	"encoding/json"
	"time"

	"github.com/slack-go/slack"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/provision"
)

// follow records where a job card lives and keeps it up to date. shown is
// the card's content as posted (cardContent), so that an update that
// changes nothing is not sent.
func (a *Adapter) follow(ctx context.Context, team, channel, cardTS, threadRoot, containerID, shown string) {
	if a.cards != nil {
		o := provision.Origin{Platform: provision.PlatformSlack, WorkspaceID: team, ChannelID: channel, ThreadID: threadRoot, MessageID: cardTS}
		if err := a.cards.SetContainerMessage(ctx, containerID, o); err != nil {
			a.log.WarnContext(ctx, "recording the job card", "container", containerID, "err", err)
		}
	}
	if !a.goWatch(func(ctx context.Context) { a.watch(ctx, team, channel, cardTS, threadRoot, containerID, shown) }) {
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
	if !a.goWatch(func(ctx context.Context) {
		a.watch(ctx, at.WorkspaceID, at.ChannelID, at.MessageID, root, containerID, "")
	}) {
		return errBusy
	}
	return nil
}

// watch keeps a job card and its thread up to date with few calls, since
// every job in a channel shares Slack's one message per second there:
//
//   - at most one call per EditInterval while the job runs, and only when
//     the channel is idle (the card's latest state wins; thread entries
//     wait and go out together as one reply);
//   - an edit whose rendered content did not change is not sent;
//   - when the job ends, the final card and every pending thread entry are
//     always written, waiting for the channel's turn if needed.
func (a *Adapter) watch(ctx context.Context, team, channel, cardTS, threadRoot, containerID, shown string) {
	log := a.log.With("container", containerID, "channel", channel, "card", cardTS)
	updates, err := a.router.Watch(ctx, containerID)
	if err != nil {
		log.WarnContext(ctx, "following a job", "err", err)
		return
	}
	var (
		card       *commands.Response // latest state, not yet shown
		pending    []commands.Response
		lastThread bool // the last call was a thread reply
		timer      = time.NewTimer(a.cfg.EditInterval)
	)
	timer.Stop()
	defer timer.Stop()
	armed := false
	editCard := func() {
		text, blocks, content := cardContent(card.Blocks)
		card = nil
		if content == shown {
			return
		}
		if err := a.update(ctx, channel, cardTS, text, blocks); err != nil {
			log.WarnContext(ctx, "editing the job card", "err", err)
			return
		}
		shown = content
	}
	postThread := func() {
		entries := pending
		pending = nil
		a.sendPublic(ctx, &origin{team: team, channel: channel, threadTS: threadRoot}, threadBatch(entries))
	}
	final := func() {
		if card != nil {
			editCard()
		}
		if len(pending) > 0 {
			postThread()
		}
	}
	for {
		select {
		case u, ok := <-updates:
			if !ok {
				final()
				return
			}
			if u.Thread != nil {
				pending = append(pending, *u.Thread)
			}
			c := u.Card
			card = &c
			if u.Done {
				final()
				return
			}
			if !armed {
				timer.Reset(a.cfg.EditInterval)
				armed = true
			}
		case <-timer.C:
			armed = false
			if card == nil && len(pending) == 0 {
				continue
			}
			if a.out.pace.idle(channel) {
				// One call per tick: the card, or the thread when the card
				// has nothing new or had the last turn.
				if card != nil && (len(pending) == 0 || lastThread) {
					editCard()
					lastThread = false
				} else {
					postThread()
					lastThread = true
				}
			}
			if card != nil || len(pending) > 0 {
				timer.Reset(a.cfg.EditInterval)
				armed = true
			}
		case <-ctx.Done():
			return
		}
	}
}

// cardContent renders a job card for chat.update, with a key that tells
// whether two renderings would look the same.
func cardContent(in []commands.Block) (text string, blocks []slack.Block, content string) {
	blocks = renderBlocks(in)
	if len(blocks) > maxMessageBlocks {
		blocks = blocks[:maxMessageBlocks] // a card is short; the thread holds the detail
	}
	text = fallbackText(in)
	raw, err := json.Marshal(blocks)
	if err != nil {
		return text, blocks, "" // never equal to what was shown: send it
	}
	return text, blocks, text + "\x00" + string(raw)
}

// threadBatch joins thread entries into one reply: their blocks in order
// (split over more messages only when they exceed one) and every file.
func threadBatch(entries []commands.Response) commands.Response {
	out := commands.Response{Visibility: commands.InChannel, Thread: true}
	for _, e := range entries {
		out.Blocks = append(out.Blocks, e.Blocks...)
		out.Files = append(out.Files, e.Files...)
	}
	return out
}
