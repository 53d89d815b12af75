package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	redisx "github.com/lxcbot/lxcbot/internal/adapters/redis"

	"github.com/lxcbot/lxcbot/internal/adapters/nodepool"
	"github.com/lxcbot/lxcbot/internal/adapters/proxmox"
	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/internal/metrics"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/provision/tasks"
	"github.com/lxcbot/lxcbot/internal/store"
)

// Options say what to build the bot from.
type Options struct {
	// Config is the loaded configuration: DATABASE_URL, REDIS_URL (unless
	// Redis is given), LXCBOT_ENCRYPTION_KEY, nodes, roles, admins,
	// notifications and the templates directory.
	Config  *config.Config
	Logger  *slog.Logger     // nil = discard
	Metrics *metrics.Metrics // nil = a fresh registry
	// Redis is used instead of dialling Config.RedisURL; the App does not
	// close it. An embedded miniredis works through either.
	Redis redis.UniversalClient
	// TemplatesFS, when set, is the templates directory to import instead
	// of Config.TemplatesDir (the demo passes the embedded examples).
	TemplatesFS fs.FS
	Clock       provision.Clock // nil = wall clock
	// Fast shortens polls, lock lifetimes, waits and drains for tests.
	Fast bool
	// DrainTimeout bounds how long RunWorker lets running jobs finish at
	// shutdown before handing them back to the queue (default 30s, 3s Fast).
	DrainTimeout time.Duration
	// Concurrency is how many creation jobs this process's worker runs at
	// once (serve and worker pass --concurrency; 0 = DefaultConcurrency).
	// It sizes the Redis connection pools New dials.
	Concurrency int
}

// DefaultConcurrency is the worker's default number of jobs at once.
const DefaultConcurrency = 8

// redisPoolSize is the connection pool a process running concurrency jobs
// needs from each of its Redis clients: on the main one, two per running
// job (its publishes and locks, asynq's lease and dequeue) and room for
// asynq's own loops and the requests being answered; on the progress
// readers', one per job card followed (the running jobs' and as many
// queued). go-redis's default, 10 per GOMAXPROCS, is 10 on a single core:
// a batch of 50 jobs stalled on "redis: connection pool timeout".
func redisPoolSize(concurrency int) int {
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	return 2*concurrency + 32
}

// App is the whole bot minus its chat adapters and HTTP server: store,
// queue, node clients, the provisioning facades and the command router,
// built by New in one place.
type App struct {
	log     *slog.Logger
	cfg     *config.Config
	metrics *metrics.Metrics
	fast    bool
	drain   time.Duration

	db        *store.DB
	rdb       redis.UniversalClient
	reads     redis.UniversalClient // progress subscribers' blocking reads; nil = rdb
	ownsRedis bool
	queue     *tasks.Queue
	insp      *asynq.Inspector
	locker    *redisx.Locker
	bus       *redisx.Bus
	deduper   *redisx.Deduper
	pool      *nodepool.Pool

	engine     *provision.Engine
	lifecycle  *provision.Lifecycle
	monitor    *provision.Monitor
	nodeAdmin  *provision.NodeAdmin
	catalog    *provision.CatalogAdmin
	admin      *provision.Admin
	reconciler *provision.Reconciler
	notifiers  *notifiers
	backend    *Backend
	router     *commands.Router
}

// New builds every dependency from opts and applies the configuration:
// nodes from the file are upserted, role bindings and bootstrap admins
// granted, and templates imported from the templates directory. The
// database must already be migrated. Close releases what New opened.
func New(ctx context.Context, opts Options) (_ *App, err error) {
	if opts.Config == nil {
		return nil, fmt.Errorf("building the bot: no configuration")
	}
	cfg := opts.Config
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	clock := opts.Clock
	if clock == nil {
		clock = provision.SystemClock{}
	}
	a := &App{log: log, cfg: cfg, metrics: opts.Metrics, fast: opts.Fast, drain: opts.DrainTimeout}
	if a.metrics == nil {
		a.metrics = metrics.New()
	}
	initSeries(a.metrics)
	if a.drain <= 0 {
		a.drain = 30 * time.Second
		if opts.Fast {
			a.drain = 3 * time.Second
		}
	}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()

	// Retired keys still open values sealed before a rotation.
	kr, err := cfg.Keyring()
	if err != nil {
		return nil, fmt.Errorf("building the bot: %w", err)
	}
	if err := cfg.Require(config.EnvDatabaseURL); err != nil {
		return nil, fmt.Errorf("building the bot: %w", err)
	}
	if a.db, err = store.Open(ctx, cfg.DatabaseURL.Reveal(), kr, log.With("component", "store")); err != nil {
		return nil, fmt.Errorf("building the bot: %w", err)
	}
	if a.rdb = opts.Redis; a.rdb == nil {
		if err := cfg.Require(config.EnvRedisURL); err != nil {
			return nil, fmt.Errorf("building the bot: %w", err)
		}
		// redisx.Connect keeps go-redis's dial retries low, so a dead Redis
		// is reported in well under a second instead of stalling each call.
		// The pool grows with the worker's concurrency unless REDIS_URL
		// sets pool_size.
		c, err := redisx.ConnectPool(ctx, cfg.RedisURL.Reveal(), redisPoolSize(opts.Concurrency))
		if err != nil {
			return nil, fmt.Errorf("building the bot: %w", err)
		}
		a.rdb, a.ownsRedis = c, true
		// Progress subscribers block in XREAD for most of their life: a
		// client of their own, so that however many job cards are followed
		// they never take the connections running jobs publish with.
		if a.reads, err = redisx.ConnectPool(ctx, cfg.RedisURL.Reveal(), redisPoolSize(opts.Concurrency)); err != nil {
			return nil, fmt.Errorf("building the bot: %w", err)
		}
	}

	taskOpts := tasks.TaskOptions{}
	if opts.Fast {
		taskOpts.Timeout = 5 * time.Minute
	}
	a.queue = tasks.NewQueue(a.rdb, taskOpts)
	a.insp = asynq.NewInspectorFromRedisClient(a.rdb)
	a.locker = redisx.NewLocker(a.rdb).WithMetrics(a.metrics)
	busOpts := redisx.BusOptions{}
	if a.reads != nil {
		busOpts.Reader = a.reads
	}
	if opts.Fast {
		busOpts.Block = 200 * time.Millisecond
	}
	a.bus = redisx.NewBus(a.rdb, busOpts, log.With("component", "bus"))
	a.deduper = redisx.NewDeduper(a.rdb)

	poolOpts := nodepool.Options{Metrics: a.metrics}
	if opts.Fast {
		poolOpts.HTTPTimeout, poolOpts.TaskPoll, poolOpts.SSHTimeout = 10*time.Second, 20*time.Millisecond, 5*time.Second
		poolOpts.RetryBackoff = 20 * time.Millisecond
	}
	a.pool = nodepool.New(a.db, log, poolOpts)

	engineCfg := provision.Config{}
	lifeCfg := provision.LifecycleConfig{}
	monCfg := provision.MonitorConfig{}
	nodeTimeout := time.Duration(0)
	if opts.Fast {
		engineCfg = provision.Config{LockTTL: 3 * time.Second, NetworkWait: 10 * time.Second, NetworkPoll: 50 * time.Millisecond,
			FilesystemWait: 10 * time.Second}
		lifeCfg.ShutdownTimeout = 5 * time.Second
		monCfg.NodeTimeout = 5 * time.Second
		nodeTimeout = 5 * time.Second
	}
	lister := provision.ContainerListerFunc(func(ctx context.Context, q provision.ContainerQuery) ([]provision.Container, error) {
		f := store.ContainerFilter{Node: q.Node, State: q.State, Limit: q.Limit, Offset: q.Offset}
		if q.Owner != nil {
			f.OwnerPlatform, f.OwnerUserID = q.Owner.Platform, q.Owner.UserID
		}
		return a.db.ListContainers(ctx, f)
	})
	a.notifiers = newNotifiers(a.db, cfg.Notifications, log.With("component", "notify"))

	a.engine = provision.New(provision.Deps{Store: a.db, Nodes: a.pool, Queue: a.queue, Locker: a.locker, Bus: a.bus,
		Clock: clock, Log: log.With("component", "engine"), Config: engineCfg, Metrics: a.metrics, Notifier: a.notifiers})
	a.lifecycle = provision.NewLifecycle(provision.LifecycleDeps{Store: a.db, Nodes: a.pool, Locker: a.locker,
		Notifier: a.notifiers, Clock: clock, Log: log.With("component", "lifecycle"), Config: lifeCfg})
	a.monitor = provision.NewMonitor(provision.MonitorDeps{Store: a.db, Containers: lister, Nodes: a.pool,
		Clock: clock, Log: log.With("component", "monitor"), Config: monCfg})
	a.nodeAdmin = provision.NewNodeAdmin(provision.NodeAdminDeps{Store: a.db, Containers: lister, Prober: a.pool,
		Nodes: a.pool, Pool: a.pool, Log: log.With("component", "nodes"), Timeout: nodeTimeout})
	src := templateSource{store: a.db, fsys: opts.TemplatesFS, log: log.With("component", "catalog")}
	a.catalog = provision.NewCatalogAdmin(provision.CatalogAdminDeps{Store: a.db, Dir: src.dir(), Log: log.With("component", "catalog")})
	a.admin = provision.NewAdmin(provision.AdminDeps{Store: a.db, Log: log.With("component", "admin"),
		Audit: provision.AuditListerFunc(func(ctx context.Context, q provision.AuditQuery) ([]provision.AuditEntry, error) {
			f := store.AuditFilter{Target: q.Target, Before: q.Before, Limit: q.Limit}
			if q.Actor != nil {
				f.ActorPlatform, f.ActorUserID = q.Actor.Platform, q.Actor.UserID
			}
			return a.db.ListAudit(ctx, f)
		})})
	a.reconciler = provision.NewReconciler(provision.ReconcilerDeps{Store: a.db, Nodes: a.pool, Queue: a.queue,
		Jobs: jobInspector{insp: a.insp}, Locker: a.locker, Notifier: a.notifiers, Clock: clock, Log: log,
		Config: reconcileConfig(opts.Fast)})

	// No Metrics for the backend: the locker counts every refused lock,
	// the backend's included.
	a.backend = NewBackend(BackendDeps{
		Engine: a.engine, Lifecycle: a.lifecycle, Monitor: a.monitor, Nodes: a.nodeAdmin, Catalog: a.catalog,
		Admin: a.admin, Store: a.db, Confirmations: redisConfirmations{rdb: a.rdb, ttl: ConfirmWindow},
		Choices:      &proxmox.Choices{Nodes: a.pool, Bridges: templateBridges(a.db)},
		TemplatesDir: cfg.TemplatesDir, BootstrapAdmins: cfg.Admins, Log: log.With("component", "backend"),
		Cards: a.deduper,
	})
	a.router = commands.New(commands.Deps{Backend: a.backend, Log: log.With("component", "commands"), Clock: clock})

	if err := a.applyConfig(ctx, opts.TemplatesFS != nil); err != nil {
		return nil, err
	}
	return a, nil
}

// templateBridges lists the bridges the templates name, for create forms.
func templateBridges(db *store.DB) func(ctx context.Context) ([]string, error) {
	return func(ctx context.Context) ([]string, error) {
		ts, err := db.ListTemplates(ctx, "")
		if err != nil {
			return nil, err
		}
		out := make([]string, 0, len(ts))
		for _, t := range ts {
			out = append(out, t.Bridge)
		}
		return out, nil
	}
}

// Router is the command router the chat adapters hand requests to.
func (a *App) Router() *commands.Router { return a.router }

// Backend is the commands.Backend the router calls.
func (a *App) Backend() *Backend { return a.backend }

// Store is the system of record.
func (a *App) Store() *store.DB { return a.db }

// Engine is the provisioning engine (creation jobs).
func (a *App) Engine() *provision.Engine { return a.engine }

// Reconciler compares the records with Proxmox.
func (a *App) Reconciler() *provision.Reconciler { return a.reconciler }

// Deduper drops repeated deliveries of inbound chat events.
func (a *App) Deduper() *redisx.Deduper { return a.deduper }

// Metrics is the registry the HTTP routes serve.
func (a *App) Metrics() *metrics.Metrics { return a.metrics }

// SetNotifier registers how team notifications reach one chat platform
// (nil removes it). Adapters register once they are connected.
func (a *App) SetNotifier(platform provision.Platform, post ChannelPoster) {
	a.notifiers.set(platform, post)
}

// Notifier is the team notifier lifecycle actions and the reconciler use.
func (a *App) Notifier() provision.Notifier { return a.notifiers }

// ReadinessChecks are the checks /readyz runs: Postgres answers and Redis
// answers.
func (a *App) ReadinessChecks() []Check {
	return []Check{
		{Name: "postgres", Fn: a.db.Ping},
		{Name: "redis", Fn: func(ctx context.Context) error {
			if err := a.rdb.Ping(ctx).Err(); err != nil {
				return fmt.Errorf("pinging redis: %w", err)
			}
			return nil
		}},
	}
}

// RunReconciler reconciles every interval until ctx ends, counting what
// each pass finds. Alongside, it samples the queue depth every
// QueueSampleInterval: the process that runs it also serves /metrics.
func (a *App) RunReconciler(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = time.Minute
	}
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		a.runQueueSampler(ctx, QueueSampleInterval)
	}()
	defer func() { <-sampled }()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		f, err := a.reconciler.RunOnce(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			a.log.ErrorContext(ctx, "reconciler pass failed", "err", err)
		case len(f.Errors) > 0:
			a.log.WarnContext(ctx, "reconciler pass incomplete", "errors", f.Errors)
		}
		for kind, n := range map[string]int{"stuck": len(f.Resumed) + len(f.Failed), "gone": len(f.Gone),
			"drift": len(f.Drifted), "node_down": len(f.NodesDown), "node_up": len(f.NodesUp)} {
			if n > 0 {
				a.metrics.ReconcilerFindings.WithLabelValues(kind).Add(float64(n))
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Close writes the audit entries still queued, then releases the store, the
// queue clients, cached node clients and the Redis client if New dialled it.
func (a *App) Close() {
	var errs []error
	if a.backend != nil {
		// Queued audit entries go to the store before it closes.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, a.backend.Close(ctx))
		cancel()
	}
	if a.pool != nil {
		a.pool.Close()
	}
	if a.queue != nil {
		errs = append(errs, a.queue.Close())
	}
	// a.insp shares a.rdb: asynq's Close would only refuse ("redis
	// connection is shared"), and there is nothing else to release.
	if a.ownsRedis && a.rdb != nil {
		errs = append(errs, a.rdb.Close())
	}
	if a.reads != nil {
		errs = append(errs, a.reads.Close())
	}
	if a.db != nil {
		a.db.Close()
	}
	if err := errors.Join(errs...); err != nil {
		a.log.Warn("closing the bot", "err", err)
	}
}
