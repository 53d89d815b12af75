package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/pvesim/simenv"
	"github.com/lxcbot/lxcbot/internal/secret"
	"github.com/lxcbot/lxcbot/internal/testenv"
	"github.com/lxcbot/lxcbot/migrations"
)

// Options tune the demo environment.
type Options struct {
	// Fast makes Proxmox tasks and sleeps inside containers instant (for
	// scripted sessions and tests); otherwise they take realistic time.
	Fast   bool
	Logger *slog.Logger
	// Principal is the person at the terminal; they are made an admin.
	Principal provision.Principal
}

// Env is a running demo environment.
type Env struct {
	Config *config.Config
	Sim    *simenv.Env

	pg     *testenv.Postgres
	redis  *miniredis.Miniredis
	closed bool
}

// ErrNoPostgres explains how to get the Postgres binaries the demo needs.
var ErrNoPostgres = errors.New("the demo needs the PostgreSQL server binaries (initdb, postgres): run scripts/install-deps.sh as root, or apt-get install postgresql, or set DATABASE_URL to a database of your own")

// Start prepares everything the bot needs, starting from cfg (which may set
// DATABASE_URL or REDIS_URL to use existing servers, and chat tokens).
func Start(ctx context.Context, cfg *config.Config, opts Options) (env *Env, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := cfg.Clone()
	e := &Env{Config: c}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()

	if c.DatabaseURL.IsZero() {
		if _, err := testenv.PostgresBinDir(); err != nil {
			return nil, ErrNoPostgres
		}
		pg, err := testenv.StartPostgres()
		if err != nil {
			return nil, fmt.Errorf("starting a throwaway Postgres: %w", err)
		}
		e.pg = pg
		if err := createDatabase(ctx, pg, "lxcbot"); err != nil {
			return nil, err
		}
		c.DatabaseURL = secret.String(pg.DSN("lxcbot"))
		c.Provided(config.EnvDatabaseURL, "demo")
	}
	if err := migrations.Up(ctx, c.DatabaseURL.Reveal()); err != nil {
		return nil, err
	}

	if c.RedisURL.IsZero() {
		mr, err := miniredis.Run()
		if err != nil {
			return nil, fmt.Errorf("starting the embedded Redis: %w", err)
		}
		e.redis = mr
		c.RedisURL = secret.String("redis://" + mr.Addr() + "/0")
		c.Provided(config.EnvRedisURL, "demo")
	}

	if c.EncryptionKey.IsZero() {
		k, err := secret.GenerateKey()
		if err != nil {
			return nil, fmt.Errorf("generating an encryption key: %w", err)
		}
		c.EncryptionKey = k.Hex()
		c.Provided(config.EnvEncryptionKey, "demo")
	}

	simOpts := simenv.Options{Nodes: 2, Logger: opts.Logger}
	if !opts.Fast {
		simOpts.TaskDuration = 800 * time.Millisecond
		simOpts.SleepScale = 0.25
		simOpts.Latency = 5 * time.Millisecond
	}
	sim, err := simenv.Start(ctx, simOpts)
	if err != nil {
		return nil, fmt.Errorf("starting the Proxmox VE simulator: %w", err)
	}
	e.Sim = sim
	c.Nodes = nil
	for _, nc := range sim.NodeConfigs() {
		n := config.Node{Name: nc.Name, APIURL: nc.APIURL, TokenID: nc.TokenID,
			TokenSecret: secret.String(nc.TokenSecret), TLSFingerprint: nc.TLSFingerprint, Default: nc.Default}
		if nc.SSH != nil {
			n.SSH = config.SSH{Addr: nc.SSH.Addr, User: nc.SSH.User, Password: secret.String(nc.SSH.Password), HostKey: nc.SSH.HostKey}
		}
		c.Nodes = append(c.Nodes, n)
	}
	if opts.Principal.UserID != "" {
		c.Admins = append(c.Admins, opts.Principal)
	}
	return e, nil
}

func createDatabase(ctx context.Context, pg *testenv.Postgres, name string) error {
	if err := pg.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return fmt.Errorf("creating the demo database: %w", err)
	}
	return nil
}

// Close stops everything the demo started.
func (e *Env) Close() {
	if e.closed {
		return
	}
	e.closed = true
	if e.Sim != nil {
		e.Sim.Close()
	}
	if e.redis != nil {
		e.redis.Close()
	}
	if e.pg != nil {
		e.pg.Stop()
	}
}
