package app

import (
	"sync"
	"time"
)

// lookupCache keeps the answers of role and channel-binding lookups for a
// few seconds, so that a burst of commands does not read the same rows from
// Postgres once per command. This process clears it whenever it changes a
// role or a binding itself; a change made by another replica (or the CLI)
// is seen once the entry expires, so ttl is how stale an answer can be.
type lookupCache[K comparable, V any] struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[K]cached[V]
	gen     uint64 // bumped by invalidate
}

type cached[V any] struct {
	v       V
	expires time.Time
}

// lookupCacheMax bounds the entries kept; past it the cache starts over.
const lookupCacheMax = 10000

func newLookupCache[K comparable, V any](ttl time.Duration, now func() time.Time) *lookupCache[K, V] {
	return &lookupCache[K, V]{ttl: ttl, now: now, entries: map[K]cached[V]{}}
}

// get returns the cached value of k, or calls load and caches its answer.
// Errors are not cached. A load that overlapped an invalidate is returned
// but not kept: it may have read what the change replaced.
func (c *lookupCache[K, V]) get(k K, load func() (V, error)) (V, error) {
	if c.ttl <= 0 {
		return load()
	}
	c.mu.Lock()
	if e, ok := c.entries[k]; ok && c.now().Before(e.expires) {
		c.mu.Unlock()
		return e.v, nil
	}
	gen := c.gen
	c.mu.Unlock()
	v, err := load()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if len(c.entries) >= lookupCacheMax {
			clear(c.entries)
		}
		c.entries[k] = cached[V]{v: v, expires: c.now().Add(c.ttl)}
	}
	c.mu.Unlock()
	return v, nil
}

// invalidate forgets every entry (and any load in flight).
func (c *lookupCache[K, V]) invalidate() {
	c.mu.Lock()
	clear(c.entries)
	c.gen++
	c.mu.Unlock()
}
