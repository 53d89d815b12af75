// Package sshd is the simulator's per-node SSH server: it accepts password
// and public-key logins and runs exec requests as a Proxmox VE node would,
// parsing the command line once like the node's shell and handling `pct
// status`, `pct exec`, `pct push`, `pct pull`, `pct list` (when the Host is a
// ContainerLister), `pveversion` and a few file commands on a staging area
// (/tmp, /var/lib/lxcbot). Other pct verbs fail as unsupported. The SFTP
// subsystem is not simulated: stage files with `cat > /tmp/file` over stdin
// instead.
package sshd
