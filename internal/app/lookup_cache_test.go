package app

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type stepClock struct{ t time.Time }

func (c *stepClock) now() time.Time { return c.t }

// TestLookupCacheKeepsAnswersForItsTTL: a second lookup within the ttl is
// answered without loading; after the ttl, or after invalidate, it loads
// again; errors are never kept.
func TestLookupCacheKeepsAnswersForItsTTL(t *testing.T) {
	t.Parallel()
	clock := &stepClock{t: time.Unix(1000, 0)}
	c := newLookupCache[string, int](5*time.Second, clock.now)
	loads := 0
	load := func() (int, error) { loads++; return loads, nil }

	v, err := c.get("u", load)
	require.NoError(t, err)
	require.Equal(t, 1, v)
	clock.t = clock.t.Add(4 * time.Second)
	v, _ = c.get("u", load)
	require.Equal(t, 1, v, "cached within the ttl")
	v, _ = c.get("other", load)
	require.Equal(t, 2, v, "keys are cached apart")

	clock.t = clock.t.Add(time.Second)
	v, _ = c.get("u", load)
	require.Equal(t, 3, v, "expired at the ttl")

	c.invalidate()
	v, _ = c.get("u", load)
	require.Equal(t, 4, v, "invalidate forgets")

	fail := func() (int, error) { return 0, errors.New("down") }
	c.invalidate()
	_, err = c.get("u", fail)
	require.Error(t, err)
	v, _ = c.get("u", load)
	require.Equal(t, 5, v, "an error is not cached")
}

// TestLookupCacheDropsALoadThatRacedAnInvalidate: a load that was in
// flight when the data changed is answered but not kept.
func TestLookupCacheDropsALoadThatRacedAnInvalidate(t *testing.T) {
	t.Parallel()
	clock := &stepClock{t: time.Unix(1000, 0)}
	c := newLookupCache[string, string](time.Minute, clock.now)
	v, _ := c.get("u", func() (string, error) {
		c.invalidate() // a grant landing while the old role was read
		return "old", nil
	})
	require.Equal(t, "old", v)
	v, _ = c.get("u", func() (string, error) { return "new", nil })
	require.Equal(t, "new", v)
}
