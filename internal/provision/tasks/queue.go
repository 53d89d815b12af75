package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// Queue enqueues and cancels creation jobs. Cancel requests are flags in
// Redis that the pipeline checks between steps, plus a signal that cancels
// the running handler's context.
type Queue struct {
	client *asynq.Client
	insp   *asynq.Inspector
	rdb    redis.UniversalClient
	opts   TaskOptions
}

var _ provision.Enqueuer = (*Queue)(nil)

// NewQueue returns a Queue on rdb (which it does not close).
func NewQueue(rdb redis.UniversalClient, opts TaskOptions) *Queue {
	return &Queue{
		client: asynq.NewClientFromRedisClient(rdb),
		insp:   asynq.NewInspectorFromRedisClient(rdb),
		rdb:    rdb,
		opts:   opts.withDefaults(),
	}
}

// Close releases the queue. Its asynq client and inspector are built on the
// caller's Redis connection, which they hold nothing besides: asynq's own
// Close on them would only refuse ("redis connection is shared"), so the
// connection is left for its owner to close.
func (q *Queue) Close() error { return nil }

func cancelKey(containerID string) string { return "lxcbot:cancel:" + containerID }

// EnqueueCreate enqueues one attempt of a creation job. The same attempt
// enqueued twice runs once.
func (q *Queue) EnqueueCreate(ctx context.Context, containerID string, attempt int) error {
	task, err := NewCreateTask(containerID, attempt, q.opts)
	if err != nil {
		return err
	}
	_, err = q.client.EnqueueContext(ctx, task)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("enqueueing creation of %s (attempt %d): %w: %w", containerID, attempt, provision.ErrUnavailable, err)
	}
	return nil
}

// CancelJob flags the job cancelled and interrupts it if a worker runs it.
func (q *Queue) CancelJob(ctx context.Context, containerID string) error {
	if err := q.rdb.Set(ctx, cancelKey(containerID), "1", 7*24*time.Hour).Err(); err != nil {
		return fmt.Errorf("cancelling creation of %s: %w", containerID, err)
	}
	active, err := q.insp.ListActiveTasks(q.opts.Queue, asynq.PageSize(1000))
	if err != nil {
		return fmt.Errorf("cancelling creation of %s: listing running jobs: %w", containerID, err)
	}
	for _, t := range active {
		var p CreatePayload
		if t.Type != TypeCreate || json.Unmarshal(t.Payload, &p) != nil || p.ContainerID != containerID {
			continue
		}
		if err := q.insp.CancelProcessing(t.ID); err != nil {
			return fmt.Errorf("cancelling creation of %s: signalling the worker: %w", containerID, err)
		}
	}
	return nil
}

// CancelRequested reports whether the job was cancelled.
func (q *Queue) CancelRequested(ctx context.Context, containerID string) (bool, error) {
	n, err := q.rdb.Exists(ctx, cancelKey(containerID)).Result()
	if err != nil {
		return false, fmt.Errorf("checking cancel request of %s: %w", containerID, err)
	}
	return n > 0, nil
}

// ClearCancel forgets a cancel request.
func (q *Queue) ClearCancel(ctx context.Context, containerID string) error {
	if err := q.rdb.Del(ctx, cancelKey(containerID)).Err(); err != nil {
		return fmt.Errorf("clearing cancel request of %s: %w", containerID, err)
	}
	return nil
}
