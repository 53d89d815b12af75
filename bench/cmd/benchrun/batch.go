package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
)

// batch is the outcome of N concurrent creations through `/lxc create`.
type batch struct {
	N        int
	Ready    int
	Failed   int
	FirstErr string
	// Wall is from sending the first command to the last container ready.
	Wall time.Duration
	// PerCreation are ready_at − created_at of each ready container.
	PerCreation []time.Duration
	// Simulated is the longest simulated time any one creation needed:
	// Proxmox tasks × the task duration.
	Simulated time.Duration
	CPU       float64 // serve's CPU seconds over the batch
	PeakRSS   int64   // KiB, sampled every 100 ms
	TimedOut  bool
}

const createTemplate = "nginx-web"

// createBatch sends n `/lxc create` commands at once, presses the Create
// button on each plan card, and waits until every container is ready or
// failed (or timeout), sampling serve's memory. Wall time includes the plan
// card and the press, with no human delay between them.
func createBatch(ctx context.Context, e *serveEnv, prefix string, n int, taskDuration, timeout time.Duration) (batch, error) {
	b := batch{N: n}
	cpu0, err := cpuSeconds(e.Pid())
	if err != nil {
		return b, fmt.Errorf("reading serve's CPU time: %w", err)
	}
	t0 := time.Now()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		ackErrs []string
		ackBody string
	)
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			host := prefix + "-" + strconv.Itoa(i)
			body, err := createAndConfirm(ctx, e, host, prefix+"."+strconv.Itoa(i))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				ackErrs = append(ackErrs, host+": "+err.Error())
			} else if ackBody == "" {
				ackBody = body
			}
		}()
	}
	wg.Wait()
	if len(ackErrs) > 0 {
		b.Failed = len(ackErrs)
		b.FirstErr = ackErrs[0]
	}

	deadline := t0.Add(timeout)
	seen := false
	for {
		if rss, err := rssKiB(e.Pid()); err == nil {
			b.PeakRSS = max(b.PeakRSS, rss)
		}
		rows, err := e.containers(ctx, prefix)
		if err != nil {
			return b, err
		}
		done := 0
		for _, r := range rows {
			if r.terminal() {
				done++
			}
		}
		if len(rows) > 0 {
			seen = true
		}
		if len(rows)+len(ackErrs) >= n && done == len(rows) {
			b.summarise(e, rows, t0, taskDuration)
			break
		}
		// A create that records nothing within 30 s never will.
		if time.Now().After(deadline) || ctx.Err() != nil || (!seen && time.Since(t0) > 30*time.Second) {
			b.TimedOut = true
			b.summarise(e, rows, t0, taskDuration)
			if !seen && b.FirstErr == "" {
				b.FirstErr = fmt.Sprintf("no container was recorded within 30 s: the create command did not start a job; its ack was %.300s", ackBody)
			}
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if cpu1, err := cpuSeconds(e.Pid()); err == nil {
		b.CPU = cpu1 - cpu0
	}
	return b, nil
}

func (b *batch) summarise(e *serveEnv, rows []containerRow, t0 time.Time, taskDuration time.Duration) {
	var last time.Time
	for _, r := range rows {
		switch r.State {
		case "ready":
			b.Ready++
			if r.ReadyAt != nil {
				b.PerCreation = append(b.PerCreation, r.ReadyAt.Sub(r.CreatedAt))
				if r.ReadyAt.After(last) {
					last = *r.ReadyAt
				}
			}
		case "failed", "cancelled":
			b.Failed++
			if b.FirstErr == "" {
				b.FirstErr = fmt.Sprintf("%s %s in %s: %s", r.Hostname, r.State, r.FailedPhase, r.LastError)
			}
		}
		if r.VMID > 0 {
			b.Simulated = max(b.Simulated, time.Duration(e.tasksOf(r.VMID))*taskDuration)
		}
	}
	if last.IsZero() {
		last = time.Now()
	}
	b.Wall = last.Sub(t0)
	slices.Sort(b.PerCreation)
}

// tasksOf counts the simulator's tasks for one container, on every node.
func (e *serveEnv) tasksOf(vmid int) int {
	id := strconv.Itoa(vmid)
	n := 0
	for _, node := range e.Sim.Cluster.NodeNames() {
		for _, t := range e.Sim.Cluster.Tasks(node) {
			if t.ID == id {
				n++
			}
		}
	}
	return n
}

type containerRow struct {
	Hostname, State, FailedPhase, LastError string
	VMID                                    int
	CreatedAt                               time.Time
	ReadyAt                                 *time.Time
}

func (r containerRow) terminal() bool {
	return r.State == "ready" || r.State == "failed" || r.State == "cancelled"
}

// containers reads the bot's records of the containers named prefix-*.
func (e *serveEnv) containers(ctx context.Context, prefix string) ([]containerRow, error) {
	rows, err := e.db.Query(ctx, `SELECT hostname, state, coalesce(failed_phase, ''), last_error, coalesce(vmid, 0), created_at, ready_at
		FROM containers WHERE hostname LIKE $1`, prefix+"-%")
	if err != nil {
		return nil, fmt.Errorf("reading containers: %w", err)
	}
	defer rows.Close()
	var out []containerRow
	for rows.Next() {
		var r containerRow
		if err := rows.Scan(&r.Hostname, &r.State, &r.FailedPhase, &r.LastError, &r.VMID, &r.CreatedAt, &r.ReadyAt); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// pct is the nearest-rank quantile of sorted durations.
func pct(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }
