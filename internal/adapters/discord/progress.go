package discord

import (
	"context"
	"errors"
	"time"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/provision"
)

// watchTimeout bounds how long one job is followed.
const watchTimeout = 3 * time.Hour

// CardStore records where a job card lives (guild, channel, message), so
// that a restarted process or another replica can keep editing it;
// *store.DB satisfies it.
type CardStore interface {
	SetContainerMessage(ctx context.Context, id string, origin provision.Origin) error
}

// errTooManyWatches: every slot for following jobs is taken.
var errTooManyWatches = errors.New("discord: too many jobs followed at once")

// recordCard saves where the job card of containerID was posted.
func (a *Adapter) recordCard(ctx context.Context, guildID string, t target, containerID string) {
	if a.cards == nil {
		return
	}
	// The job's thread, once started, is the card's: it has the card's id.
	o := provision.Origin{Platform: provision.PlatformDiscord, WorkspaceID: guildID, ChannelID: t.channelID, MessageID: t.messageID}
	if err := a.cards.SetContainerMessage(ctx, containerID, o); err != nil {
		a.log.WarnContext(ctx, "recording the job card", "container", containerID, "err", err)
	}
}

// Resume keeps editing a job card posted earlier, by this process before a
// restart or by another replica: its channel and message come from the
// container's recorded origin, and the edits go through the bot token (the
// interaction token that posted the card is not known here). The lead calls
// it at start-up for jobs still running.
func (a *Adapter) Resume(_ context.Context, containerID string, at provision.Origin) error {
	if at.Platform != provision.PlatformDiscord || at.ChannelID == "" || at.MessageID == "" {
		return nil
	}
	if !a.startWatch(target{channelID: at.ChannelID, messageID: at.MessageID}, containerID) {
		return errTooManyWatches
	}
	return nil
}

// startWatch follows a creation job in the background, if a slot is free.
func (a *Adapter) startWatch(t target, containerID string) bool {
	select {
	case a.watches <- struct{}{}:
	default:
		return false
	}
	ctx, cancel := context.WithTimeout(a.base, watchTimeout)
	a.goSafe(ctx, "job follower", func() {
		defer func() { <-a.watches }()
		defer cancel()
		a.follow(ctx, &t, containerID)
	})
	return true
}

// follow edits the job card in place, coalescing edits to about one per
// interval, and posts one thread message per finished phase (and the
// failing output on error). The last card is always written.
func (a *Adapter) follow(ctx context.Context, t *target, containerID string) {
	log := a.log.With("container", containerID, "message", t.messageID)
	updates, err := a.router.Watch(ctx, containerID)
	if err != nil {
		log.WarnContext(ctx, "following a job", "err", err)
		return
	}
	var (
		pending  *commands.Response
		lastEdit time.Time
		timer    *time.Timer
		timerC   <-chan time.Time
		thread   string
		name     = "job"
	)
	flush := func(final bool) {
		if pending == nil {
			return
		}
		attempts := 1
		if final {
			attempts = 4 // the last state must land, even through a 429 storm
		}
		for i := 0; i < attempts; i++ {
			err = a.editCard(ctx, t, *pending)
			if err == nil || ctx.Err() != nil {
				break
			}
		}
		if err != nil {
			log.WarnContext(ctx, "editing the job card", "err", err)
			return // kept pending: the next update or tick tries again
		}
		pending = nil
		lastEdit = time.Now()
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timerC:
			timer, timerC = nil, nil
			flush(false)
		case u, ok := <-updates:
			if !ok {
				flush(true)
				return
			}
			if u.Event.Hostname != "" {
				name = "Creating " + u.Event.Hostname
			}
			card := u.Card
			pending = &card
			if u.Thread != nil {
				if thread == "" {
					if thread, err = a.ensureThread(ctx, t.channelID, t.messageID, name); err != nil {
						log.WarnContext(ctx, "starting the job thread", "err", err)
					}
				}
				if thread != "" {
					a.postResponse(ctx, thread, *u.Thread)
				}
			}
			if u.Done {
				flush(true)
				return
			}
			if timerC == nil {
				wait := a.interval - time.Since(lastEdit)
				if wait <= 0 {
					flush(false)
				} else {
					timer = time.NewTimer(wait)
					timerC = timer.C
				}
			}
		}
	}
}

func (a *Adapter) editCard(ctx context.Context, t *target, card commands.Response) error {
	msgs, err := a.render(ctx, card)
	if err != nil {
		return err
	}
	return a.editTarget(ctx, t, msgs[0])
}

// postResponse posts a rendered response into a channel or thread.
func (a *Adapter) postResponse(ctx context.Context, channelID string, resp commands.Response) {
	msgs, err := a.render(ctx, resp)
	if err != nil {
		a.log.WarnContext(ctx, "rendering a thread message", "err", err)
		return
	}
	for _, m := range msgs {
		if _, err := a.postChannel(ctx, channelID, m); err != nil {
			a.log.WarnContext(ctx, "posting a thread message", "channel", channelID, "err", err)
		}
	}
}
