// Package nodepool turns node records into cached Proxmox API clients and SSH
// runners, pinned to the certificate and host key an admin confirmed, and
// probes and tests nodes before they are saved.
package nodepool
