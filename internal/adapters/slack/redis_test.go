package slack

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	redisx "github.com/lxcbot/lxcbot/internal/adapters/redis"
	"github.com/lxcbot/lxcbot/internal/testenv"
)

var (
	_ Deduper = (*redisx.Deduper)(nil)
	_ Deduper = (*MemDeduper)(nil)
)

// Two replicas sharing Redis: a slash command retried to the other one
// still acts once.
func TestRetriesAcrossReplicasActOnceThroughRedis(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t)})
	t.Cleanup(func() { _ = rdb.Close() })
	d := redisx.NewDeduper(rdb)
	first := setup(t, func(o *setupOpts) { o.deduper = d })
	second := setup(t, func(o *setupOpts) { o.deduper = d })
	resp, _ := first.slash(t, slackAdmin, "restart web1", "trig-redis")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, body := second.slash(t, slackAdmin, "restart web1", "trig-redis")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Empty(t, body, "the retry is dropped")
	first.drain(t)
	second.drain(t)
	// The first replica answered (in the ack or through response_url);
	// the second did nothing at all.
	require.Empty(t, second.fake.Calls())
	require.Empty(t, second.mem.AuditEntries())
	require.Len(t, first.mem.AuditEntries(), 1)
	ok, err := d.Claim(context.Background(), "slack:cmd:T1:trig-redis", time.Minute)
	require.NoError(t, err)
	require.False(t, ok)
}
