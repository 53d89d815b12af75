package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lxcbot/lxcbot/internal/adapters/slack/slackfake"
	"github.com/lxcbot/lxcbot/internal/pvesim"
)

const (
	listNodes      = 10
	listPerNode    = 200
	listLatency    = 50 * time.Millisecond
	listFirstVMID  = 1000
	listSeedWorker = 8
)

func runList(ctx context.Context, o options, _ tools, rep *report) section {
	sec := section{title: "3. `/lxc list` fan-out"}
	if err := serveAvailable(o); err != nil {
		sec.note("not measured: lxcbot serve was not available: %v", err)
		return sec
	}
	runs := 10
	if o.quick {
		runs = 3
	}
	env, err := startServe(ctx, o, rep.machine, serveOptions{Nodes: listNodes})
	if err != nil {
		sec.note("lxcbot serve did not start: %v", err)
		return sec
	}
	defer env.stop()
	t0 := time.Now()
	if err := seedList(ctx, env); err != nil {
		sec.note("seeding %d × %d containers failed: %v", listNodes, listPerNode, err)
		return sec
	}
	logf("seeded %d containers in %s", listNodes*listPerNode, time.Since(t0).Round(time.Millisecond))

	sec.printf("%d nodes × %d containers, every one recorded in the bot's database (newest first, spread round-robin over the nodes, "+
		"so the first page needs every node) and present on the simulator. `/lxc list` is sent %d times, one at a time; "+
		"time to the complete response runs from sending the command to the last reply for it (the ack itself, or the last post to its "+
		"`response_url` or the channel). Peers: the same list with no added latency, and one simulated round trip (%s), the least any "+
		"fan-out that asks all nodes in parallel can take.\n\n", listNodes, listPerNode, runs, listLatency)
	sec.printf("| API latency | ack p50 ms | complete p50 ms | complete max ms | complete p50 × no latency | complete p50 × one round trip |\n|---|---:|---:|---:|---:|---:|\n")

	base, err := measureList(ctx, env, runs, "l0")
	if err != nil {
		sec.note("without latency: %v", err)
		return sec
	}
	env.Sim.Cluster.InjectFault(pvesim.Fault{Delay: listLatency})
	slow, err := measureList(ctx, env, runs, "l50")
	if err != nil {
		sec.note("with %s latency: %v", listLatency, err)
		return sec
	}
	for _, r := range []struct {
		lat string
		m   listResult
	}{{"none", base}, {listLatency.String(), slow}} {
		sec.printf("| %s | %.1f | %.1f | %.1f | %s | %s |\n", r.lat, msf(pct(r.m.ack, 0.5)), msf(pct(r.m.complete, 0.5)), msf(r.m.complete[len(r.m.complete)-1]),
			ratio(pct(r.m.complete, 0.5).Seconds(), pct(base.complete, 0.5).Seconds()), ratio(pct(r.m.complete, 0.5).Seconds(), listLatency.Seconds()))
	}
	if slow.replies == 0 {
		sec.note("no reply besides the ack was seen: the list was answered in the ack")
	}
	return sec
}

type listResult struct {
	ack, complete []time.Duration
	replies       int
}

func measureList(ctx context.Context, e *serveEnv, runs int, tag string) (listResult, error) {
	var r listResult
	for i := 0; i < runs && ctx.Err() == nil; i++ {
		id := fmt.Sprintf("%s-%d", tag, i)
		t0 := time.Now()
		status, body, err := command(ctx, e, "list", e.responseURL(id), id)
		ack := time.Since(t0)
		if err != nil {
			return r, err
		}
		if status != http.StatusOK {
			return r, fmt.Errorf("list answered %d: %.200s", status, body)
		}
		last, n := lastReply(ctx, e.Slack, t0, "/response/"+id)
		r.replies += n
		r.ack = append(r.ack, ack)
		r.complete = append(r.complete, max(ack, last.Sub(t0)))
	}
	slices.Sort(r.ack)
	slices.Sort(r.complete)
	if len(r.complete) == 0 {
		return r, ctx.Err()
	}
	return r, nil
}

// lastReply waits until no reply for the command has arrived for a second
// (at most 20 s) and returns when the last one arrived and how many came.
func lastReply(ctx context.Context, s *slackfake.Server, since time.Time, responsePath string) (time.Time, int) {
	var last time.Time
	n := 0
	quietSince := time.Now()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		count := 0
		var newest time.Time
		for _, c := range s.Calls() {
			if !c.At.After(since) {
				continue
			}
			if c.Path == responsePath || ((c.Method == "chat.postEphemeral" || c.Method == "chat.postMessage") && c.Param("channel") == benchChannel) {
				count++
				if c.At.After(newest) {
					newest = c.At
				}
			}
		}
		if count != n {
			n, last, quietSince = count, newest, time.Now()
		}
		if time.Since(quietSince) > time.Second {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return last, n
}

func msf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// seedList creates listPerNode containers on each node through the
// simulator's API and records them as ready in the bot's database.
func seedList(ctx context.Context, e *serveEnv) error {
	nodes := e.Sim.Cluster.NodeNames()
	n0 := e.Sim.Nodes()[0]
	auth := fmt.Sprintf("PVEAPIToken=%s=%s", n0.TokenID, n0.TokenSecret.Reveal())
	client := pvesim.PinnedHTTPClient(e.Sim.API.Fingerprint(), 30*time.Second)
	total := len(nodes) * listPerNode
	jobs := make(chan int)
	errs := make(chan error, listSeedWorker)
	var wg sync.WaitGroup
	for w := 0; w < listSeedWorker; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				node, vmid := nodes[i%len(nodes)], listFirstVMID+i
				form := url.Values{"vmid": {strconv.Itoa(vmid)}, "hostname": {fmt.Sprintf("seed-%d", i)},
					"ostemplate": {"local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"},
					"rootfs":     {"local-lvm:4"}, "net0": {"name=eth0,bridge=vmbr0,ip=dhcp"}, "start": {"1"}}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.Sim.APIURL()+"/nodes/"+node+"/lxc", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Authorization", auth)
				resp, err := client.Do(req)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("creating %d on %s: %s", vmid, node, resp.Status)
					}
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
feed:
	for i := 0; i < total; i++ {
		select {
		case jobs <- i:
		case err := <-errs:
			close(jobs)
			wg.Wait()
			return err
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}

	now := time.Now()
	rows := make([][]any, total)
	for i := range rows {
		created := now.Add(-time.Duration(total-i) * time.Second)
		rows[i] = []any{fmt.Sprintf("ct-seed-%05d", i), nodes[i%len(nodes)], listFirstVMID + i, fmt.Sprintf("seed-%d", i),
			createTemplate, "slack", benchUser, "slack", benchChannel, "ready", created, created}
	}
	_, err := e.db.CopyFrom(ctx, pgx.Identifier{"containers"},
		[]string{"id", "node_name", "vmid", "hostname", "template_name", "owner_platform", "owner_user_id",
			"origin_platform", "origin_channel_id", "state", "created_at", "ready_at"},
		pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("recording the seeded containers: %w", err)
	}
	return nil
}
