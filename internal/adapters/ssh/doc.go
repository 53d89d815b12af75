// Package ssh runs pct on Proxmox VE nodes over SSH: commands inside a
// container (pct exec), file pushes (pct push) and container status
// (pct status), with pinned host keys, POSIX-quoted arguments, live output
// streaming and a bounded, reconnecting connection per node.
package ssh
