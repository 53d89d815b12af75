package redisx

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Deduper remembers inbound deliveries (Slack event ids, interaction ids)
// for a while, so the first delivery wins and retries are dropped.
type Deduper struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewDeduper returns a Deduper whose keys live under lxcbot:dedupe:.
func NewDeduper(rdb redis.UniversalClient) *Deduper {
	return &Deduper{rdb: rdb, prefix: "lxcbot:dedupe:"}
}

// Claim reports whether key is seen for the first time within ttl.
func (d *Deduper) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ok, err := d.rdb.SetNX(ctx, d.prefix+key, "1", ttl).Result()
	if err != nil {
		return false, fmt.Errorf("claiming delivery %s: %w", key, err)
	}
	return ok, nil
}
