package slack

import (
	"context"
	"sync"
	"time"
)

// Deduper claims an inbound delivery the first time it is seen, so that
// retries and double clicks do one piece of work. The Redis deduper
// (internal/adapters/redis) satisfies it; MemDeduper serves a single process.
type Deduper interface {
	Claim(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// MemDeduper is an in-process Deduper for one replica and tests.
type MemDeduper struct {
	mu   sync.Mutex
	seen map[string]time.Time
	now  func() time.Time
	// sweepAt is the size at which expired keys are next swept out. It
	// doubles with the live keys, so a map of unexpired keys is not scanned
	// on every claim.
	sweepAt int
}

const minSweep = 10000

// NewMemDeduper returns an empty MemDeduper.
func NewMemDeduper() *MemDeduper {
	return &MemDeduper{seen: map[string]time.Time{}, now: time.Now, sweepAt: minSweep}
}

// Claim reports whether key is seen for the first time within ttl.
func (d *MemDeduper) Claim(_ context.Context, key string, ttl time.Duration) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	if exp, ok := d.seen[key]; ok && now.Before(exp) {
		return false, nil
	}
	if len(d.seen) >= d.sweepAt {
		for k, exp := range d.seen {
			if !now.Before(exp) {
				delete(d.seen, k)
			}
		}
		d.sweepAt = max(minSweep, 2*len(d.seen))
	}
	d.seen[key] = now.Add(ttl)
	return true, nil
}
