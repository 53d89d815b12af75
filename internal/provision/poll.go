package provision

import "time"

// pollFirst is the first wait of a polling loop: most waits in the pipeline
// (an address from DHCP, a filesystem after start) end within a second or
// two, so the first looks come quickly and later ones back off.
const pollFirst = 100 * time.Millisecond

// pollWaits returns successive waits between polls: pollFirst (or limit if
// smaller), doubling up to limit.
func pollWaits(limit time.Duration) func() time.Duration {
	wait := min(pollFirst, limit)
	return func() time.Duration {
		w := wait
		wait = min(2*wait, limit)
		return w
	}
}
