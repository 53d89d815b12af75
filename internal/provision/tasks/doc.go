// Package tasks runs the provisioning engine's creation jobs on asynq: the
// task type and payload, a one-method handler that calls the pipeline, the
// Enqueuer the engine uses (idempotent enqueue, cancellation) and a worker
// server helper.
package tasks
