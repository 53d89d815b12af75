package app

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	redisx "github.com/lxcbot/lxcbot/internal/adapters/redis"
	"github.com/lxcbot/lxcbot/internal/testenv"
)

// lockedBuffer is a log sink safe for the app's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestCloseLogsNoWarning: closing the bot releases the queue without asking
// asynq to close a Redis connection it only borrows, so nothing is logged at
// warning level or above, whether the bot owns its Redis client or not.
func TestCloseLogsNoWarning(t *testing.T) {
	t.Parallel()
	for _, shared := range []bool{false, true} {
		name := map[bool]string{false: "own redis", true: "shared redis"}[shared]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			redisAddr := testenv.RedisAddr(t)
			opts := Options{Config: testConfig(t, appOptions{redisAddr: redisAddr}), Fast: true}
			if shared {
				rdb, err := redisx.Connect(ctx, "redis://"+redisAddr)
				require.NoError(t, err)
				t.Cleanup(func() { _ = rdb.Close() })
				opts.Redis = rdb
			}
			logs := &lockedBuffer{}
			opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
			a, err := New(ctx, opts)
			require.NoError(t, err)

			a.Close()
			require.Empty(t, logs.String(), "closing logged a warning")
			if shared {
				require.NoError(t, opts.Redis.Ping(ctx).Err(), "a shared Redis client stays open for its owner")
			}
		})
	}
}
