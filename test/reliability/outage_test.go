package reliability_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/testenv"
	"github.com/lxcbot/lxcbot/internal/testkit/chattest"
)

// TestRedisLosingItsDataMidJobLosesNoContainer restarts Redis empty while a
// job is held at the end of its create phase (the container exists on
// Proxmox, the checkpoint is not recorded). The queued task, the lock and
// the progress stream are gone; the reconciler re-enqueues the job from
// Postgres, and it finishes without a second container.
func TestRedisLosingItsDataMidJobLosesNoContainer(t *testing.T) {
	h := newHarness(t)
	g := installGates(t, h.dsn)
	h.inProcessWorker()
	h.reconciler(500 * time.Millisecond)

	id := h.create("nginx-web", "redis-loss", "pve1")
	g.hold(id, provision.PhaseCreate)
	eventually(t, 2*time.Minute, func() (bool, string) { return len(g.waiting()) == 1, "job not yet at its gate" })

	h.redis.Restart(t) // stopped, then started again on the same port with no data
	g.release()

	c := h.waitState(id, provision.StateReady, provision.StateFailed)
	require.Equal(t, provision.StateReady, c.State, c.LastError)
	require.Equal(t, 1, h.simContainers(), "exactly one container on Proxmox")
	require.Equal(t, 1, sum(h.sim.Cluster.Counters().Created))
	require.Len(t, h.containers(), 1)
	requireResumedBy(t, h, id, "reconciler")
}

// requireResumedBy checks the timeline says who resumed the job.
func requireResumedBy(t *testing.T, h *harness, id, by string) {
	t.Helper()
	events, err := h.app.Store().ListEvents(context.Background(), id, []provision.EventType{provision.EventAction}, 0)
	require.NoError(t, err)
	for _, e := range events {
		if e.Data["action"] == "retry" && e.Data["by"] == by {
			return
		}
	}
	require.Failf(t, "job not resumed", "no retry by %s in %+v", by, events)
}

// TestPostgresOutageIsReportedAndRecoveredWithoutARestart stops Postgres
// for about ten seconds while a creation is in flight. Commands get a clear
// "temporarily unavailable" answer (not an internal error) while it is
// down; once it is back, the accepted creation finishes and commands work,
// with nothing restarted.
func TestPostgresOutageIsReportedAndRecoveredWithoutARestart(t *testing.T) {
	h := newHarness(t)
	h.inProcessWorker()
	h.reconciler(500 * time.Millisecond)
	web := h.create("nginx-web", "before", "pve1")
	h.waitState(web, provision.StateReady)

	// Accepted just before the outage: recorded, queued, not yet run far.
	g := installGates(t, h.dsn)
	id := h.create("nginx-web", "accepted", "pve2")
	g.hold(id, provision.PhaseReserve)
	eventually(t, 2*time.Minute, func() (bool, string) { return len(g.waiting()) == 1, "job not yet at its gate" })
	g.release()

	pg := testenv.SharedPostgres(t)
	down := time.Now()
	pg.Halt()
	restarted := false
	defer func() {
		if !restarted {
			pg.Restart(t)
		}
	}()
	for _, cmd := range []string{"list", "show before", "create nginx-web during --node pve1", "start before"} {
		resp := h.u.Command(t, cmd)
		text := chattest.AllText(resp)
		require.Equal(t, commands.OutcomeUserError, resp.Outcome, "%s: %s", cmd, text)
		require.Contains(t, text, "temporarily unavailable", cmd)
		require.NotContains(t, strings.ToLower(text), "internal error", cmd)
	}
	// Keep it down long enough for the worker to exhaust its quick retries.
	time.Sleep(time.Until(down.Add(10 * time.Second)))
	pg.Restart(t)
	restarted = true

	c := h.waitState(id, provision.StateReady, provision.StateFailed)
	require.Equal(t, provision.StateReady, c.State, c.LastError)
	eventually(t, time.Minute, func() (bool, string) {
		resp := h.u.Command(t, "list")
		return resp.Outcome == commands.OutcomeOK && strings.Contains(chattest.AllText(resp), "accepted"), chattest.AllText(resp)
	})
	chattest.RequireOK(t, h.u.Command(t, "show before"))
	require.Equal(t, 2, h.simContainers())
	require.Len(t, h.containers(), 2, "the plan made during the outage recorded nothing")
}
