package redisx

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Connect opens a client for a redis:// or rediss:// URL and checks that the
// server answers. Dial retries are kept low so a dead Redis is reported
// quickly instead of stalling every command.
func Connect(ctx context.Context, url string) (*redis.Client, error) {
	return ConnectPool(ctx, url, 0)
}

// ConnectPool is Connect with a connection pool of poolSize (0 = go-redis's
// default, 10 per GOMAXPROCS), unless the URL sets pool_size itself: the
// operator's word wins.
func ConnectPool(ctx context.Context, url string, poolSize int) (*redis.Client, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parsing redis url: %w", err)
	}
	if opt.PoolSize == 0 && poolSize > 0 {
		opt.PoolSize = poolSize
	}
	opt.DialerRetries = 2
	opt.DialTimeout = 3 * time.Second
	rdb := redis.NewClient(opt)
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("connecting to redis at %s: %w", opt.Addr, err)
	}
	return rdb, nil
}
