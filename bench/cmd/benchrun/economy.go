package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/lxcbot/lxcbot/internal/adapters/slack/slackfake"
)

// economyTask is the simulated task duration for section 4: long enough for
// a creation to report progress several times.
const economyTask = 500 * time.Millisecond

func runEconomy(ctx context.Context, o options, _ tools, rep *report) section {
	sec := section{title: "4. Chat API economy"}
	if err := serveAvailable(o); err != nil {
		sec.note("not measured: lxcbot serve was not available: %v", err)
		return sec
	}
	big := 20
	if o.quick {
		big = 5
	}
	env, err := startServe(ctx, o, rep.machine, serveOptions{Nodes: 2, TaskDuration: economyTask, RateLimit: time.Second})
	if err != nil {
		sec.note("lxcbot serve did not start: %v", err)
		return sec
	}
	defer env.stop()
	sec.printf("Concurrent `/lxc create` in one channel, with the fake Slack refusing a second `chat.postMessage`/`chat.update` "+
		"in the channel within 1 s (429 with Retry-After, as Slack does), tasks of %s. Every Web API call and `response_url` post "+
		"is counted from the fake's record, from the first command until the fake has been quiet for 3 s after the last container is ready "+
		"(at most "+economySettle.String()+" after it). "+
		"The peer is a single creation in the same conditions.\n\n", economyTask)
	sec.printf("| creations | ready | Slack calls | calls / creation | × 1 creation | 429s | 429 share | by method | last call after first command s |\n|---:|---:|---:|---:|---:|---:|---:|---|---:|\n")
	var basePer float64
	for _, n := range []int{1, big} {
		if ctx.Err() != nil {
			break
		}
		start := len(env.Slack.Calls())
		t0 := time.Now()
		b, err := createBatch(ctx, env, fmt.Sprintf("e%d", n), n, economyTask, batchTimeout(n, economyTask))
		if err != nil {
			sec.note("%d creations: %v", n, err)
			continue
		}
		if b.Failed > 0 || b.TimedOut {
			sec.note("%d creations: %d ready, %d failed, timed out %v; first problem: %s", n, b.Ready, b.Failed, b.TimedOut, b.FirstErr)
		}
		if b.Ready == 0 {
			sec.printf("| %d | 0 | – | – | – | – | – | – | – |\n", n)
			continue
		}
		if !waitQuiet(ctx, env.Slack, 3*time.Second, economySettle) {
			sec.note("%d creations: the bot was still calling Slack %s after the last container was ready; the counts stop there and are a lower bound", n, economySettle)
		}
		calls := env.Slack.Calls()[start:]
		byMethod := map[string]int{}
		limited := 0
		var last time.Time
		for _, c := range calls {
			byMethod[c.Method]++
			if c.Status == http.StatusTooManyRequests {
				limited++
			}
			if c.At.After(last) {
				last = c.At
			}
		}
		per := float64(len(calls)) / float64(n)
		if basePer == 0 {
			basePer = per
		}
		sec.printf("| %d | %d | %d | %.1f | %s | %d | %s | %s | %s |\n", n, b.Ready, len(calls), per, ratio(per, basePer), limited,
			ratio(float64(limited), float64(len(calls))), methods(byMethod), secs(last.Sub(t0)))
	}
	return sec
}

// economySettle bounds how long section 4 waits, after the last container
// is ready, for the bot to stop calling Slack (it keeps the full run under
// 10 minutes when a backlog of rate-limited calls drains at 1 msg/s).
const economySettle = time.Minute

// waitQuiet returns true once the fake has recorded no call for quiet, or
// false after limit.
func waitQuiet(ctx context.Context, s *slackfake.Server, quiet, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	n, since := len(s.Calls()), time.Now()
	for time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
		if m := len(s.Calls()); m != n {
			n, since = m, time.Now()
		} else if time.Since(since) >= quiet {
			return true
		}
	}
	return false
}

func methods(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
