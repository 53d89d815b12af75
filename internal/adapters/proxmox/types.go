package proxmox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// number decodes a JSON number, a number written as a string ("1.5", as PVE
// sends cpus, vmid and nextid depending on version and config), or null.
type number float64

func (n *number) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(strings.TrimSpace(s))
	}
	if len(b) == 0 || string(b) == "null" {
		*n = 0
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("decoding number %q: %w", truncate(string(b), 40), err)
	}
	*n = number(f)
	return nil
}

func (n number) int() int       { return int(n) }
func (n number) uint64() uint64 { return uint64(max(n, 0)) }

// text decodes a JSON string or a number into a string (config values are
// either, depending on the key and PVE's mood).
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*t = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(s)
	default:
		*t = text(b)
	}
	return nil
}

// splitTags splits PVE's tag list (";" on output; "," and spaces are
// accepted on input too).
func splitTags(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || r == ' ' })
	if len(f) == 0 {
		return nil
	}
	return f
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Version is GET /version.
type Version struct {
	Version string `json:"version"` // 8.4.14
	Release string `json:"release"` // 8.4
	RepoID  string `json:"repoid"`
}

// NodeInfo is one entry of GET /nodes.
type NodeInfo struct {
	Name   string
	Status string // online, offline or unknown
	CPU    float64
	MaxCPU int
	Mem    uint64
	MaxMem uint64
	Uptime uint64
}

// Online reports whether the node answers.
func (n NodeInfo) Online() bool { return n.Status == "online" }

// StorageInfo is one entry of GET /nodes/{node}/storage.
type StorageInfo struct {
	Name    string
	Type    string   // dir, lvmthin, zfspool, ...
	Content []string // images, rootdir, vztmpl, iso, backup, ...
	Active  bool
	Enabled bool
	Shared  bool
	Total   uint64
	Used    uint64
	Avail   uint64
}

// Holds reports whether the storage accepts content type c.
func (s StorageInfo) Holds(c string) bool {
	for _, x := range s.Content {
		if x == c {
			return true
		}
	}
	return false
}

// OSTemplate is a vztmpl volume.
type OSTemplate struct {
	VolID   string // local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst
	Storage string
	Format  string // tzst, tgz, txz
	Size    uint64
}

// Name is the file name without the storage prefix.
func (t OSTemplate) Name() string {
	_, name, ok := strings.Cut(t.VolID, "vztmpl/")
	if !ok {
		return t.VolID
	}
	return name
}

// LiveStatus is a container's current state from status/current.
type LiveStatus struct {
	Status   string // running or stopped
	Name     string
	CPU      float64 // fraction of the container's CPUs in use (0.25 = 25 %)
	CPUs     float64
	Mem      uint64
	MaxMem   uint64
	Swap     uint64
	MaxSwap  uint64
	Disk     uint64
	MaxDisk  uint64
	Uptime   uint64 // seconds
	Tags     []string
	Lock     string // "" unless locked (create, backup, ...)
	Template bool
}

// Running reports whether the container runs.
func (s LiveStatus) Running() bool { return s.Status == "running" }

// Interface is one network interface of a running container.
type Interface struct {
	Name   string `json:"name"`
	HWAddr string `json:"hwaddr"`
	Inet   string `json:"inet"`  // 10.0.0.5/24; "" if none
	Inet6  string `json:"inet6"` // fe80::.../64; "" if none
}

// ContainerSummary is one entry of GET /nodes/{node}/lxc.
type ContainerSummary struct {
	Node     string
	VMID     int
	Name     string
	Status   string
	Tags     []string
	Template bool
	Lock     string
	CPUs     float64
	MaxMem   uint64
	MaxDisk  uint64
	Uptime   uint64
}

// ClusterContainer is an LXC entry of GET /cluster/resources?type=vm.
type ClusterContainer struct {
	Node     string
	VMID     int
	Name     string
	Status   string
	Tags     []string
	Template bool
}

// ContainerConfig is GET .../config with every value as text (numbers keep
// their literal form), e.g. "rootfs": "local-lvm:vm-101-disk-0,size=8G".
type ContainerConfig map[string]string

// raw wire shapes

type rawNode struct {
	Node   string `json:"node"`
	Status string `json:"status"`
	CPU    number `json:"cpu"`
	MaxCPU number `json:"maxcpu"`
	Mem    number `json:"mem"`
	MaxMem number `json:"maxmem"`
	Uptime number `json:"uptime"`
}

type rawStorage struct {
	Storage string `json:"storage"`
	Type    string `json:"type"`
	Content string `json:"content"`
	Active  number `json:"active"`
	Enabled number `json:"enabled"`
	Shared  number `json:"shared"`
	Total   number `json:"total"`
	Used    number `json:"used"`
	Avail   number `json:"avail"`
}

type rawVolume struct {
	VolID   string `json:"volid"`
	Content string `json:"content"`
	Format  string `json:"format"`
	Size    number `json:"size"`
}

type rawStatus struct {
	Status   string `json:"status"`
	Name     string `json:"name"`
	CPU      number `json:"cpu"`
	CPUs     number `json:"cpus"`
	MaxCPU   number `json:"maxcpu"` // cluster/resources says maxcpu where status/current says cpus
	Mem      number `json:"mem"`
	MaxMem   number `json:"maxmem"`
	Swap     number `json:"swap"`
	MaxSwap  number `json:"maxswap"`
	Disk     number `json:"disk"`
	MaxDisk  number `json:"maxdisk"`
	Uptime   number `json:"uptime"`
	Tags     string `json:"tags"`
	Lock     string `json:"lock"`
	Template number `json:"template"`
	VMID     number `json:"vmid"`
	Type     string `json:"type"`
	Node     string `json:"node"`
}

type rawResource struct {
	rawStatus
	ID string `json:"id"`
}

type rawTaskStatus struct {
	Status     string `json:"status"`
	ExitStatus string `json:"exitstatus"`
	Type       string `json:"type"`
	ID         text   `json:"id"`
}

type rawLogLine struct {
	N number `json:"n"`
	T string `json:"t"`
}
