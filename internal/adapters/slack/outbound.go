package slack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/lxcbot/lxcbot/internal/metrics"
)

// outbound bounds and retries calls to Slack's Web API: at most a fixed
// number run at once, calls that post into a channel are paced per channel,
// a 429 waits for its Retry-After, and transient failures (5xx, network)
// back off exponentially, a bounded number of times.
type outbound struct {
	sem      chan struct{}
	pace     *pacer
	attempts int
	base     time.Duration // first backoff and the least wait after a 429
	maxWait  time.Duration
	metrics  *metrics.Metrics // nil = not counted
}

func newOutbound(concurrency, attempts int, base time.Duration, pace *pacer) *outbound {
	return &outbound{sem: make(chan struct{}, concurrency), pace: pace, attempts: attempts, base: base, maxWait: 30 * base}
}

// do runs fn under the concurrency bound, retrying as described above.
// what names the call for errors ("chat.update C1").
func (o *outbound) do(ctx context.Context, what string, fn func(ctx context.Context) error) error {
	return o.doIn(ctx, "", what, fn)
}

// doIn is do for a call that posts into channel: each attempt waits for
// the channel's pace, and a 429 holds back every call to the channel.
func (o *outbound) doIn(ctx context.Context, channel, what string, fn func(ctx context.Context) error) error {
	var err error
	backoff := o.base
	for attempt := 1; ; attempt++ {
		var slot *channelPace
		if channel != "" && o.pace != nil {
			if slot, err = o.pace.acquire(ctx, channel); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
		}
		select {
		case o.sem <- struct{}{}:
		case <-ctx.Done():
			if slot != nil {
				o.pace.release(slot, 0)
			}
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
		err = fn(ctx)
		<-o.sem
		if slot != nil {
			var rl *slack.RateLimitedError
			pause := time.Duration(0)
			if errors.As(err, &rl) {
				pause = max(rl.RetryAfter, o.base)
			}
			o.pace.release(slot, pause)
		}
		o.count(what, err)
		if err == nil {
			return nil
		}
		wait, retry := o.retryAfter(err, backoff)
		if !retry || attempt >= o.attempts {
			return fmt.Errorf("%s: %w", what, err)
		}
		if o.metrics != nil {
			o.metrics.ChatRetries.WithLabelValues("slack", apiMethod(what)).Inc()
		}
		backoff = min(backoff*2, o.maxWait)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w (while waiting to retry after: %v)", what, ctx.Err(), err)
		}
	}
}

// count records one call of what and whether Slack rate-limited it.
func (o *outbound) count(what string, err error) {
	if o.metrics == nil {
		return
	}
	method := apiMethod(what)
	o.metrics.ChatCalls.WithLabelValues("slack", method).Inc()
	var sc slack.StatusCodeError
	if isRateLimited(err) || errors.As(err, &sc) && sc.Code == http.StatusTooManyRequests {
		o.metrics.ChatRateLimited.WithLabelValues("slack", method).Inc()
	}
}

// apiMethod is the bounded metric label of a call: its API method, without
// any ids that follow it.
func apiMethod(what string) string {
	m, _, _ := strings.Cut(what, " ")
	return m
}

// retryAfter says whether err is worth retrying and how long to wait.
func (o *outbound) retryAfter(err error, backoff time.Duration) (time.Duration, bool) {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return min(max(rl.RetryAfter, o.base), o.maxWait), true
	}
	return backoff, transient(err)
}

// transient reports failures a retry may fix: server errors, timeouts and
// broken connections. Slack's own error answers ("channel_not_found",
// "invalid_blocks") are final.
func transient(err error) bool {
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		return sc.Code >= 500 || sc.Code == http.StatusTooManyRequests
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err == "ratelimited" || se.Err == "internal_error" || se.Err == "fatal_error" || se.Err == "service_unavailable"
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "connection reset") || strings.Contains(msg, "EOF") || strings.Contains(msg, "connection refused")
}

// isRateLimited reports a 429 that survived the retries.
func isRateLimited(err error) bool {
	var rl *slack.RateLimitedError
	return errors.As(err, &rl)
}
