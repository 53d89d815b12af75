package tasks

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// TypeCreate is the task type of a container creation job.
const TypeCreate = "container:create"

// Queue names. Creation jobs run on QueueCreate.
const (
	QueueCreate = "create"
)

// Defaults for creation tasks.
const (
	// DefaultMaxRetry covers transient failures (a node briefly
	// unreachable, a worker restarting); real failures are never retried
	// by the queue.
	DefaultMaxRetry = 10
	// DefaultTimeout bounds one run of the whole pipeline.
	DefaultTimeout = 2 * time.Hour
	// DefaultRetention keeps a finished task's id taken, so a late duplicate
	// enqueue of the same attempt is refused.
	DefaultRetention = 24 * time.Hour
)

// CreatePayload is the payload of a TypeCreate task.
type CreatePayload struct {
	ContainerID string `json:"container_id"`
	Attempt     int    `json:"attempt"`
}

// TaskOptions tune creation tasks. Zero values take the defaults.
type TaskOptions struct {
	Queue     string
	MaxRetry  int
	Timeout   time.Duration
	Retention time.Duration
}

func (o TaskOptions) withDefaults() TaskOptions {
	if o.Queue == "" {
		o.Queue = QueueCreate
	}
	if o.MaxRetry <= 0 {
		o.MaxRetry = DefaultMaxRetry
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	return o
}

// TaskID is the asynq task id of one attempt: the container id for the
// first, "<id>:retry-N" for user retries (a finished task's id stays taken
// during retention).
func TaskID(containerID string, attempt int) string {
	if attempt == 0 {
		return containerID
	}
	return fmt.Sprintf("%s:retry-%d", containerID, attempt)
}

// NewCreateTask builds the task for one attempt of a creation job.
func NewCreateTask(containerID string, attempt int, opts TaskOptions) (*asynq.Task, error) {
	opts = opts.withDefaults()
	payload, err := json.Marshal(CreatePayload{ContainerID: containerID, Attempt: attempt})
	if err != nil {
		return nil, fmt.Errorf("encoding creation task of %s: %w", containerID, err)
	}
	return asynq.NewTask(TypeCreate, payload,
		asynq.TaskID(TaskID(containerID, attempt)),
		asynq.Queue(opts.Queue),
		asynq.MaxRetry(opts.MaxRetry),
		asynq.Timeout(opts.Timeout),
		asynq.Retention(opts.Retention),
	), nil
}
