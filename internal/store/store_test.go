package store_test

import (
	"context"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/secret"
	"github.com/lxcbot/lxcbot/internal/store"
	"github.com/lxcbot/lxcbot/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

type testBundle struct {
	dsn string
	key secret.Key
	kr  *secret.Keyring
	raw *pgx.Conn // for looking at columns as stored
}

// setup returns a store on a fresh, migrated database of its own.
func setup(t *testing.T) (*store.DB, *testBundle) {
	t.Helper()
	ctx := context.Background()
	dsn := testenv.PostgresDSN(t)
	key, err := secret.GenerateKey()
	require.NoError(t, err)
	kr, err := secret.NewKeyring(key)
	require.NoError(t, err)
	db, err := store.Open(ctx, dsn, kr, nil)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	raw, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { raw.Close(context.Background()) })
	return db, &testBundle{dsn: dsn, key: key, kr: kr, raw: raw}
}

// openWith opens a second store on the same database with another keyring.
func openWith(t *testing.T, dsn string, primary secret.Key, old ...secret.Key) *store.DB {
	t.Helper()
	kr, err := secret.NewKeyring(primary, old...)
	require.NoError(t, err)
	db, err := store.Open(context.Background(), dsn, kr, nil)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	return db
}

func newKey(t *testing.T) secret.Key {
	t.Helper()
	k, err := secret.GenerateKey()
	require.NoError(t, err)
	return k
}

// newContainer records a pending container with the given hostname.
func newContainer(t *testing.T, db *store.DB, hostname string) *provision.Container {
	t.Helper()
	c := &provision.Container{
		Hostname:     hostname,
		TemplateName: "debian",
		Owner:        provision.Principal{Platform: provision.PlatformSlack, UserID: "U1", Name: "alice"},
		Origin:       provision.Origin{Platform: provision.PlatformSlack, WorkspaceID: "T1", ChannelID: "C1"},
		Request:      provision.CreateRequest{Template: "debian", Hostname: hostname, Cores: 2},
	}
	require.NoError(t, db.CreateContainer(context.Background(), c))
	return c
}

func TestOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kr, err := secret.NewKeyring(newKey(t))
	require.NoError(t, err)

	t.Run("PingsAndCloses", func(t *testing.T) {
		t.Parallel()
		db, _ := setup(t)
		require.NoError(t, db.Ping(ctx))
	})

	t.Run("MalformedDSNIsInvalidAndHidesPassword", func(t *testing.T) {
		t.Parallel()
		_, err := store.Open(ctx, "postgres://lxc:hunter2@host:notaport/db", kr, nil)
		require.ErrorIs(t, err, provision.ErrInvalid)
		require.NotContains(t, err.Error(), "hunter2")
	})

	t.Run("UnreachableIsUnavailableAndHidesPassword", func(t *testing.T) {
		t.Parallel()
		_, err := store.Open(ctx, "host=/nonexistent-lxcbot-socket-dir dbname=x user=lxc password=hunter2 connect_timeout=5", kr, nil)
		require.ErrorIs(t, err, provision.ErrUnavailable)
		require.NotContains(t, err.Error(), "hunter2")
	})

	t.Run("PoolSize", func(t *testing.T) {
		t.Parallel()
		dsn := testenv.PostgresDSN(t)
		db, err := store.Open(ctx, dsn, kr, nil)
		require.NoError(t, err)
		defer db.Close()
		require.Equal(t, int32(store.DefaultMaxConns), store.MaxConns(db), "not pgxpool's max(4, NumCPU)")

		sized, err := store.Open(ctx, dsn+" pool_max_conns=7", kr, nil)
		require.NoError(t, err)
		defer sized.Close()
		require.Equal(t, int32(7), store.MaxConns(sized), "the DSN's setting wins")

		cc, err := pgx.ParseConfig(dsn)
		require.NoError(t, err)
		u, err := store.Open(ctx, "postgres:///"+cc.Database+"?"+url.Values{"host": {cc.Host}, "user": {cc.User},
			"sslmode": {"disable"}, "pool_max_conns": {"3"}}.Encode(), kr, nil)
		require.NoError(t, err)
		defer u.Close()
		require.Equal(t, int32(3), store.MaxConns(u), "in a URL too")
	})

	t.Run("KeyringRequired", func(t *testing.T) {
		t.Parallel()
		_, err := store.Open(ctx, testenv.PostgresDSN(t), nil, nil)
		require.ErrorIs(t, err, provision.ErrInvalid)
	})
}

func TestInTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("RollsBackOnError", func(t *testing.T) {
		t.Parallel()
		db, _ := setup(t)
		err := db.InTx(ctx, func(tx *store.DB) error {
			require.NoError(t, tx.UpsertBucket(ctx, &provision.Bucket{Name: "tools", Manager: provision.ManagerApt}))
			return tx.ClaimDelivery(ctx, "", provision.PlatformSlack) // empty key breaks a CHECK
		})
		require.ErrorIs(t, err, provision.ErrInvalid)
		_, err = db.GetBucket(ctx, "tools")
		require.ErrorIs(t, err, provision.ErrNotFound)
	})

	t.Run("CommitsAndNests", func(t *testing.T) {
		t.Parallel()
		db, _ := setup(t)
		err := db.InTx(ctx, func(tx *store.DB) error {
			require.NoError(t, tx.UpsertBucket(ctx, &provision.Bucket{Name: "tools", Manager: provision.ManagerApt}))
			// A failing nested call (its own savepoint) leaves the outer work intact.
			err := tx.UpsertTemplate(ctx, &provision.Template{Name: "t", Cores: 1, MemoryMiB: 512, DiskGiB: 8, Buckets: []string{"missing"}})
			require.ErrorIs(t, err, provision.ErrNotFound)
			return nil
		})
		require.NoError(t, err)
		_, err = db.GetBucket(ctx, "tools")
		require.NoError(t, err)
		_, err = db.GetTemplate(ctx, "t")
		require.ErrorIs(t, err, provision.ErrNotFound)
	})
}
