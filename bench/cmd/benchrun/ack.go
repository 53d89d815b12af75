package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lxcbot/lxcbot/bench/internal/load"
)

// benchSecret signs every request of the ack benchmark; all three servers
// are given it.
const benchSecret = "bench-signing-secret-0123456789abcdef"

var ackLevels = []int{1, 16, 64}

// ackRow is one server, command and concurrency level.
type ackRow struct {
	server, text string
	load.Result
}

func ackDurations(quick bool) (measure, warmup time.Duration) {
	if quick {
		return time.Second, 300 * time.Millisecond
	}
	return 8 * time.Second, 2 * time.Second
}

func runAck(ctx context.Context, o options, t tools, rep *report) section {
	sec := section{title: "1. Slash-command ack"}
	measure, warmup := ackDurations(o.quick)
	sec.printf("Signed `/lxc` slash commands (fresh timestamp and HMAC on every request) over keep-alive connections, "+
		"%s measured after %s of warm-up per level, at concurrency %s. Latency is from sending the request to reading the whole reply. "+
		"The floor is a stdlib Go handler that only verifies the signature and returns an ephemeral ack; Bolt is `@slack/bolt` doing the same.\n\n",
		measure, warmup, joinInts(ackLevels))

	var rows []ackRow
	add := func(server string, texts []string, url, responseURL string) {
		for _, text := range texts {
			if ctx.Err() != nil {
				return
			}
			res, err := drive(ctx, o, t, rep.machine, url, responseURL, text, measure, warmup)
			if err != nil {
				sec.note("%s, `/lxc %s`: load generator failed: %v", server, text, err)
				continue
			}
			for _, r := range res {
				if r.Errors > 0 {
					sec.note("%s, `/lxc %s`, concurrency %d: %d requests failed (first: %s)", server, text, r.Concurrency, r.Errors, r.FirstError)
				}
				rows = append(rows, ackRow{server: server, text: text, Result: r})
			}
		}
	}

	// The floor.
	if addr, err := freeAddr(); err != nil {
		sec.note("floor: %v", err)
	} else {
		name, args := pinned(rep.machine, serverCore, t.floor, "-addr", addr)
		p, err := start("floor", o.work, []string{"SLACK_SIGNING_SECRET=" + benchSecret}, name, args...)
		if err == nil {
			err = p.waitReady(ctx, 10*time.Second, httpOK("http://"+addr+"/healthz"))
			if err == nil {
				add("floor (Go stdlib)", []string{"help"}, "http://"+addr+"/slack/commands", "http://"+addr+"/unused")
			}
			p.stop(5 * time.Second)
		}
		if err != nil {
			sec.note("floor: %v", err)
		}
	}

	// Bolt for JavaScript.
	if err := boltPeer(ctx, o, rep.machine, &sec, add); err != nil {
		sec.note("Bolt for JavaScript skipped: %v", err)
	}

	// lxcbot serve.
	if err := serveAvailable(o); err != nil {
		sec.note("lxcbot serve was not available, so only the floor and Bolt were measured: %v", err)
	} else {
		env, err := startServe(ctx, o, rep.machine, serveOptions{Nodes: 2})
		if err != nil {
			sec.note("lxcbot serve did not start: %v", err)
		} else {
			add("lxcbot serve", []string{"help", "list"}, env.commandsURL(), env.responseURL("ack"))
			env.stop()
		}
	}

	writeAckTable(&sec, rows)
	return sec
}

// drive runs the load generator, pinned to its own core, for every level.
func drive(ctx context.Context, o options, t tools, m machine, url, responseURL, text string, measure, warmup time.Duration) ([]load.Result, error) {
	name, args := pinned(m, generatorCore, t.ackbench, "-url", url, "-text", text, "-c", joinInts(ackLevels),
		"-d", measure.String(), "-warmup", warmup.String(), "-response-url", responseURL)
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "SLACK_SIGNING_SECRET="+benchSecret)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var res []load.Result
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r load.Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("reading ackbench output: %w", err)
		}
		res = append(res, r)
	}
	return res, nil
}

// boltPeer installs @slack/bolt into the git-ignored bench/bolt/node_modules
// and measures it; it returns an error when Node.js, npm or the registry are
// not available.
func boltPeer(ctx context.Context, o options, m machine, sec *section, add func(string, []string, string, string)) error {
	node, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("node is not installed")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("npm is not installed")
	}
	dir := filepath.Join(o.root, "bench", "bolt")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@slack", "bolt", "package.json")); err != nil {
		logf("installing @slack/bolt with npm")
		ictx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ictx, npm, "install", "--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("npm install failed (registry unreachable?): %v: %s", err, lastLine(string(out)))
		}
	}
	version := "?"
	if b, err := os.ReadFile(filepath.Join(dir, "node_modules", "@slack", "bolt", "package.json")); err == nil {
		var pj struct{ Version string }
		if json.Unmarshal(b, &pj) == nil {
			version = pj.Version
		}
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	_, port, _ := strings.Cut(addr, ":")
	name, args := pinned(m, serverCore, node, filepath.Join(dir, "app.js"))
	p, err := start("bolt", o.work, []string{"SLACK_SIGNING_SECRET=" + benchSecret, "PORT=" + port}, name, args...)
	if err != nil {
		return err
	}
	defer p.stop(5 * time.Second)
	if err := p.waitReady(ctx, 30*time.Second, tcpOpen(addr)); err != nil {
		return err
	}
	add("Bolt for JavaScript "+version, []string{"help"}, "http://"+addr+"/slack/commands", "http://"+addr+"/unused")
	return nil
}

func writeAckTable(sec *section, rows []ackRow) {
	if len(rows) == 0 {
		sec.printf("No server could be measured.\n")
		return
	}
	peer := func(prefix string, c int) *ackRow {
		for i := range rows {
			if strings.HasPrefix(rows[i].server, prefix) && rows[i].Concurrency == c && rows[i].Requests > 0 {
				return &rows[i]
			}
		}
		return nil
	}
	sec.printf("| server | command | concurrency | req/s | req/s × floor | req/s × Bolt | p50 ms | p90 ms | p99 ms | p99 × floor | requests |\n")
	sec.printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		if r.Requests == 0 {
			sec.printf("| %s | `/lxc %s` | %d | – | – | – | – | – | – | – | 0 of %d succeeded |\n", r.server, r.text, r.Concurrency, r.Errors)
			continue
		}
		fl, bo := peer("floor", r.Concurrency), peer("Bolt", r.Concurrency)
		xf, xb, pf := "–", "–", "–"
		if fl != nil {
			xf, pf = ratio(r.ReqPerSec, fl.ReqPerSec), ratio(r.P99us, fl.P99us)
		}
		if bo != nil {
			xb = ratio(r.ReqPerSec, bo.ReqPerSec)
		}
		sec.printf("| %s | `/lxc %s` | %d | %.0f | %s | %s | %s | %s | %s | %s | %d |\n", r.server, r.text, r.Concurrency,
			r.ReqPerSec, xf, xb, ms(r.P50us), ms(r.P90us), ms(r.P99us), pf, r.Requests)
	}

	// Targets, at concurrency 16.
	sec.printf("\nTargets at concurrency 16:\n\n")
	fl, bo := peer("floor", 16), peer("Bolt", 16)
	var lx []ackRow
	for _, r := range rows {
		if strings.HasPrefix(r.server, "lxcbot") && r.Concurrency == 16 {
			lx = append(lx, r)
		}
	}
	if len(lx) == 0 {
		sec.printf("- not assessed: lxcbot serve was not measured. Floor vs Bolt at concurrency 16: %s.\n", floorVsBolt(fl, bo))
		return
	}
	for _, r := range lx {
		if r.Requests == 0 {
			sec.printf("- `/lxc %s`: not assessed, every request failed (%s)\n", r.text, r.FirstError)
			continue
		}
		if fl != nil {
			sec.printf("- `/lxc %s` throughput ≥ 50 %% of the floor: %s (%.0f %%)\n", r.text, met(r.ReqPerSec >= 0.5*fl.ReqPerSec), 100*r.ReqPerSec/fl.ReqPerSec)
		}
		if bo != nil {
			sec.printf("- `/lxc %s` throughput ≥ 3 × Bolt: %s (%s)\n", r.text, met(r.ReqPerSec >= 3*bo.ReqPerSec), ratio(r.ReqPerSec, bo.ReqPerSec))
		}
		limit := 1000.0
		if r.text == "list" {
			limit = 2000
		}
		sec.printf("- `/lxc %s` p99 ≤ %.0f ms: %s (%s ms)\n", r.text, limit/1000, met(r.P99us <= limit), ms(r.P99us))
	}
}

func floorVsBolt(fl, bo *ackRow) string {
	if fl == nil || bo == nil {
		return "not both measured"
	}
	return fmt.Sprintf("the floor does %s the requests per second of Bolt", ratio(fl.ReqPerSec, bo.ReqPerSec))
}

func met(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**NOT MET**"
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
