package main

import (
	"context"
	"fmt"
	"time"
)

// pipelineMode is one way of running the simulator for section 2.
type pipelineMode struct {
	name string
	opts serveOptions
}

// pipelineConcurrency is serve's --concurrency in section 2: as many
// worker slots as the largest batch, so N = 50 measures the bot's overhead
// rather than the queue behind the default 8 slots.
const pipelineConcurrency = 50

func pipelineModes() []pipelineMode {
	return []pipelineMode{
		{"fast", serveOptions{Nodes: 2, Concurrency: pipelineConcurrency}},
		// In-container sleeps stay off so the simulated time of a creation is
		// exactly its Proxmox tasks × the task duration.
		{"realistic (2 s tasks)", serveOptions{Nodes: 2, TaskDuration: 2 * time.Second, Concurrency: pipelineConcurrency}},
	}
}

func runPipeline(ctx context.Context, o options, _ tools, rep *report) section {
	sec := section{title: "2. Creation pipeline"}
	if err := serveAvailable(o); err != nil {
		sec.note("not measured: lxcbot serve was not available: %v", err)
		return sec
	}
	levels := []int{1, 10, 50}
	if o.quick {
		levels = []int{1, 10}
	}
	sec.printf("N concurrent `/lxc create %s <host>` slash commands, each followed by a press of the plan card's **Create** button "+
		"(a signed `block_actions` interaction, sent as soon as the card arrives), against `lxcbot serve --concurrency %d` "+
		"(API, worker and engine in one process, pinned to core %s; %d worker slots instead of the default 8 so no batch queues, "+
		"and `?pool_size=%d` on `REDIS_URL`: on go-redis's default pool, 10 connections for a serve pinned to one core, "+
		"a batch of 50 stalled on `redis: connection pool timeout` with nothing ready after 200 s) "+
		"and the simulator (2 nodes). Wall time runs from sending the first command to the last container's `ready_at`; "+
		"the simulated time is what the simulator itself needed for the slowest creation (its Proxmox tasks × the task duration), "+
		"so the overhead ratio wall ÷ simulated is 1.00× for a bot that adds nothing. CPU is serve's user+system time from `/proc`, divided by N. "+
		"Ratios in the last columns are to N = 1 of the same mode.\n\n", createTemplate, pipelineConcurrency, serverCore, pipelineConcurrency, redisPoolFor(pipelineConcurrency))
	sec.printf("| mode | N | ready | wall s | simulated s | overhead ratio | per creation p50 s | p99 s | CPU s / creation | CPU / creation × N=1 | wall / creation × N=1 |\n")
	sec.printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, mode := range pipelineModes() {
		if ctx.Err() != nil {
			break
		}
		if o.quick && mode.opts.TaskDuration > 0 {
			levels = []int{1, 5}
		}
		env, err := startServe(ctx, o, rep.machine, mode.opts)
		if err != nil {
			sec.note("%s: lxcbot serve did not start: %v", mode.name, err)
			continue
		}
		idle := idleRSS(env)
		var base *batch
		for _, n := range levels {
			if ctx.Err() != nil {
				break
			}
			prefix := fmt.Sprintf("p%d-n%d", len(mode.name), n)
			b, err := createBatch(ctx, env, prefix, n, mode.opts.TaskDuration, batchTimeout(n, mode.opts.TaskDuration))
			if err != nil {
				sec.note("%s, N = %d: %v", mode.name, n, err)
				continue
			}
			if b.Failed > 0 || b.TimedOut {
				sec.note("%s, N = %d: %d ready, %d failed, timed out %v; first problem: %s", mode.name, n, b.Ready, b.Failed, b.TimedOut, b.FirstErr)
			}
			if b.Ready == 0 {
				sec.printf("| %s | %d | 0 | – | – | – | – | – | – | – | – |\n", mode.name, n)
				continue
			}
			if base == nil {
				bb := b
				base = &bb
			}
			overhead := "–"
			if b.Simulated > 0 {
				overhead = ratio(b.Wall.Seconds(), b.Simulated.Seconds())
			}
			cpuPer := b.CPU / float64(n)
			sec.printf("| %s | %d | %d | %s | %s | %s | %s | %s | %.3f | %s | %s |\n", mode.name, n, b.Ready, secs(b.Wall), secs(b.Simulated), overhead,
				secs(pct(b.PerCreation, 0.5)), secs(pct(b.PerCreation, 0.99)), cpuPer,
				ratio(cpuPer, base.CPU/float64(base.N)), ratio(b.Wall.Seconds()/float64(n), base.Wall.Seconds()/float64(base.N)))
			if n == 50 || n == levels[len(levels)-1] {
				rep.memory = append(rep.memory, memRow{mode: mode.name, n: n, idleKiB: idle, peakKiB: b.PeakRSS})
			}
		}
		env.stop()
	}
	return sec
}

// batchTimeout gives a batch generous time: it reports, it does not judge.
func batchTimeout(n int, task time.Duration) time.Duration {
	return 2*time.Minute + time.Duration(n)*(2*time.Second+4*task)
}

// idleRSS lets serve settle after start-up, then reads its RSS.
func idleRSS(e *serveEnv) int64 {
	time.Sleep(2 * time.Second)
	rss, _ := rssKiB(e.Pid())
	return rss
}
