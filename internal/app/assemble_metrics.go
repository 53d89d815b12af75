package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/lxcbot/lxcbot/internal/metrics"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/provision/tasks"
)

// QueueSampleInterval is how often RunReconciler samples the queue depth.
const QueueSampleInterval = 15 * time.Second

// SampleQueue sets the queue depth gauge from asynq's view of the creation
// queue, one value per task state. A queue nothing was ever enqueued on is
// empty.
func (a *App) SampleQueue(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var qi asynq.QueueInfo
	info, err := a.insp.GetQueueInfo(tasks.QueueCreate)
	switch {
	case errors.Is(err, asynq.ErrQueueNotFound):
	case err != nil:
		return fmt.Errorf("sampling queue depth: %w", err)
	default:
		qi = *info
	}
	for state, n := range map[string]int{
		"pending": qi.Pending, "active": qi.Active, "scheduled": qi.Scheduled, "retry": qi.Retry,
		"archived": qi.Archived, "completed": qi.Completed, "aggregating": qi.Aggregating,
	} {
		a.metrics.QueueDepth.WithLabelValues(tasks.QueueCreate, state).Set(float64(n))
	}
	return nil
}

// runQueueSampler samples the queue depth every interval until ctx ends.
func (a *App) runQueueSampler(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := a.SampleQueue(ctx); err != nil && ctx.Err() == nil {
			a.log.WarnContext(ctx, "sampling queue depth failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// initSeries exports the series whose label values are known up front at
// zero, so dashboards and rate() see them before the first event.
func initSeries(m *metrics.Metrics) {
	for _, kind := range []string{"stuck", "gone", "drift", "node_down", "node_up"} {
		m.ReconcilerFindings.WithLabelValues(kind)
	}
	for _, outcome := range []string{"ready", "failed", "cancelled"} {
		m.JobOutcomes.WithLabelValues(outcome)
	}
	for _, kind := range []string{"exec", "push", "status"} {
		m.SSHFailures.WithLabelValues(kind)
	}
	for _, a := range []provision.Action{provision.ActionStart, provision.ActionStop, provision.ActionShutdown,
		provision.ActionRestart, provision.ActionDelete} {
		m.LockContention.WithLabelValues(string(a))
	}
}
