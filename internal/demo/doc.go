// Package demo prepares lxcbot's embedded default: a throwaway Postgres from
// the system binaries, an embedded Redis, a simulated two-node Proxmox VE
// cluster, and a configuration that points the bot at all three.
package demo
