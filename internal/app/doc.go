// Package app assembles lxcbot from its parts — store, queue, Proxmox and SSH
// clients, the provisioning engine, the command router and the chat adapters —
// and runs them as the serve, worker and demo commands.
package app
