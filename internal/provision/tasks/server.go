package tasks

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// ServerOptions tune a worker. Zero values take asynq's defaults; tests set
// short intervals and a fast RetryDelayFunc.
type ServerOptions struct {
	Queue                    string
	ShutdownTimeout          time.Duration
	DelayedTaskCheckInterval time.Duration
	TaskCheckInterval        time.Duration
	RetryDelayFunc           asynq.RetryDelayFunc
	Log                      *slog.Logger
}

// Worker is an asynq server running creation jobs.
type Worker struct {
	srv    *asynq.Server
	cancel context.CancelFunc
	log    *slog.Logger
}

// NewServer returns a worker on rdb (which it does not close) running up to
// concurrency jobs at once.
func NewServer(rdb redis.UniversalClient, concurrency int, opts ServerOptions) *Worker {
	if opts.Queue == "" {
		opts.Queue = QueueCreate
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	// Handlers get a context that Shutdown cancels, so no job keeps running
	// after the worker stopped; the interrupted job is retried and resumes
	// from its last checkpoint.
	base, cancel := context.WithCancel(context.Background())
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency:              concurrency,
		Queues:                   map[string]int{opts.Queue: 1},
		BaseContext:              func() context.Context { return base },
		ShutdownTimeout:          opts.ShutdownTimeout,
		DelayedTaskCheckInterval: opts.DelayedTaskCheckInterval,
		TaskCheckInterval:        opts.TaskCheckInterval,
		RetryDelayFunc:           opts.RetryDelayFunc,
		Logger:                   NewLogger(opts.Log.With("component", "asynq")),
		LogLevel:                 asynq.WarnLevel,
	})
	return &Worker{srv: srv, cancel: cancel, log: opts.Log}
}

// Start runs jobs with h until Shutdown.
func (w *Worker) Start(h *Handler) error {
	mux := asynq.NewServeMux()
	mux.Handle(TypeCreate, h)
	if err := w.srv.Start(mux); err != nil {
		return fmt.Errorf("starting worker: %w", err)
	}
	return nil
}

// Shutdown interrupts running jobs (they resume elsewhere) and stops.
func (w *Worker) Shutdown() {
	w.cancel()
	w.srv.Shutdown()
}

// Logger adapts slog to asynq's logger.
type Logger struct{ log *slog.Logger }

// NewLogger returns an asynq logger writing to log.
func NewLogger(log *slog.Logger) *Logger { return &Logger{log: log} }

// Debug logs at debug level.
func (l *Logger) Debug(args ...any) { l.log.Debug(fmt.Sprint(args...)) }

// Info logs at info level.
func (l *Logger) Info(args ...any) { l.log.Info(fmt.Sprint(args...)) }

// Warn logs at warn level.
func (l *Logger) Warn(args ...any) { l.log.Warn(fmt.Sprint(args...)) }

// Error logs at error level.
func (l *Logger) Error(args ...any) { l.log.Error(fmt.Sprint(args...)) }

// Fatal logs at error level and exits, as asynq expects.
func (l *Logger) Fatal(args ...any) {
	l.log.Error(fmt.Sprint(args...))
	os.Exit(1)
}
