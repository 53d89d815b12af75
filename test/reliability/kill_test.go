package reliability_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// gateLockKey is the advisory lock the gates wait on while the test holds it.
const gateLockKey = 4242

// gates hold a creation job at the end of one chosen phase: the phase's side
// effects are done but its checkpoint is not yet committed, the worst moment
// for a crash. A trigger on the containers table (installed in this test's
// own database) makes the UPDATE that records phase P for container C wait
// on an advisory lock this test holds. For the ready phase the gate is the
// move to the ready state.
type gates struct {
	t    *testing.T
	conn *pgx.Conn
}

func installGates(t *testing.T, dsn string) *gates {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	_, err = conn.Exec(ctx, fmt.Sprintf(`
		CREATE TABLE test_gates (container_id text PRIMARY KEY, phase text NOT NULL);
		CREATE FUNCTION test_gate() RETURNS trigger LANGUAGE plpgsql AS $$
		DECLARE ph text;
		BEGIN
			SELECT phase INTO ph FROM test_gates WHERE container_id = NEW.id;
			IF ph IS NOT NULL AND (
			     (ph <> 'ready' AND ph = ANY(NEW.completed_phases) AND NOT (ph = ANY(OLD.completed_phases)))
			  OR (ph = 'ready' AND NEW.state = 'ready' AND OLD.state <> 'ready')) THEN
				PERFORM pg_advisory_xact_lock_shared(%d);
			END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER test_gate BEFORE UPDATE ON containers FOR EACH ROW EXECUTE FUNCTION test_gate();
		SELECT pg_advisory_lock(%d);`, gateLockKey, gateLockKey))
	require.NoError(t, err)
	return &gates{t: t, conn: conn}
}

func (g *gates) hold(containerID string, phase provision.Phase) {
	_, err := g.conn.Exec(context.Background(), `INSERT INTO test_gates VALUES ($1, $2)`, containerID, string(phase))
	require.NoError(g.t, err)
}

// waiting lists the database backends held at a gate.
func (g *gates) waiting() []int {
	rows, err := g.conn.Query(context.Background(),
		`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = $1`, gateLockKey)
	require.NoError(g.t, err)
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	require.NoError(g.t, err)
	out := make([]int, len(pids))
	for i, p := range pids {
		out[i] = int(p)
	}
	return out
}

// release opens every gate. The held statements belonged to a killed worker:
// their backends are terminated first, as the dead process's connections
// would have been, so nothing it had not committed gets committed.
func (g *gates) release() {
	ctx := context.Background()
	for _, pid := range g.waiting() {
		_, err := g.conn.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid)
		require.NoError(g.t, err)
	}
	eventually(g.t, time.Minute, func() (bool, string) {
		n := len(g.waiting())
		return n == 0, fmt.Sprintf("%d statements still held", n)
	})
	_, err := g.conn.Exec(ctx, `DELETE FROM test_gates; SELECT pg_advisory_unlock(`+fmt.Sprint(gateLockKey)+`)`)
	require.NoError(g.t, err)
}

// TestWorkerKilledInEveryPhaseResumesWithoutRepeatingSideEffects starts one
// creation per pipeline phase in a worker process, holds each at the end of
// its phase (side effects done, checkpoint not committed), SIGKILLs the
// worker, and starts a new one. Every container must become ready, created
// and started exactly once on Proxmox, with its packages installed once and
// each script run once.
func TestWorkerKilledInEveryPhaseResumesWithoutRepeatingSideEffects(t *testing.T) {
	h := newHarness(t)
	g := installGates(t, h.dsn)
	ctx := context.Background()

	// Recorded and queued with no worker running, then gated.
	ids := map[provision.Phase]string{}
	for i, ph := range provision.Phases {
		node := h.sim.Cluster.NodeNames()[i%2]
		id := h.create("nginx-web", fmt.Sprintf("crash-%s", ph), node)
		g.hold(id, ph)
		ids[ph] = id
	}
	// The reconciler runs throughout: it must leave live jobs alone and
	// resume only the dead worker's.
	h.reconciler(500 * time.Millisecond)

	first := h.startChild(len(provision.Phases) + 2)
	eventually(t, 3*time.Minute, func() (bool, string) {
		n := len(g.waiting())
		return n == len(provision.Phases), fmt.Sprintf("%d of %d jobs at their gate", n, len(provision.Phases))
	})
	for i, ph := range provision.Phases {
		c, err := h.app.Store().GetContainer(ctx, ids[ph])
		require.NoError(t, err)
		require.Equal(t, provision.StateCreating, c.State, "%s held in %s", c.Hostname, ph)
		require.ElementsMatch(t, provision.Phases[:i], c.CompletedPhases, "%s held at the end of %s", c.Hostname, ph)
	}
	first.kill(t)
	g.release()

	h.startChild(4)
	for _, ph := range provision.Phases {
		c := h.waitState(ids[ph], provision.StateReady, provision.StateFailed)
		require.Equal(t, provision.StateReady, c.State, "%s: %s", c.Hostname, c.LastError)
	}

	// Exactly one container per request on Proxmox, each created and
	// started once, whatever phase its worker died in.
	k := h.sim.Cluster.Counters()
	require.Equal(t, len(provision.Phases), h.simContainers())
	require.Equal(t, len(provision.Phases), sum(k.Created), "creates")
	require.Equal(t, len(provision.Phases), sum(k.Started), "starts")
	for _, ph := range provision.Phases {
		c, err := h.app.Store().GetContainer(ctx, ids[ph])
		require.NoError(t, err)
		gst := h.guest(c.VMID)
		require.Equal(t, 1, countTop(gst, "apt-get", "install"), "%s: packages installed once", c.Hostname)
		require.Equal(t, 1, countTop(gst, "bash", "10-enable-nginx.sh"), "%s: script run once", c.Hostname)
		require.Contains(t, gst.InstalledPackages("apt"), "nginx")
	}
	require.Len(t, h.containers(), len(provision.Phases), "no container recorded twice")
}
