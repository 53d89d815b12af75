package redisx

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Tuning is what lxcbot sets on every Redis client, whatever the topology.
type Tuning struct {
	PoolSize      int // 0 = go-redis's default; a pool_size in the URL wins
	DialerRetries int
	DialTimeout   time.Duration
	ReadTimeout   time.Duration // 0 = go-redis's default
	MaxRetries    int           // 0 = go-redis's default; -1 = none
}

// fields points at the options every go-redis client type has.
type fields struct {
	poolSize, dialerRetries, maxRetries    *int
	dialTimeout, readTimeout, writeTimeout *time.Duration
}

// apply sets t on f; a pool size already in the URL wins.
func (t Tuning) apply(f fields) {
	if *f.poolSize == 0 {
		*f.poolSize = t.PoolSize
	}
	*f.dialerRetries, *f.dialTimeout = t.DialerRetries, t.DialTimeout
	if t.ReadTimeout != 0 {
		*f.readTimeout, *f.writeTimeout = t.ReadTimeout, t.ReadTimeout
	}
	if t.MaxRetries != 0 {
		*f.maxRetries = t.MaxRetries
	}
}

// Production tuning: dial retries kept low so a dead Redis is reported
// quickly instead of stalling every command.
func defaultTuning(poolSize int) Tuning {
	return Tuning{PoolSize: poolSize, DialerRetries: 2, DialTimeout: 3 * time.Second}
}

// Connect opens a client for REDIS_URL and checks that the server answers.
func Connect(ctx context.Context, url string) (redis.UniversalClient, error) {
	return ConnectPool(ctx, url, 0)
}

// ConnectPool is Connect with a connection pool of poolSize (0 = go-redis's
// default, 10 per GOMAXPROCS), unless the URL sets pool_size itself: the
// operator's word wins.
func ConnectPool(ctx context.Context, url string, poolSize int) (redis.UniversalClient, error) {
	rdb, where, err := NewClient(url, defaultTuning(poolSize))
	if err != nil {
		return nil, err
	}
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("connecting to redis at %s: %w", where, err)
	}
	return rdb, nil
}

// NewClient builds a client for one of three topologies, without connecting:
//
//   - one server: redis://[user:pass@]host:6379/0, rediss://…, unix:///path/redis.sock
//   - Redis Sentinel: redis+sentinel://[user:pass@]sentinel1:26379/0?master_name=mymaster&addr=sentinel2:26379
//   - Redis Cluster: redis+cluster://[user:pass@]node1:6379?addr=node2:6379&addr=node3:6379
//
// (rediss+sentinel:// and rediss+cluster:// use TLS.) Query parameters are
// go-redis's option names in snake case. where names the first address, for
// error messages; it never contains a password.
func NewClient(url string, t Tuning) (rdb redis.UniversalClient, where string, err error) {
	scheme, rest, _ := strings.Cut(url, "://")
	switch scheme {
	case "redis+sentinel", "rediss+sentinel":
		opt, err := redis.ParseFailoverURL(strings.TrimSuffix(scheme, "+sentinel") + "://" + rest)
		if err != nil {
			return nil, "", fmt.Errorf("parsing redis sentinel url: %w", err)
		}
		if opt.MasterName == "" {
			return nil, "", fmt.Errorf("parsing redis sentinel url: master_name is required")
		}
		t.apply(fields{&opt.PoolSize, &opt.DialerRetries, &opt.MaxRetries, &opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout})
		return redis.NewFailoverClient(opt), "sentinel " + strings.Join(opt.SentinelAddrs, ","), nil
	case "redis+cluster", "rediss+cluster":
		opt, err := redis.ParseClusterURL(strings.TrimSuffix(scheme, "+cluster") + "://" + rest)
		if err != nil {
			return nil, "", fmt.Errorf("parsing redis cluster url: %w", err)
		}
		t.apply(fields{&opt.PoolSize, &opt.DialerRetries, &opt.MaxRetries, &opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout})
		return redis.NewClusterClient(opt), "cluster " + strings.Join(opt.Addrs, ","), nil
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, "", fmt.Errorf("parsing redis url: %w", err)
	}
	t.apply(fields{&opt.PoolSize, &opt.DialerRetries, &opt.MaxRetries, &opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout})
	return redis.NewClient(opt), opt.Addr, nil
}
