package slack

import (
	"context"
	"sync"
	"time"
)

// pacer spaces the calls that post into a channel (chat.postMessage,
// chat.update), shared by every job and request of the adapter: Slack
// allows about one message per second per channel with short bursts and
// answers 429 beyond that. It is a token bucket per channel (rate one per
// interval, burst calls at once) with two refinements that keep it under
// the limit rather than near it: a call counts from when its answer came
// back, so a slow request cannot make the next one arrive early, and a 429
// pauses the whole channel for its Retry-After.
//
// Waiters are served in arrival order (one waits for the time to come,
// the others queue behind it on a channel, which Go serves FIFO), so a job's
// final card edit is not starved by another job's stream of updates.
type pacer struct {
	interval time.Duration
	burst    int
	now      func() time.Time

	mu    sync.Mutex
	chans map[string]*channelPace
}

type channelPace struct {
	turn     chan struct{} // held by the waiter whose turn it is
	released chan struct{} // closed and replaced when a call ends
	inflight int
	tat      time.Time // GCRA's theoretical arrival time
	paused   time.Time // no call before this (Retry-After)
	users    int       // goroutines holding this state; guarded by pacer.mu
}

func newPacer(interval time.Duration, burst int) *pacer {
	return &pacer{interval: interval, burst: max(burst, 1), now: time.Now, chans: map[string]*channelPace{}}
}

// allowance is how far ahead of its theoretical arrival time a call may go.
func (p *pacer) allowance() time.Duration { return time.Duration(p.burst-1) * p.interval }

func (p *pacer) get(channel string) *channelPace {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.chans[channel]
	if !ok {
		if len(p.chans) >= 1024 {
			p.sweepLocked()
		}
		c = &channelPace{turn: make(chan struct{}, 1), released: make(chan struct{})}
		p.chans[channel] = c
	}
	c.users++
	return c
}

func (p *pacer) put(c *channelPace) {
	p.mu.Lock()
	c.users--
	p.mu.Unlock()
}

// sweepLocked forgets channels nobody uses whose limits have run out, so
// the map does not grow with every channel the bot ever wrote to.
func (p *pacer) sweepLocked() {
	now := p.now()
	for k, c := range p.chans {
		if c.users == 0 && !now.Before(c.tat) && !now.Before(c.paused) {
			delete(p.chans, k)
		}
	}
}

// acquire waits until a call may be made in channel. Every successful
// acquire must be followed by one release.
func (p *pacer) acquire(ctx context.Context, channel string) (*channelPace, error) {
	c := p.get(channel)
	select {
	case c.turn <- struct{}{}:
	case <-ctx.Done():
		p.put(c)
		return nil, ctx.Err()
	}
	defer func() { <-c.turn }()
	for {
		p.mu.Lock()
		now := p.now()
		wait := max(c.tat.Sub(now)-p.allowance(), c.paused.Sub(now))
		if c.inflight < p.burst && wait <= 0 {
			c.inflight++
			c.tat = later(c.tat, now).Add(p.interval)
			p.mu.Unlock()
			return c, nil
		}
		released := c.released
		p.mu.Unlock()
		var (
			t     *time.Timer
			timer <-chan time.Time
		)
		if wait > 0 {
			t = time.NewTimer(wait)
			timer = t.C
		}
		select {
		case <-timer:
		case <-released:
		case <-ctx.Done():
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			p.put(c)
			return nil, ctx.Err()
		}
	}
}

// release ends a call made after acquire. retryAfter > 0 (a 429) pauses the
// channel for that long.
func (p *pacer) release(c *channelPace, retryAfter time.Duration) {
	p.mu.Lock()
	now := p.now()
	c.inflight--
	// The call counts from now, when Slack had certainly seen it.
	c.tat = later(c.tat, now.Add(p.interval))
	if retryAfter > 0 {
		c.paused = later(c.paused, now.Add(retryAfter))
	}
	close(c.released)
	c.released = make(chan struct{})
	c.users--
	p.mu.Unlock()
}

// idle reports whether a call in channel could go at once, with nobody
// waiting: best-effort updates use it to step aside for the calls that must
// be made.
func (p *pacer) idle(channel string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.chans[channel]
	if !ok {
		return true
	}
	now := p.now()
	return len(c.turn) == 0 && c.inflight < p.burst && !now.Before(c.tat.Add(-p.allowance())) && !now.Before(c.paused)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
