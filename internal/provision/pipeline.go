package provision

import (
	"context"
	"errors"
	"fmt"
)

// Errors a creation job ends with that a queue retry cannot fix.
var (
	// ErrJobFailed: the job failed and the container is recorded as failed;
	// the user retries it explicitly.
	ErrJobFailed = errors.New("creation failed")
	// ErrJobCancelled: the job was cancelled.
	ErrJobCancelled = errors.New("creation cancelled")
)

// Job identifies one run of a creation job.
type Job struct {
	ContainerID string
	Attempt     int
	// FinalTry says the queue will not run this job again if it fails, so a
	// transient failure must be recorded as failed.
	FinalTry bool
}

// RunCreate runs (or resumes) the creation pipeline for one container.
// Errors wrapping ErrJobFailed or ErrJobCancelled are final; others may be
// retried by the queue.
func (s *Engine) RunCreate(ctx context.Context, job Job) error {
	return fmt.Errorf("running creation of %s: %w", job.ContainerID, ErrUnavailable)
}
