// Package migrations embeds lxcbot's Postgres schema as goose SQL migrations
// (every one reversible) and applies them.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed *.sql
var files embed.FS

// FS returns the embedded migration files.
func FS() embed.FS { return files }

// provider takes a Postgres advisory lock around every run, so several serve
// replicas starting at once migrate one after another instead of colliding.
func provider(db *sql.DB) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, fmt.Errorf("creating the migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, files, goose.WithSessionLocker(locker))
	if err != nil {
		return nil, fmt.Errorf("loading migrations: %w", err)
	}
	return p, nil
}

// withProvider opens the database, builds the provider and runs fn.
func withProvider(dsn string, fn func(p *goose.Provider) error) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return fmt.Errorf("opening database: %w", err)
	}
	defer db.Close()
	p, err := provider(db)
	if err != nil {
		return err
	}
	return fn(p)
}

// Up applies every pending migration.
func Up(ctx context.Context, dsn string) error {
	return withProvider(dsn, func(p *goose.Provider) error {
		if _, err := p.Up(ctx); err != nil {
			return fmt.Errorf("migrating up: %w", err)
		}
		return nil
	})
}

// Down rolls back the most recent migration.
func Down(ctx context.Context, dsn string) error {
	return withProvider(dsn, func(p *goose.Provider) error {
		if _, err := p.Down(ctx); err != nil {
			return fmt.Errorf("migrating down: %w", err)
		}
		return nil
	})
}

// DownTo rolls back to version (0 removes everything).
func DownTo(ctx context.Context, dsn string, version int64) error {
	return withProvider(dsn, func(p *goose.Provider) error {
		if _, err := p.DownTo(ctx, version); err != nil {
			return fmt.Errorf("migrating down to %d: %w", version, err)
		}
		return nil
	})
}

// Status writes one line per migration: version, state, source.
func Status(ctx context.Context, dsn string, w io.Writer) error {
	return withProvider(dsn, func(p *goose.Provider) error {
		st, err := p.Status(ctx)
		if err != nil {
			return fmt.Errorf("reading migration status: %w", err)
		}
		for _, s := range st {
			applied := "pending"
			if s.State == goose.StateApplied {
				applied = "applied " + s.AppliedAt.UTC().Format("2006-01-02T15:04:05Z")
			}
			fmt.Fprintf(w, "%05d  %-28s %s\n", s.Source.Version, applied, s.Source.Path)
		}
		return nil
	})
}
