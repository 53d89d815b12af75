package slack

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/adapters/slack/slackfake"
	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/commands/commandstest"
	"github.com/lxcbot/lxcbot/internal/provision"
)

// spacedJobs replays the in-memory backend's job events with a gap between
// them, so that a job runs over several edit intervals as a real one does.
type spacedJobs struct {
	commands.Backend
	gap time.Duration
}

func (s spacedJobs) Subscribe(ctx context.Context, id, after string) (<-chan provision.ProgressEvent, error) {
	in, err := s.Backend.Subscribe(ctx, id, after)
	if err != nil {
		return nil, err
	}
	out := make(chan provision.ProgressEvent)
	go func() {
		defer close(out)
		for ev := range in {
			t := time.NewTimer(s.gap)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// setupPaced is a bundle whose fake Slack refuses a second chat.postMessage
// or chat.update in a channel within window, as Slack does (scaled down),
// and whose adapter paces its calls at that same rate.
func setupPaced(t *testing.T, window, gap time.Duration) *testBundle {
	t.Helper()
	b := setup(t, func(o *setupOpts) {
		o.cfg = func(c *Config) { c.ChannelInterval, c.EditInterval = window, window }
		o.backend = func(m *commandstest.Mem) commands.Backend { return spacedJobs{Backend: m, gap: gap} }
	})
	b.fake.SetRateLimit(window)
	return b
}

func count429(calls []slackfake.Call) int {
	n := 0
	for _, c := range calls {
		if c.Status == http.StatusTooManyRequests {
			n++
		}
	}
	return n
}

// requireCompleteJob checks the final card of host and that its thread
// names every phase the job went through.
func requireCompleteJob(t *testing.T, fake *slackfake.Server, host string) {
	t.Helper()
	var card slackfake.Message
	for _, m := range fake.Messages(channel) {
		if m.ThreadTS == "" && strings.Contains(m.Blocks, host+" is ready") {
			card = m
		}
	}
	require.NotEmpty(t, card.TS, "the card of %s shows it ready", host)
	require.Contains(t, card.Blocks, "100%")
	var thread strings.Builder
	for _, m := range fake.Messages(channel) {
		if m.ThreadTS == card.TS {
			thread.WriteString(m.Blocks)
		}
	}
	for _, ph := range provision.Phases {
		if ph == provision.PhaseReady {
			require.Contains(t, thread.String(), "ready at 10.0.0.", "the thread of %s ends with ready", host)
			continue
		}
		require.Contains(t, thread.String(), fmt.Sprintf("%s finished", ph), "the thread of %s", host)
	}
	require.Contains(t, thread.String(), "pip package foo failed", "the warning is in the thread of %s", host)
}

func TestOneCreationStaysWithinTheChannelRate(t *testing.T) {
	t.Parallel()
	b := setupPaced(t, 100*time.Millisecond, 10*time.Millisecond)
	resp, _ := b.press(t, slackOperator, commands.ActCreateConfirm, "plan1 nginx pace1", "1700000000.000001", true, "1700000010.1")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	waitFor(t, "the card to show the ready state", func() bool {
		for _, m := range b.fake.Messages(channel) {
			if m.ThreadTS == "" && strings.Contains(m.Blocks, "pace1 is ready") {
				return true
			}
		}
		return false
	})
	b.drain(t)

	calls := b.fake.Calls()
	require.Zero(t, count429(calls), "paced calls never meet the channel's limit")
	require.LessOrEqual(t, len(calls), 12, "Web API calls and response_url posts for one creation: %v", methodsOf(calls))
	require.Less(t, len(b.fake.Calls("chat.postMessage", "chat.update")), jobEventCount(t)/3, "far fewer calls than progress events")
	requireCompleteJob(t, b.fake, "pace1")
}

func TestConcurrentCreationsInOneChannelShareItsRate(t *testing.T) {
	t.Parallel()
	const jobs = 20
	b := setupPaced(t, 20*time.Millisecond, 5*time.Millisecond)
	for i := range jobs {
		// Acknowledged at once: the jobs run side by side.
		resp, _ := b.press(t, slackOperator, commands.ActCreateConfirm, fmt.Sprintf("plan%d nginx many%d", i, i),
			fmt.Sprintf("1700000000.%06d", 100+i), true, fmt.Sprintf("1700000020.%d", i))
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	waitFor(t, "every card to show the ready state", func() bool {
		ready := 0
		for _, m := range b.fake.Messages(channel) {
			if m.ThreadTS == "" && strings.Contains(m.Blocks, " is ready") {
				ready++
			}
		}
		return ready == jobs
	})
	b.drain(t)

	calls := b.fake.Calls()
	require.Zero(t, count429(calls), "%d jobs in one channel never meet its limit", jobs)
	for i := range jobs {
		requireCompleteJob(t, b.fake, fmt.Sprintf("many%d", i))
	}
	// Each job costs its card, its final edit and its thread, plus what the
	// channel had room for while it ran.
	require.LessOrEqual(t, len(b.fake.Calls("chat.postMessage", "chat.update")), jobs*8)
}

func methodsOf(calls []slackfake.Call) map[string]int {
	m := map[string]int{}
	for _, c := range calls {
		m[c.Method]++
	}
	return m
}
