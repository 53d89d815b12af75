package redisx_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	redisx "github.com/lxcbot/lxcbot/internal/adapters/redis"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/testenv"
)

func newClient(t *testing.T) redis.UniversalClient {
	t.Helper()
	ctx := context.Background()
	rdb, err := redisx.Connect(ctx, "redis://"+testenv.RedisAddr(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

func TestLockIsExclusiveUnderConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := redisx.NewLocker(newClient(t))

	const n = 20
	var wg sync.WaitGroup
	locks := make([]provision.Lock, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			locks[i], errs[i] = l.Acquire(ctx, "container:c1",
				provision.LockHolder{Who: fmt.Sprintf("slack:U%d", i), Action: "stop"}, time.Minute)
		}()
	}
	wg.Wait()
	winner := -1
	for i := range n {
		if errs[i] == nil {
			require.Equal(t, -1, winner, "two goroutines got the lock")
			winner = i
		}
	}
	require.NotEqual(t, -1, winner, "nobody got the lock")
	for i := range n {
		if i == winner {
			continue
		}
		var le *provision.LockedError
		require.ErrorAs(t, errs[i], &le)
		require.ErrorIs(t, errs[i], provision.ErrConflict)
		require.Equal(t, fmt.Sprintf("slack:U%d", winner), le.Holder.Who)
		require.Equal(t, "stop", le.Holder.Action)
		require.False(t, le.Holder.Since.IsZero())
	}

	require.NoError(t, locks[winner].Release(ctx))
	again, err := l.Acquire(ctx, "container:c1", provision.LockHolder{Who: "slack:U99", Action: "start"}, time.Minute)
	require.NoError(t, err)
	require.NoError(t, again.Release(ctx))
}

func TestLockHolderDetails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := redisx.NewLocker(newClient(t))
	since := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	_, err := l.Acquire(ctx, "container:c2", provision.LockHolder{Who: "discord:42", Action: "create", Since: since}, time.Minute)
	require.NoError(t, err)
	_, err = l.Acquire(ctx, "container:c2", provision.LockHolder{Who: "slack:U1", Action: "delete"}, time.Minute)
	var le *provision.LockedError
	require.ErrorAs(t, err, &le)
	require.Equal(t, provision.LockHolder{Who: "discord:42", Action: "create", Since: since}, le.Holder)
	require.Contains(t, err.Error(), "create by discord:42 since 2025-03-04T05:06:07Z")
}

func TestLockExpiresAndOnlyTheOwnerReleases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := redisx.NewLocker(newClient(t))
	first, err := l.Acquire(ctx, "container:c3", provision.LockHolder{Who: "a", Action: "stop"}, 50*time.Millisecond)
	require.NoError(t, err)

	// Once the first lock expires, another owner gets it.
	var second provision.Lock
	require.Eventually(t, func() bool {
		second, err = l.Acquire(ctx, "container:c3", provision.LockHolder{Who: "b", Action: "start"}, time.Minute)
		return err == nil
	}, 10*time.Second, 10*time.Millisecond)

	// The first owner can neither release nor refresh the second's lock.
	require.ErrorIs(t, first.Release(ctx), redisx.ErrLockLost)
	require.ErrorIs(t, first.Refresh(ctx, time.Minute), redisx.ErrLockLost)
	_, err = l.Acquire(ctx, "container:c3", provision.LockHolder{Who: "c", Action: "x"}, time.Minute)
	var le *provision.LockedError
	require.ErrorAs(t, err, &le)
	require.Equal(t, "b", le.Holder.Who)

	require.NoError(t, second.Release(ctx))
	require.ErrorIs(t, second.Release(ctx), redisx.ErrLockLost, "a lock is released once")
}

func TestLockRefreshExtendsExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := newClient(t)
	l := redisx.NewLocker(rdb)
	lk, err := l.Acquire(ctx, "container:c4", provision.LockHolder{Who: "a", Action: "create"}, time.Second)
	require.NoError(t, err)
	require.NoError(t, lk.Refresh(ctx, time.Hour))
	ttl, err := rdb.PTTL(ctx, "lxcbot:lock:container:c4").Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 30*time.Minute)
}

func TestDeduperFirstClaimWins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := redisx.NewDeduper(newClient(t))
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := d.Claim(ctx, "slack:Ev1", time.Minute)
			assert.NoError(t, err)
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.Equal(t, 1, wins)
}

func collect(t *testing.T, ch <-chan provision.ProgressEvent) []provision.ProgressEvent {
	t.Helper()
	var out []provision.ProgressEvent
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				return out
			}
			out = append(out, e)
		case <-timeout:
			t.Fatalf("subscription did not close; got %d events", len(out))
		}
	}
}

func TestBusKeepsOrderPerJobUnderConcurrentPublishers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bus := redisx.NewBus(newClient(t), redisx.BusOptions{Block: 100 * time.Millisecond}, nil)

	const jobs, perJob = 6, 150
	// Subscribe before publishing: live delivery.
	subs := make([]<-chan provision.ProgressEvent, jobs)
	for j := range jobs {
		ch, err := bus.Subscribe(ctx, fmt.Sprintf("job%d", j), "")
		require.NoError(t, err)
		subs[j] = ch
	}
	var wg sync.WaitGroup
	for j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= perJob; i++ {
				typ := provision.ProgressLog
				if i == perJob {
					typ = provision.ProgressReady
				}
				_, err := bus.Publish(ctx, provision.ProgressEvent{ContainerID: fmt.Sprintf("job%d", j), Seq: int64(i), Type: typ, Line: fmt.Sprint(i)})
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	for j := range jobs {
		got := collect(t, subs[j])
		require.Len(t, got, perJob)
		for i, e := range got {
			require.Equal(t, int64(i+1), e.Seq)
			require.Equal(t, fmt.Sprintf("job%d", j), e.ContainerID)
			require.NotEmpty(t, e.ID)
		}
		require.Equal(t, provision.ProgressReady, got[len(got)-1].Type)
	}
}

func TestBusResumesAfterAnID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bus := redisx.NewBus(newClient(t), redisx.BusOptions{Block: 100 * time.Millisecond}, nil)
	var ids []string
	for i := 1; i <= 10; i++ {
		typ := provision.ProgressLog
		if i == 10 {
			typ = provision.ProgressFailed
		}
		id, err := bus.Publish(ctx, provision.ProgressEvent{ContainerID: "c", Seq: int64(i), Type: typ})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	ch, err := bus.Subscribe(ctx, "c", ids[3])
	require.NoError(t, err)
	got := collect(t, ch)
	require.Len(t, got, 6)
	require.Equal(t, int64(5), got[0].Seq)
	require.Equal(t, ids[4], got[0].ID)

	// After a terminal event the job may continue (a retry); a subscriber
	// resuming after it sees only the new attempt.
	_, err = bus.Publish(ctx, provision.ProgressEvent{ContainerID: "c", Seq: 11, Type: provision.ProgressReady})
	require.NoError(t, err)
	ch, err = bus.Subscribe(ctx, "c", ids[9])
	require.NoError(t, err)
	got = collect(t, ch)
	require.Len(t, got, 1)
	require.Equal(t, int64(11), got[0].Seq)
}

func TestBusSubscriptionEndsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	bus := redisx.NewBus(newClient(t), redisx.BusOptions{Block: 50 * time.Millisecond}, nil)
	ch, err := bus.Subscribe(ctx, "quiet", "")
	require.NoError(t, err)
	cancel()
	got := collect(t, ch)
	require.Empty(t, got)
}

func TestBusStreamExpires(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := newClient(t)
	bus := redisx.NewBus(rdb, redisx.BusOptions{TTL: time.Hour}, nil)
	_, err := bus.Publish(ctx, provision.ProgressEvent{ContainerID: "x", Type: provision.ProgressLog})
	require.NoError(t, err)
	ttl, err := rdb.TTL(ctx, "lxcbot:job:x").Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 30*time.Minute)
}

func TestBusSubscribersReadThroughTheirOwnClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := "redis://" + testenv.RedisAddr(t)
	// A publisher pool far smaller than the number of subscribers: were the
	// subscribers' blocking reads on it, publishing would time out.
	pub, err := redisx.ConnectPool(ctx, url+"?pool_size=2&pool_timeout=1", 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = pub.Close() })
	reads, err := redisx.ConnectPool(ctx, url, 40)
	require.NoError(t, err)
	t.Cleanup(func() { _ = reads.Close() })
	require.Equal(t, 2, pub.(*redis.Client).Options().PoolSize, "the URL's pool_size wins")
	require.Equal(t, 40, reads.(*redis.Client).Options().PoolSize)
	bus := redisx.NewBus(pub, redisx.BusOptions{Block: 2 * time.Second, Reader: reads}, nil)

	const subscribers = 20
	subs := make([]<-chan provision.ProgressEvent, subscribers)
	for j := range subscribers {
		ch, err := bus.Subscribe(ctx, fmt.Sprintf("own%d", j), "")
		require.NoError(t, err)
		subs[j] = ch
	}
	time.Sleep(100 * time.Millisecond) // let every subscriber block in XREAD
	for j := range subscribers {
		_, err := bus.Publish(ctx, provision.ProgressEvent{ContainerID: fmt.Sprintf("own%d", j), Seq: 1, Type: provision.ProgressReady})
		require.NoError(t, err)
	}
	for j := range subscribers {
		require.Len(t, collect(t, subs[j]), 1)
	}
	require.LessOrEqual(t, pub.PoolStats().TotalConns, uint32(2))
	require.Zero(t, pub.PoolStats().Timeouts, "publishers never waited out the pool")
}
