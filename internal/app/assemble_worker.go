package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/provision/tasks"
)

// RunWorker runs creation jobs, up to concurrency at once, until ctx ends.
// Then it stops taking jobs and lets running ones finish for the drain
// timeout; a job still running after that is handed back to the queue
// (its context cancelled) and resumes from its last checkpoint on another
// worker. RunWorker returns once no job of this worker runs any more.
//
// The server is built here rather than with tasks.NewServer because that
// worker's Shutdown cancels running jobs at once instead of draining them.
func (a *App) RunWorker(ctx context.Context, concurrency int) error {
	if concurrency <= 0 {
		concurrency = 4
	}
	log := a.log.With("component", "worker")
	cfg := asynq.Config{
		Concurrency:     concurrency,
		Queues:          map[string]int{tasks.QueueCreate: 1},
		ShutdownTimeout: a.drain,
		Logger:          tasks.NewLogger(log.With("component", "asynq")),
		LogLevel:        asynq.WarnLevel,
	}
	if a.fast {
		cfg.DelayedTaskCheckInterval = 100 * time.Millisecond
		cfg.TaskCheckInterval = 50 * time.Millisecond
		cfg.RetryDelayFunc = func(int, error, *asynq.Task) time.Duration { return 200 * time.Millisecond }
	}
	srv := asynq.NewServerFromRedisClient(a.rdb, cfg)
	h := &drainingHandler{next: tasks.NewHandler(a.engine, log)}
	mux := asynq.NewServeMux()
	mux.Handle(tasks.TypeCreate, h)
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("starting worker: %w", err)
	}
	log.InfoContext(ctx, "worker started", "concurrency", concurrency)
	<-ctx.Done()
	log.Info("worker draining", "timeout", a.drain)
	srv.Shutdown()
	// Jobs handed back had their context cancelled; wait (bounded) for
	// their goroutines to notice, so nothing of this worker outlives it.
	if !h.wait(a.drain) {
		log.Warn("worker stopped with jobs still unwinding")
	}
	log.Info("worker stopped")
	return nil
}

// drainingHandler counts running jobs, so RunWorker can wait for them.
type drainingHandler struct {
	next *tasks.Handler
	wg   sync.WaitGroup
}

func (h *drainingHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	h.wg.Add(1)
	defer h.wg.Done()
	return h.next.ProcessTask(ctx, t)
}

func (h *drainingHandler) wait(d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// reconcileConfig is the reconciler's tuning: the defaults, or short
// waits in Fast mode so tests see stuck jobs resumed within seconds.
func reconcileConfig(fast bool) provision.ReconcileConfig {
	if !fast {
		return provision.ReconcileConfig{}
	}
	return provision.ReconcileConfig{StuckAfter: 2 * time.Second, NodeTimeout: 5 * time.Second}
}

// jobInspector tells the reconciler whether a container's creation job is
// queued, scheduled for retry or running. Package tasks does not provide
// one, so it reads asynq's queues here.
type jobInspector struct {
	insp *asynq.Inspector
}

var _ provision.JobInspector = jobInspector{}

func (j jobInspector) JobActive(_ context.Context, containerID string) (bool, error) {
	lists := []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){
		j.insp.ListActiveTasks, j.insp.ListPendingTasks, j.insp.ListScheduledTasks, j.insp.ListRetryTasks,
	}
	for _, list := range lists {
		for page := 1; ; page++ {
			ts, err := list(tasks.QueueCreate, asynq.PageSize(500), asynq.Page(page))
			if errors.Is(err, asynq.ErrQueueNotFound) {
				return false, nil
			}
			if err != nil {
				return false, fmt.Errorf("inspecting creation jobs: %w", err)
			}
			for _, t := range ts {
				// An orphaned task is "active" only in name: its worker died
				// (SIGKILL, OOM, lost host) and stopped extending the lease.
				// asynq recovers it only a minute or two later; the
				// reconciler re-enqueues the job sooner, and the engine's
				// container lock and checkpoints make the late recovery a
				// harmless no-op.
				if t.IsOrphaned {
					continue
				}
				var p tasks.CreatePayload
				if t.Type == tasks.TypeCreate && json.Unmarshal(t.Payload, &p) == nil && p.ContainerID == containerID {
					return true, nil
				}
			}
			if len(ts) < 500 {
				break
			}
		}
	}
	return false, nil
}
