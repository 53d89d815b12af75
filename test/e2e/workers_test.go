package e2e_test

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/pvesim/simenv"
)

// runningOn returns the pid of the worker process running the creation job
// of containerID, as the workers report it through Redis.
func (s *stack) runningOn(t *testing.T, containerID string) int {
	t.Helper()
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: s.redis.Addr})
	defer insp.Close()
	pid := 0
	waitFor(t, "a worker to report running "+containerID, func() bool {
		servers, err := insp.Servers()
		if err != nil {
			return false
		}
		for _, srv := range servers {
			for _, w := range srv.ActiveWorkers {
				if strings.Contains(string(w.TaskPayload), containerID) {
					pid = srv.PID
					return true
				}
			}
		}
		return false
	})
	return pid
}

// TestWorkersHandJobsOver stops the worker running a slow creation with
// SIGTERM: it hands the job back after its drain, the other worker finishes
// it, and the simulator saw one create and one start per container.
func TestWorkersHandJobsOver(t *testing.T) {
	t.Parallel()
	s := newStack(t, simenv.Options{Nodes: 2, TaskDuration: 3 * time.Second, SleepScale: 8})
	srv := s.start(t, "serve", "serve", "--no-worker")
	workers := []*bot{
		s.start(t, "worker A", "worker", "--concurrency", "2", "--shutdown-timeout", "1s"),
		s.start(t, "worker B", "worker", "--concurrency", "2", "--shutdown-timeout", "1s"),
	}
	cards := map[string]string{}
	for _, host := range []string{"web1", "web2"} {
		cards[host] = s.createViaSlack(t, srv.URL, "nginx-web", host)
	}
	web1 := s.containers(t, "web1")
	require.Len(t, web1, 1)

	pid := s.runningOn(t, web1[0].ID)
	var victim, survivor *bot
	for i, w := range workers {
		if w.pid() == pid {
			victim, survivor = w, workers[1-i]
		}
	}
	require.NotNil(t, victim, "no worker process has pid %d", pid)
	// Mid-phase: the job is past reserving and not done.
	require.NotEqual(t, "ready", s.containers(t, "web1")[0].State)
	require.NoError(t, victim.cmd.Process.Signal(syscall.SIGTERM))
	require.Equal(t, 0, victim.waitExit(t), "a drained worker exits 0")
	require.True(t, victim.hasLog(func(l logLine) bool {
		return l.Msg == "creation interrupted; it will resume" && l.Attrs["container"] == web1[0].ID
	}), "the stopped worker handed web1 back")

	for host, card := range cards {
		s.waitState(t, host, "ready")
		s.waitCard(t, card, host+" is ready")
	}
	require.True(t, survivor.hasLog(func(l logLine) bool {
		return l.Msg == "container ready" && l.Attrs["container"] == web1[0].ID
	}), "web1 finished on the other worker")
	k := s.sim.Cluster.Counters()
	require.Equal(t, 2, k.Created["pve1"], "one create per container")
	require.Equal(t, 2, k.Started["pve1"], "one start per container")
	require.Zero(t, k.Created["pve2"])
}
