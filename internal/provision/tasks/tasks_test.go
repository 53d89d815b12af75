package tasks_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	redisx "github.com/lxcbot/lxcbot/internal/adapters/redis"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/provision/tasks"
	"github.com/lxcbot/lxcbot/internal/testenv"
)

// fakeRunner behaves like the pipeline as far as the queue can tell.
type fakeRunner struct {
	mu    sync.Mutex
	calls map[string][]provision.Job
	do    func(ctx context.Context, job provision.Job, n int) error
}

func (f *fakeRunner) RunCreate(ctx context.Context, job provision.Job) error {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string][]provision.Job{}
	}
	f.calls[job.ContainerID] = append(f.calls[job.ContainerID], job)
	n := len(f.calls[job.ContainerID])
	f.mu.Unlock()
	return f.do(ctx, job, n)
}

func (f *fakeRunner) jobs(id string) []provision.Job {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]provision.Job(nil), f.calls[id]...)
}

func fastRetry(int, error, *asynq.Task) time.Duration { return 10 * time.Millisecond }

func setup(t *testing.T, r *fakeRunner) (*tasks.Queue, redis.UniversalClient) {
	t.Helper()
	rdb, err := redisx.Connect(context.Background(), "redis://"+testenv.RedisAddr(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = rdb.Close() })
	q := tasks.NewQueue(rdb, tasks.TaskOptions{MaxRetry: 3, Timeout: time.Minute})
	t.Cleanup(func() { _ = q.Close() })
	w := tasks.NewServer(rdb, 4, tasks.ServerOptions{
		DelayedTaskCheckInterval: 100 * time.Millisecond, TaskCheckInterval: 50 * time.Millisecond,
		RetryDelayFunc: fastRetry, ShutdownTimeout: time.Second,
	})
	require.NoError(t, w.Start(tasks.NewHandler(r, nil)))
	t.Cleanup(w.Shutdown)
	return q, rdb
}

func TestTaskIDs(t *testing.T) {
	t.Parallel()
	require.Equal(t, "ct-1", tasks.TaskID("ct-1", 0))
	require.Equal(t, "ct-1:retry-2", tasks.TaskID("ct-1", 2))
	task, err := tasks.NewCreateTask("ct-1", 0, tasks.TaskOptions{})
	require.NoError(t, err)
	require.Equal(t, tasks.TypeCreate, task.Type())
	require.JSONEq(t, `{"container_id":"ct-1","attempt":0}`, string(task.Payload()))
}

func TestSameAttemptEnqueuedTwiceRunsOnce(t *testing.T) {
	t.Parallel()
	done := make(chan struct{}, 4)
	r := &fakeRunner{do: func(context.Context, provision.Job, int) error { done <- struct{}{}; return nil }}
	q, _ := setup(t, r)
	ctx := context.Background()
	require.NoError(t, q.EnqueueCreate(ctx, "ct-a", 0))
	<-done
	require.NoError(t, q.EnqueueCreate(ctx, "ct-a", 0)) // after completion: id kept during retention
	require.NoError(t, q.EnqueueCreate(ctx, "ct-a", 1)) // a user retry is a new task
	<-done
	require.Eventually(t, func() bool { return len(r.jobs("ct-a")) == 2 }, 10*time.Second, 10*time.Millisecond)
	jobs := r.jobs("ct-a")
	require.Equal(t, 0, jobs[0].Attempt)
	require.Equal(t, 1, jobs[1].Attempt)
}

func TestFailedJobsAreNotRetriedTransientOnesAre(t *testing.T) {
	t.Parallel()
	r := &fakeRunner{do: func(_ context.Context, job provision.Job, n int) error {
		switch job.ContainerID {
		case "ct-failed":
			return provision.ErrJobFailed
		case "ct-flaky":
			if n < 3 {
				return provision.ErrUnavailable
			}
		}
		return nil
	}}
	q, _ := setup(t, r)
	ctx := context.Background()
	require.NoError(t, q.EnqueueCreate(ctx, "ct-failed", 0))
	require.NoError(t, q.EnqueueCreate(ctx, "ct-flaky", 0))
	require.Eventually(t, func() bool { return len(r.jobs("ct-flaky")) == 3 }, 20*time.Second, 10*time.Millisecond)
	jobs := r.jobs("ct-flaky")
	require.False(t, jobs[0].FinalTry)
	require.Len(t, r.jobs("ct-failed"), 1)
}

func TestCancelInterruptsARunningJob(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	stopped := make(chan error, 1)
	var q *tasks.Queue
	r := &fakeRunner{do: func(ctx context.Context, job provision.Job, n int) error {
		if n > 1 {
			return nil
		}
		close(started)
		<-ctx.Done()
		ok, err := q.CancelRequested(context.Background(), job.ContainerID)
		if err == nil && ok {
			stopped <- provision.ErrJobCancelled
			return provision.ErrJobCancelled
		}
		stopped <- errors.New("not flagged")
		return ctx.Err()
	}}
	q, _ = setup(t, r)
	ctx := context.Background()
	require.NoError(t, q.EnqueueCreate(ctx, "ct-c", 0))
	<-started
	// Cancel signals may race with the worker registering the task: repeat.
	require.Eventually(t, func() bool {
		require.NoError(t, q.CancelJob(ctx, "ct-c"))
		select {
		case err := <-stopped:
			require.ErrorIs(t, err, provision.ErrJobCancelled)
			return true
		default:
			return false
		}
	}, 20*time.Second, 100*time.Millisecond)
	require.NoError(t, q.ClearCancel(ctx, "ct-c"))
	ok, err := q.CancelRequested(ctx, "ct-c")
	require.NoError(t, err)
	require.False(t, ok)
}
