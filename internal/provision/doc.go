// Package provision is lxcbot's domain: templates, package buckets, nodes,
// containers and their creation pipeline, lifecycle actions, monitoring,
// authorization decisions and audit entries. It declares the small interfaces
// it needs (store, queue, Proxmox, host runner) and imports no platform,
// queue or database library.
package provision
