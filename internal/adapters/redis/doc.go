// Package redisx keeps lxcbot's short-lived coordination state in Redis:
// per-container locks that say who holds them, the ordered progress stream of
// each creation job, and a first-claim-wins deduper for inbound deliveries.
package redisx
