package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/lxcbot/lxcbot/internal/app"
	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/migrations"
)

// serveOptions are the flags of serve and worker.
type serveOptions struct {
	noWorker        bool
	noMigrate       bool
	concurrency     int
	shutdownTimeout time.Duration
	reconcileEvery  time.Duration
}

func serveCommand() Command {
	var o serveOptions
	return Command{
		Name:    "serve",
		Summary: "Run the configured chat adapters, the HTTP server, a worker and the reconciler.",
		Usage:   "[--no-worker] [--no-migrate] [--concurrency N] [--shutdown-timeout DUR]",
		Needs:   []string{config.EnvDatabaseURL, config.EnvRedisURL, config.EnvEncryptionKey},
		Flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&o.noWorker, "no-worker", false, "do not run creation jobs in this process")
			fs.BoolVar(&o.noMigrate, "no-migrate", false, "do not apply database migrations at start-up")
			fs.IntVar(&o.concurrency, "concurrency", app.DefaultConcurrency, "creation jobs run at once by the worker")
			fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long in-flight work may finish at shutdown")
			fs.DurationVar(&o.reconcileEvery, "reconcile-interval", time.Minute, "how often the reconciler compares Postgres with Proxmox")
		},
		Run: func(ctx context.Context, env *Env, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unexpected argument %q", args[0])
			}
			return runServe(ctx, env, o)
		},
	}
}

func workerCommand() Command {
	var o serveOptions
	return Command{
		Name:    "worker",
		Summary: "Run creation job workers only.",
		Usage:   "[--concurrency N] [--shutdown-timeout DUR]",
		Needs:   []string{config.EnvDatabaseURL, config.EnvRedisURL, config.EnvEncryptionKey},
		Flags: func(fs *flag.FlagSet) {
			fs.IntVar(&o.concurrency, "concurrency", app.DefaultConcurrency, "creation jobs run at once")
			fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long running jobs may finish at shutdown before they are handed back")
		},
		Run: func(ctx context.Context, env *Env, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unexpected argument %q", args[0])
			}
			a, err := app.New(ctx, app.Options{Config: env.Config, Logger: env.Logger, DrainTimeout: o.shutdownTimeout, Concurrency: o.concurrency})
			if err != nil {
				return err
			}
			defer a.Close()
			// RunWorker logs its own start and stop.
			return a.RunWorker(ctx, o.concurrency)
		},
	}
}

func runServe(ctx context.Context, env *Env, o serveOptions) error {
	log := env.Logger
	if !o.noMigrate {
		if err := migrations.Up(ctx, env.Config.DatabaseURL.Reveal()); err != nil {
			return err
		}
	}
	opts := app.Options{Config: env.Config, Logger: log, DrainTimeout: o.shutdownTimeout}
	if !o.noWorker {
		opts.Concurrency = o.concurrency
	}
	a, err := app.New(ctx, opts)
	if err != nil {
		return err
	}
	defer a.Close()

	redisCheck, err := app.RedisCheck(env.Config.RedisURL.Reveal(), time.Second)
	if err != nil {
		return err
	}
	routes := app.NewRoutes(app.ReplaceCheck(a.ReadinessChecks(), redisCheck), a.Metrics().Handler())
	chat, err := app.MountChat(ctx, a, routes, env.Config, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", env.Config.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listening on %s (LXCBOT_HTTP_ADDR): %w", env.Config.HTTPAddr, err)
	}
	srv := &http.Server{Handler: routes, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}
	log.Info("serving", "addr", ln.Addr().String(), "slack", env.Config.SlackEnabled(), "discord", env.Config.DiscordEnabled(), "worker", !o.noWorker)

	// Background work runs on a context that outlives ctx by the drain, so
	// shutdown can finish acknowledgements and hand jobs back in order.
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	goRun := func(name string, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(bg); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	// The worker and the reconciler stop first, when shutdown starts, so the
	// worker's drain runs alongside the HTTP server's rather than after it:
	// the whole shutdown then fits in one shutdown timeout.
	jobs, stopJobs := context.WithCancel(bg)
	defer stopJobs()
	goRun("http server", func(context.Context) error { return srv.Serve(ln) })
	goRun("chat adapters", chat.Run)
	if !o.noWorker {
		goRun("worker", func(context.Context) error { return a.RunWorker(jobs, o.concurrency) })
	}
	goRun("reconciler", func(context.Context) error { return a.RunReconciler(jobs, o.reconcileEvery) })

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down", "timeout", o.shutdownTimeout.String())
	case runErr = <-errs:
		log.Error("stopping after a failure", "err", runErr)
	}
	// Stop accepting deliveries and let in-flight acknowledgements finish
	// while the worker drains (handing back jobs that do not finish), then
	// let the chat adapters finish the work those acknowledgements started.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.shutdownTimeout)
	defer cancel()
	stopJobs()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("http server did not drain in time", "err", err)
	}
	chat.Drain(sctx)
	stopBG()
	wg.Wait()
	log.Info("stopped")
	return runErr
}
