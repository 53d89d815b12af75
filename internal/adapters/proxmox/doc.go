// Package proxmox is lxcbot's client for the Proxmox VE API: node, storage
// and container queries, container creation and power actions with UPID task
// tracking, TLS certificate pinning, retries only where they are safe, and
// PVE's errors mapped onto the domain's (provision.ErrNotFound,
// ErrUnavailable, ...). It is built on go-proxmox, reading responses into its
// own structs where go-proxmox's types break on real data.
package proxmox
