package app

import (
	"context"
	"log/slog"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/secret"
)

func TestRedisPoolGrowsWithConcurrencyUnlessTheURLSetsIt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		query       string
		concurrency int
		want        func(t *testing.T, size int)
	}{
		{"default concurrency", "", 0, func(t *testing.T, size int) { require.GreaterOrEqual(t, size, redisPoolSize(DefaultConcurrency)) }},
		{"concurrency 50", "", 50, func(t *testing.T, size int) {
			require.GreaterOrEqual(t, size, redisPoolSize(50))
			require.GreaterOrEqual(t, size, 2*50, "a connection per running job and per followed card")
		}},
		{"pool_size in the URL", "?pool_size=7", 50, func(t *testing.T, size int) { require.Equal(t, 7, size) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, appOptions{})
			cfg.RedisURL = secret.String(cfg.RedisURL.Reveal() + tc.query)
			a, err := New(context.Background(), Options{Config: cfg, Fast: true, Concurrency: tc.concurrency, Logger: slog.New(slog.DiscardHandler)})
			require.NoError(t, err)
			t.Cleanup(a.Close)
			tc.want(t, a.rdb.(*redis.Client).Options().PoolSize)
			// Progress subscribers read through a client of their own.
			require.NotNil(t, a.reads)
			require.NotSame(t, a.rdb, a.reads)
			tc.want(t, a.reads.(*redis.Client).Options().PoolSize)
		})
	}
}
