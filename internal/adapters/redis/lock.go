package redisx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lxcbot/lxcbot/internal/metrics"
	"github.com/lxcbot/lxcbot/internal/provision"
)

// ErrLockLost: the lock expired or was taken over before it was released or
// refreshed.
var ErrLockLost = fmt.Errorf("lock no longer held: %w", provision.ErrConflict)

const tokenLen = 32 // hex characters

// A lock's value is "<token>|<holder json>": the token proves ownership, the
// holder tells others who has it.
var (
	releaseScript = redis.NewScript(`
if string.sub(redis.call("GET", KEYS[1]) or "", 1, 32) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)
	refreshScript = redis.NewScript(`
if string.sub(redis.call("GET", KEYS[1]) or "", 1, 32) == ARGV[1] then
	return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0`)
)

// Locker hands out exclusive, expiring locks: SET NX PX with an owner token,
// released by compare-and-delete and refreshed by compare-and-pexpire.
type Locker struct {
	rdb    redis.UniversalClient
	prefix string
	m      *metrics.Metrics // nil = contention not counted
}

// NewLocker returns a Locker whose keys live under lxcbot:lock:.
func NewLocker(rdb redis.UniversalClient) *Locker {
	return &Locker{rdb: rdb, prefix: "lxcbot:lock:"}
}

// WithMetrics returns a copy of l that counts refused acquisitions, by the
// action that asked, on m.
func (l *Locker) WithMetrics(m *metrics.Metrics) *Locker {
	c := *l
	c.m = m
	return &c
}

// Lock is a held lock.
type Lock struct {
	rdb   redis.UniversalClient
	key   string
	token string
}

var _ provision.Locker = (*Locker)(nil)

// Acquire takes the lock key for holder, expiring after ttl unless
// refreshed. If someone else holds it, the error is a *provision.LockedError
// saying who, for what and since when.
func (l *Locker) Acquire(ctx context.Context, key string, holder provision.LockHolder, ttl time.Duration) (provision.Lock, error) {
	if ttl < time.Millisecond {
		return nil, fmt.Errorf("locking %s: ttl %s is too short: %w", key, ttl, provision.ErrInvalid)
	}
	var b [tokenLen / 2]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("locking %s: %w", key, err)
	}
	token := hex.EncodeToString(b[:])
	if holder.Since.IsZero() {
		holder.Since = time.Now()
	}
	h, err := json.Marshal(holder)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", key, err)
	}
	rkey := l.prefix + key
	// The holder may release between our SET and GET: try a few times.
	for range 3 {
		ok, err := l.rdb.SetNX(ctx, rkey, token+"|"+string(h), ttl).Result()
		if err != nil {
			return nil, fmt.Errorf("locking %s: %w", key, err)
		}
		if ok {
			return &Lock{rdb: l.rdb, key: rkey, token: token}, nil
		}
		cur, err := l.rdb.Get(ctx, rkey).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("locking %s: reading holder: %w", key, err)
		}
		if l.m != nil {
			l.m.LockContention.WithLabelValues(holder.Action).Inc()
		}
		return nil, &provision.LockedError{Key: key, Holder: parseHolder(cur)}
	}
	return nil, fmt.Errorf("locking %s: lock is changing hands too fast: %w", key, provision.ErrConflict)
}

func parseHolder(v string) provision.LockHolder {
	var h provision.LockHolder
	if _, js, ok := strings.Cut(v, "|"); ok {
		_ = json.Unmarshal([]byte(js), &h)
	}
	if h.Who == "" {
		h.Who = "someone"
	}
	return h
}

// Release drops the lock if this Lock still owns it; ErrLockLost otherwise.
func (l *Lock) Release(ctx context.Context) error {
	n, err := releaseScript.Run(ctx, l.rdb, []string{l.key}, l.token).Int()
	if err != nil {
		return fmt.Errorf("releasing lock %s: %w", l.key, err)
	}
	if n == 0 {
		return fmt.Errorf("releasing lock %s: %w", l.key, ErrLockLost)
	}
	return nil
}

// Refresh extends the lock's expiry to ttl from now if this Lock still owns
// it; ErrLockLost otherwise.
func (l *Lock) Refresh(ctx context.Context, ttl time.Duration) error {
	n, err := refreshScript.Run(ctx, l.rdb, []string{l.key}, l.token, ttl.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("refreshing lock %s: %w", l.key, err)
	}
	if n == 0 {
		return fmt.Errorf("refreshing lock %s: %w", l.key, ErrLockLost)
	}
	return nil
}
