package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// Runner runs creation jobs; *provision.Engine is one.
type Runner interface {
	RunCreate(ctx context.Context, job provision.Job) error
}

var _ Runner = (*provision.Engine)(nil)

// Handler processes TypeCreate tasks.
type Handler struct {
	runner Runner
	log    *slog.Logger
}

// NewHandler returns a Handler calling runner.
func NewHandler(runner Runner, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{runner: runner, log: log}
}

// ProcessTask runs one creation job. Failures a retry cannot fix (the job
// failed and was recorded, it was cancelled, the payload is broken) skip
// the queue's retries.
func (h *Handler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p CreatePayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.ContainerID == "" {
		return fmt.Errorf("decoding creation task: %v: %w", err, asynq.SkipRetry)
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	err := h.runner.RunCreate(ctx, provision.Job{ContainerID: p.ContainerID, Attempt: p.Attempt, FinalTry: retried >= maxRetry})
	if err == nil {
		return nil
	}
	if errors.Is(err, provision.ErrJobFailed) || errors.Is(err, provision.ErrJobCancelled) {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	h.log.WarnContext(ctx, "creation job will be retried", "container", p.ContainerID, "retried", retried, "err", err)
	return err
}
