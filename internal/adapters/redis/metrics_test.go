package redisx_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	redisx "github.com/lxcbot/lxcbot/internal/adapters/redis"
	"github.com/lxcbot/lxcbot/internal/metrics"
	"github.com/lxcbot/lxcbot/internal/provision"
)

func TestRefusedLockCountsContentionByAction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := metrics.New()
	l := redisx.NewLocker(newClient(t)).WithMetrics(m)

	held, err := l.Acquire(ctx, "container:m1", provision.LockHolder{Who: "slack:U1", Action: "create"}, time.Minute)
	require.NoError(t, err)
	_, err = l.Acquire(ctx, "container:m1", provision.LockHolder{Who: "slack:U2", Action: "delete"}, time.Minute)
	require.ErrorAs(t, err, new(*provision.LockedError))
	require.Equal(t, 1.0, testutil.ToFloat64(m.LockContention.WithLabelValues("delete")))
	require.Equal(t, 0.0, testutil.ToFloat64(m.LockContention.WithLabelValues("create")), "the granted lock is not contention")

	require.NoError(t, held.Release(ctx))
	_, err = l.Acquire(ctx, "container:m1", provision.LockHolder{Who: "slack:U2", Action: "delete"}, time.Minute)
	require.NoError(t, err)
	require.Equal(t, 1.0, testutil.ToFloat64(m.LockContention.WithLabelValues("delete")))
}
