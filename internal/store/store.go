package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/secret"
)

// querier is what both a pool and a transaction offer, so every repository
// method runs unchanged inside or outside InTx. Begin on a transaction opens
// a savepoint, so methods that need atomicity nest safely.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

// DB is lxcbot's Postgres store. A DB handed to an InTx callback runs every
// method inside that transaction.
type DB struct {
	pool *pgxpool.Pool
	q    querier
	kr   *secret.Keyring
	log  *slog.Logger
}

// DefaultMaxConns is the pool size when the DSN sets no pool_max_conns.
// pgxpool's own default, max(4, NumCPU), starves a worker running eight
// jobs on a small machine: every job, lock refresh and progress write
// holds a connection for a moment.
const DefaultMaxConns = 25

// Open connects to Postgres at dsn and checks that it answers. kr seals and
// opens stored secrets; log may be nil. The pool holds up to
// DefaultMaxConns connections unless the DSN sets pool_max_conns.
func Open(ctx context.Context, dsn string, kr *secret.Keyring, log *slog.Logger) (*DB, error) {
	if kr == nil {
		return nil, fmt.Errorf("opening store: a keyring is required: %w", provision.ErrInvalid)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message quotes the DSN (password redacted); keep only the reason.
		reason := "malformed"
		if inner := errors.Unwrap(err); inner != nil {
			reason = inner.Error()
		}
		return nil, fmt.Errorf("opening store: parsing database url: %s: %w", reason, provision.ErrInvalid)
	}
	if !setsPoolMaxConns(dsn) {
		cfg.MaxConns = DefaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, wrapf(err, "opening store")
	}
	db := &DB{pool: pool, q: pool, kr: kr, log: log}
	if err := db.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("opening store: %w", err)
	}
	return db, nil
}

// setsPoolMaxConns reports whether dsn (URL or keyword/value) sets
// pool_max_conns. pgx keeps settings it does not know, pgxpool's among
// them, as runtime parameters; pgxpool removes them, so ask pgx.
func setsPoolMaxConns(dsn string) bool {
	cc, err := pgx.ParseConfig(dsn)
	if err != nil {
		return false
	}
	_, ok := cc.RuntimeParams["pool_max_conns"]
	return ok
}

// Close closes the connection pool. It does nothing on a transaction-bound DB.
func (db *DB) Close() {
	if db.q == querier(db.pool) {
		db.pool.Close()
	}
}

// Ping checks that Postgres answers.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.q.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return wrapf(err, "pinging database")
	}
	return nil
}

// InTx runs fn in one transaction: committed if fn returns nil, rolled back
// otherwise. Called on a transaction-bound DB it opens a savepoint.
func (db *DB) InTx(ctx context.Context, fn func(tx *DB) error) error {
	tx, err := db.q.Begin(ctx)
	if err != nil {
		return wrapf(err, "beginning transaction")
	}
	// Rollback after Commit is a no-op; it must run even if ctx was cancelled.
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(&DB{pool: db.pool, q: tx, kr: db.kr, log: db.log}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return wrapf(err, "committing transaction")
	}
	return nil
}

// aad builds the additional authenticated data that binds a sealed value to
// where it is stored, so a ciphertext copied to another row does not open.
func aad(parts ...string) string {
	q := make([]string, len(parts))
	for i, p := range parts {
		q[i] = strconv.Quote(p)
	}
	return "lxcbot:" + strings.Join(q, ":")
}

// seal returns nil for an empty secret, so "not set" stays NULL.
func (db *DB) seal(s secret.String, aad string) ([]byte, error) {
	if s.IsZero() {
		return nil, nil
	}
	return db.kr.SealString(s, aad)
}

func (db *DB) open(sealed []byte, aad string) (secret.String, error) {
	if sealed == nil {
		return "", nil
	}
	return db.kr.OpenString(sealed, aad)
}

// strs turns nil into an empty slice: pgx sends a nil slice as NULL, and the
// array columns are NOT NULL.
func strs[T ~string](in []T) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = string(v)
	}
	return out
}

// nullStr sends "" as NULL, for optional enumerated columns.
func nullStr[T ~string](s T) *string {
	if s == "" {
		return nil
	}
	v := string(s)
	return &v
}

func derefStr(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// rowScanner is pgx.Row or pgx.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// queryAll runs a query and reads every row with scan.
func queryAll[T any](ctx context.Context, q querier, scan func(rowScanner) (T, error), sql string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
}
