// Package discord is the Discord adapter: it registers the /lxc command
// from the neutral command table, receives interactions over HTTP (Ed25519
// verified) or the gateway, renders the core's responses as embeds,
// components and modals, and follows creation jobs by editing a message
// in place and posting into its thread.
package discord
