package discord

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Deduper claims an inbound delivery once; redisx.Deduper satisfies it.
type Deduper interface {
	Claim(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// Store keeps what does not fit into a custom id (long button values,
// confirmations, open forms) under short keys, shared by every replica.
type Store interface {
	Put(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Get(ctx context.Context, key string) ([]byte, bool, error)
}

// How long stored state lives: buttons as long as a message is likely to
// be clicked, forms as long as someone may take to fill one in.
const (
	storedTTL  = 30 * 24 * time.Hour
	sessionTTL = 2 * time.Hour
	dedupeTTL  = time.Hour
)

var errExpired = errors.New("stored state expired")

// RedisStore is a Store in Redis under lxcbot:discord:.
type RedisStore struct {
	rdb redis.UniversalClient
}

// NewRedisStore returns a Store backed by rdb.
func NewRedisStore(rdb redis.UniversalClient) *RedisStore { return &RedisStore{rdb: rdb} }

const storePrefix = "lxcbot:discord:"

// Put stores value under key for ttl.
func (s *RedisStore) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := s.rdb.Set(ctx, storePrefix+key, value, ttl).Err(); err != nil {
		return fmt.Errorf("storing %s: %w", key, err)
	}
	return nil
}

// Get returns the value under key and whether it exists.
func (s *RedisStore) Get(ctx context.Context, key string) ([]byte, bool, error) {
	b, err := s.rdb.Get(ctx, storePrefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading %s: %w", key, err)
	}
	return b, true, nil
}
