package redisx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// BusOptions tune a Bus. Zero values take the defaults.
type BusOptions struct {
	MaxLen int64         // approximate events kept per job (2000)
	TTL    time.Duration // how long a job's stream outlives its last event (7 days)
	Block  time.Duration // longest XREAD BLOCK before re-checking ctx (2 s)
	// Reader serves subscribers' blocking reads (default: the Bus's own
	// client). Each subscriber holds a connection for most of its life, so
	// a client of their own keeps them from starving the jobs that publish.
	Reader redis.UniversalClient
}

// Bus carries progress events on one Redis stream per job
// (lxcbot:job:<container id>): Redis orders entries within a stream, so
// subscribers see a job's events in publish order and can resume after the
// last id they saw.
type Bus struct {
	rdb    redis.UniversalClient
	reader redis.UniversalClient
	opts   BusOptions
	log    *slog.Logger
}

var _ provision.Bus = (*Bus)(nil)

// NewBus returns a Bus.
func NewBus(rdb redis.UniversalClient, opts BusOptions, log *slog.Logger) *Bus {
	if opts.MaxLen <= 0 {
		opts.MaxLen = 2000
	}
	if opts.TTL <= 0 {
		opts.TTL = 7 * 24 * time.Hour
	}
	if opts.Block <= 0 {
		opts.Block = 2 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reader := opts.Reader
	if reader == nil {
		reader = rdb
	}
	return &Bus{rdb: rdb, reader: reader, opts: opts, log: log}
}

func streamKey(containerID string) string { return "lxcbot:job:" + containerID }

// Publish appends e to its job's stream and returns the entry id.
func (b *Bus) Publish(ctx context.Context, e provision.ProgressEvent) (string, error) {
	if e.ContainerID == "" {
		return "", fmt.Errorf("publishing progress: no container id: %w", provision.ErrInvalid)
	}
	e.ID = ""
	data, err := json.Marshal(e)
	if err != nil {
		return "", fmt.Errorf("publishing progress of %s: %w", e.ContainerID, err)
	}
	key := streamKey(e.ContainerID)
	var add *redis.StringCmd
	_, err = b.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		add = p.XAdd(ctx, &redis.XAddArgs{Stream: key, MaxLen: b.opts.MaxLen, Approx: true, Values: []any{"e", data}})
		p.Expire(ctx, key, b.opts.TTL)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("publishing progress of %s: %w", e.ContainerID, err)
	}
	return add.Val(), nil
}

// Subscribe delivers the job's events after the entry id after ("" = from the
// oldest kept) in order. The channel closes when ctx ends or after a terminal
// event (ready, failed, cancelled). Redis outages are retried until ctx ends.
func (b *Bus) Subscribe(ctx context.Context, containerID, after string) (<-chan provision.ProgressEvent, error) {
	if after == "" {
		after = "0"
	}
	key := streamKey(containerID)
	// Fail fast on a bad id or an unreachable server.
	if err := b.reader.XRangeN(ctx, key, "-", "+", 1).Err(); err != nil {
		return nil, fmt.Errorf("subscribing to progress of %s: %w", containerID, err)
	}
	ch := make(chan provision.ProgressEvent, 64)
	go func() {
		defer close(ch)
		log := b.log.With("container", containerID)
		backoff := 100 * time.Millisecond
		for ctx.Err() == nil {
			res, err := b.reader.XRead(ctx, &redis.XReadArgs{Streams: []string{key, after}, Count: 256, Block: b.opts.Block}).Result()
			if errors.Is(err, redis.Nil) {
				continue
			}
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				log.WarnContext(ctx, "reading progress stream", "err", err)
				select {
				case <-ctx.Done():
					return
				case <-time.After(backoff):
				}
				backoff = min(backoff*2, 5*time.Second)
				continue
			}
			backoff = 100 * time.Millisecond
			for _, s := range res {
				for _, m := range s.Messages {
					after = m.ID
					e, ok := decodeEvent(m)
					if !ok {
						log.WarnContext(ctx, "skipping undecodable progress entry", "id", m.ID)
						continue
					}
					select {
					case ch <- e:
					case <-ctx.Done():
						return
					}
					if e.Type.Terminal() {
						return
					}
				}
			}
		}
	}()
	return ch, nil
}

func decodeEvent(m redis.XMessage) (provision.ProgressEvent, bool) {
	var e provision.ProgressEvent
	raw, ok := m.Values["e"].(string)
	if !ok || json.Unmarshal([]byte(raw), &e) != nil {
		return e, false
	}
	e.ID = m.ID
	return e, true
}
