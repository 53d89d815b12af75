package redisx_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	redisx "github.com/lxcbot/lxcbot/internal/adapters/redis"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/testenv"
)

// TestSentinelURLReachesTheMaster: REDIS_URL may name Redis Sentinel; the
// client asks the sentinel for the master and locks work through it.
func TestSentinelURLReachesTheMaster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	master := testenv.RedisAddr(t)
	sentinel := testenv.StartSentinel(t, master)
	rdb, err := redisx.Connect(ctx, "redis+sentinel://"+sentinel+"/0?master_name=mymaster")
	require.NoError(t, err)
	defer rdb.Close()

	l := redisx.NewLocker(rdb)
	lock, err := l.Acquire(ctx, "container:x", provision.LockHolder{Who: "alice", Action: "stop", Since: time.Now()}, time.Minute)
	require.NoError(t, err)
	defer lock.Release(ctx)

	// The key is on the master the sentinel named.
	direct, err := redisx.Connect(ctx, "redis://"+master)
	require.NoError(t, err)
	defer direct.Close()
	keys, err := direct.Keys(ctx, "*container:x*").Result()
	require.NoError(t, err)
	require.NotEmpty(t, keys, "the lock key is on the master")
}

func TestTopologyURLsAreParsed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url, where string
		ok         bool
	}{
		{"redis://127.0.0.1:6379/0", "127.0.0.1:6379", true},
		{"redis+sentinel://s1:26379/0?master_name=m&addr=s2:26379", "sentinel s1:26379,s2:26379", true},
		{"redis+sentinel://s1:26379/0", "", false},
		{"redis+cluster://n1:6379?addr=n2:6379", "cluster n1:6379,n2:6379", true},
		{"redis+cluster://user:pa55word@n1:6379", "cluster n1:6379", true},
	} {
		c, where, err := redisx.NewClient(tc.url, redisx.Tuning{})
		if !tc.ok {
			require.Error(t, err, tc.url)
			continue
		}
		require.NoError(t, err, tc.url)
		require.Equal(t, tc.where, where)
		require.NotContains(t, where, "pa55word")
		_ = c.Close()
	}
}
