// Package simenv starts a whole simulated Proxmox VE cluster — the HTTPS API,
// one SSH server per node speaking pct, and an in-memory guest per container —
// for the pvesim command, the demo, end-to-end tests and benchmarks.
package simenv
