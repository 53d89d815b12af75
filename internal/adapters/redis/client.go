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
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parsing redis url: %w", err)
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
