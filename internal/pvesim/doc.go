// Package pvesim simulates a Proxmox VE 8.x cluster behind its HTTPS API,
// with the wire quirks real servers have, so the bot and the unmodified
// go-proxmox client can be tested end to end without Proxmox.
package pvesim
