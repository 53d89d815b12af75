package migrations_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/testenv"
	"github.com/lxcbot/lxcbot/migrations"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var domainTables = []string{
	"audit_log", "channel_bindings", "container_events", "containers", "credentials", "inbound_deliveries",
	"nodes", "package_buckets", "role_bindings", "services", "template_buckets", "template_files",
	"template_scripts", "templates", "vmid_reservations", "workspaces",
}

func tables(ctx context.Context, t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := conn.Query(ctx, `
		SELECT table_name FROM information_schema.tables
		 WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'goose_db_version'
		 ORDER BY table_name`)
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return names
}

// constraintDef returns the definition of a named constraint on table, or "".
func constraintDef(ctx context.Context, t *testing.T, conn *pgx.Conn, table, name string) string {
	t.Helper()
	var def string
	err := conn.QueryRow(ctx, `
		SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c
		 WHERE c.conrelid = $1::regclass AND c.conname = $2`, table, name).Scan(&def)
	if err == pgx.ErrNoRows {
		return ""
	}
	require.NoError(t, err)
	return def
}

func indexDef(ctx context.Context, t *testing.T, conn *pgx.Conn, name string) string {
	t.Helper()
	var def string
	err := conn.QueryRow(ctx, `SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND indexname = $1`, name).Scan(&def)
	require.NoError(t, err, "index %s", name)
	return def
}

func checkDefs(ctx context.Context, t *testing.T, conn *pgx.Conn, table string) []string {
	t.Helper()
	rows, err := conn.Query(ctx, `
		SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'c'`, table)
	require.NoError(t, err)
	defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return defs
}

func containsDef(defs []string, parts ...string) bool {
	for _, d := range defs {
		ok := true
		for _, p := range parts {
			if !strings.Contains(d, p) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func assertSchema(ctx context.Context, t *testing.T, conn *pgx.Conn) {
	t.Helper()
	require.Equal(t, domainTables, tables(ctx, t, conn))

	require.Equal(t, "UNIQUE (vmid)", constraintDef(ctx, t, conn, "vmid_reservations", "vmid_reservations_vmid_key"))
	require.Contains(t, constraintDef(ctx, t, conn, "vmid_reservations", "vmid_reservations_container_id_fkey"), "ON DELETE CASCADE")
	require.Equal(t, "UNIQUE (name)", constraintDef(ctx, t, conn, "templates", "templates_name_key"))
	require.Equal(t, "UNIQUE (name)", constraintDef(ctx, t, conn, "nodes", "nodes_name_key"))
	require.Equal(t, "UNIQUE (platform, external_id)", constraintDef(ctx, t, conn, "workspaces", "workspaces_platform_external_id_key"))
	require.Contains(t, constraintDef(ctx, t, conn, "template_buckets", "template_buckets_bucket_id_fkey"), "ON DELETE RESTRICT")

	containerChecks := checkDefs(ctx, t, conn, "containers")
	require.True(t, containsDef(containerChecks, "state", "'pending'", "'creating'", "'ready'", "'failed'",
		"'cancelled'", "'deleting'", "'deleted'", "'gone'"), "containers state CHECK missing: %v", containerChecks)
	require.True(t, containsDef(containerChecks, "completed_phases", "'reserve'", "'discover'", "'ready'"),
		"containers completed_phases CHECK missing: %v", containerChecks)
	require.True(t, containsDef(checkDefs(ctx, t, conn, "audit_log"), "outcome", "'user_error'"))
	require.True(t, containsDef(checkDefs(ctx, t, conn, "package_buckets"), "manager", "'apt'", "'pip'", "'npm'", "'custom'"))
	require.True(t, containsDef(checkDefs(ctx, t, conn, "template_files"), "policy", "'backup'"))
	require.True(t, containsDef(checkDefs(ctx, t, conn, "container_events"), "type", "'phase_finished'", "'drift'"))
	require.True(t, containsDef(checkDefs(ctx, t, conn, "services"), "kind", "'application'", "'system'"))

	require.Contains(t, indexDef(ctx, t, conn, "nodes_one_default"), "WHERE is_default")
	live := indexDef(ctx, t, conn, "containers_live_hostname")
	require.Contains(t, live, "UNIQUE")
	require.Contains(t, live, "lower(hostname)")
	require.Contains(t, indexDef(ctx, t, conn, "container_events_container_idx"), "(container_id, id)")
}

func TestUpDownUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testenv.EmptyPostgresDSN(t)
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })

	require.Empty(t, tables(ctx, t, conn))

	require.NoError(t, migrations.Up(ctx, dsn))
	assertSchema(ctx, t, conn)

	require.NoError(t, migrations.DownTo(ctx, dsn, 0))
	require.Empty(t, tables(ctx, t, conn), "tables left after migrating down to 0")
	var leftovers int
	require.NoError(t, conn.QueryRow(ctx, `
		SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 'S') AND c.relname NOT LIKE 'goose_db_version%'`).Scan(&leftovers))
	require.Zero(t, leftovers, "indexes or sequences left after migrating down to 0")

	require.NoError(t, migrations.Up(ctx, dsn))
	assertSchema(ctx, t, conn)
}

func TestUpIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testenv.EmptyPostgresDSN(t)
	require.NoError(t, migrations.Up(ctx, dsn))
	require.NoError(t, migrations.Up(ctx, dsn))
}

// TestConcurrentUpIsSerialised starts several migrations at once, as several
// serve replicas do at start-up; the advisory lock makes them take turns.
func TestConcurrentUpIsSerialised(t *testing.T) {
	t.Parallel()
	dsn := testenv.EmptyPostgresDSN(t)
	ctx := context.Background()
	errs := make(chan error, 4)
	for range 4 {
		go func() { errs <- migrations.Up(ctx, dsn) }()
	}
	for range 4 {
		require.NoError(t, <-errs)
	}
	var buf bytes.Buffer
	require.NoError(t, migrations.Status(ctx, dsn, &buf))
	require.NotContains(t, buf.String(), "pending")
}
