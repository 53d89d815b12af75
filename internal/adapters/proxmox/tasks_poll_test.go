package proxmox

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/pvesim"
)

// pollTimes is when WaitTask polls (from its first poll) with the default
// interval, up to the first poll at or after end.
func pollTimes(end time.Duration) []time.Duration {
	at, wait := time.Duration(0), min(taskPollFirst, DefaultTaskPollInterval)
	out := []time.Duration{at}
	for at < end {
		at += wait
		out = append(out, at)
		wait = nextTaskPoll(wait, DefaultTaskPollInterval)
	}
	return out
}

// TestTaskPollsBackOffFromAQuickFirstLook: polls start 100 ms apart and
// double up to the interval, so a 300 ms task is seen stopped at its end
// and a 2 s task takes a handful of polls, the last less than one interval
// after it stopped.
func TestTaskPollsBackOffFromAQuickFirstLook(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	require.Equal(t, []time.Duration{0, 100 * ms, 300 * ms}, pollTimes(300*ms))
	two := pollTimes(2 * time.Second)
	require.Equal(t, []time.Duration{0, 100 * ms, 300 * ms, 700 * ms, 1500 * ms, 2500 * ms}, two)
	require.Less(t, two[len(two)-1]-2*time.Second, DefaultTaskPollInterval, "seen within one poll step of its end")
	// After the ramp (0, 0.1, 0.3, 0.7, 1.5 s), once per interval.
	require.Equal(t, 5+3599, len(pollTimes(time.Hour)), "a long task is asked once per interval")
}

// TestWaitTaskPollsABoundedNumberOfTimes: a 2 s task on the simulator is
// waited for with a few status requests, not one per 100 ms.
func TestWaitTaskPollsABoundedNumberOfTimes(t *testing.T) {
	t.Parallel()
	b := setup(t, pvesim.Options{Nodes: 1, TaskDuration: 2 * time.Second},
		func(c *Config) { c.TaskPollInterval = DefaultTaskPollInterval })
	ctx := t.Context()
	upid, err := b.client.CreateContainer(ctx, "pve1", CreateSpec{VMID: 171, OSTemplate: debianTemplate, Storage: "local-lvm", DiskGiB: 4})
	require.NoError(t, err)
	require.NoError(t, b.client.WaitTask(ctx, "pve1", upid))

	info, ok := b.sim.Task(upid)
	require.True(t, ok)
	require.Equal(t, "stopped", info.Status)
	polls := 0
	for _, r := range b.sim.Requests() {
		if r.Method == "GET" && strings.Contains(r.Path, upid) && strings.HasSuffix(r.Path, "/status") {
			polls++
		}
	}
	require.GreaterOrEqual(t, polls, 2, "the task was running at the first poll")
	require.LessOrEqual(t, polls, 10)
}
