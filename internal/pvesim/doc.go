// Package pvesim simulates a Proxmox VE 8.x cluster behind its HTTPS API,
// with the wire quirks real servers have, so the bot and the unmodified
// go-proxmox client can be tested end to end without Proxmox.
//
// New builds the cluster model (nodes, storages, templates, containers,
// UPID tasks); NewServer serves it over HTTPS (Start for a real listener,
// or use the Server as an http.Handler). Tests steer it with InjectFault,
// FailTask, SetNodeOnline and SetIgnoreShutdown, and check what happened
// with Counters and Requests. The SSH side plugs in through
// Options.NewRuntime and Cluster.Runtime.
package pvesim
