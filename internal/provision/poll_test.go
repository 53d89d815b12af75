package provision

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestPollWaitsStartQuickAndBackOff: waits go 100, 200, 400 ms and then
// stay at the limit, so a 2 s wait with a 1 s limit takes six polls and
// ends less than one wait after it could have; a limit under 100 ms (the
// tests' timings) is used from the start.
func TestPollWaitsStartQuickAndBackOff(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	next := pollWaits(time.Second)
	var got []time.Duration
	for range 6 {
		got = append(got, next())
	}
	require.Equal(t, []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, time.Second, time.Second}, got)

	polls, at := 1, time.Duration(0)
	next = pollWaits(time.Second)
	for at < 2*time.Second {
		at += next()
		polls++
	}
	require.Equal(t, 6, polls, "0, 0.1, 0.3, 0.7, 1.5 and 2.5 s")

	fast := pollWaits(5 * ms)
	require.Equal(t, 5*ms, fast())
	require.Equal(t, 5*ms, fast())
}
