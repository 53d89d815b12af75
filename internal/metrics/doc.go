// Package metrics defines lxcbot's Prometheus metrics on a registry the caller
// owns, so two bots in one process (or parallel tests) never share counters.
package metrics
