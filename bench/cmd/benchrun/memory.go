package main

import (
	"context"
	"fmt"
)

// memRow is serve's resident memory idle and at the peak of a batch.
type memRow struct {
	mode             string
	n                int
	idleKiB, peakKiB int64
}

func runMemory(ctx context.Context, o options, _ tools, rep *report) section {
	sec := section{title: "5. Memory"}
	if err := serveAvailable(o); err != nil {
		sec.note("not measured: lxcbot serve was not available: %v", err)
		return sec
	}
	rows := rep.memory
	if len(rows) == 0 { // the pipeline section did not run: measure here
		n := 50
		if o.quick {
			n = 10
		}
		env, err := startServe(ctx, o, rep.machine, serveOptions{Nodes: 2, Concurrency: pipelineConcurrency})
		if err != nil {
			sec.note("lxcbot serve did not start: %v", err)
			return sec
		}
		idle := idleRSS(env)
		b, err := createBatch(ctx, env, "mem", n, 0, batchTimeout(n, 0))
		env.stop()
		if err != nil {
			sec.note("N = %d: %v", n, err)
			return sec
		}
		if b.Ready == 0 {
			sec.note("N = %d: no creation succeeded (%s), so there is no peak to report; idle was %s MiB", n, b.FirstErr, mib(idle))
			return sec
		}
		rows = append(rows, memRow{mode: "fast", n: n, idleKiB: idle, peakKiB: b.PeakRSS})
	}
	sec.printf("VmRSS of the `lxcbot serve` process from `/proc/<pid>/status`: idle is 2 s after `/readyz` first answered 200, " +
		"peak is the largest of samples every 100 ms while section 2's largest batch ran. Postgres, Redis and the simulator are separate and not counted.\n\n")
	sec.printf("| mode | batch N | idle MiB | peak MiB during batch | peak × idle | peak − idle per creation MiB |\n|---|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		sec.printf("| %s | %d | %s | %s | %s | %s |\n", r.mode, r.n, mib(r.idleKiB), mib(r.peakKiB), ratio(float64(r.peakKiB), float64(r.idleKiB)),
			mib((r.peakKiB-r.idleKiB)/int64(max(r.n, 1))))
	}
	return sec
}

func mib(kib int64) string { return fmt.Sprintf("%.1f", float64(kib)/1024) }
