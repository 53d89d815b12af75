package discord

import (
	"context"
	"time"

	"github.com/lxcbot/lxcbot/internal/commands"
)

// watchTimeout bounds how long one job is followed.
const watchTimeout = 3 * time.Hour

// startWatch follows a creation job in the background, if a slot is free.
func (a *Adapter) startWatch(t target, containerID string) {
	select {
	case a.watches <- struct{}{}:
	default:
		a.log.Warn("too many jobs followed at once; this one's card will not update", "container", containerID)
		return
	}
	ctx, cancel := context.WithTimeout(a.base, watchTimeout)
	a.goSafe(ctx, "job follower", func() {
		defer func() { <-a.watches }()
		defer cancel()
		a.follow(ctx, &t, containerID)
	})
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
