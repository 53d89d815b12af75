// Package load drives signed Slack slash-command requests at a server over
// keep-alive connections and summarises their latency, for the ack benchmark.
package load
