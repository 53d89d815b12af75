package pvesim

import (
	"crypto/sha1" //nolint:gosec // PVE's config digest is SHA-1; not used for security here.
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	statusRunning = "running"
	statusStopped = "stopped"
)

// Cluster is the simulated Proxmox VE cluster: nodes with storages and
// bridges, containers, tasks, injected faults and a record of requests.
// All methods are safe for concurrent use.
type Cluster struct {
	opts Options
	log  *slog.Logger

	mu         sync.Mutex
	nodes      []*simNode
	byName     map[string]*simNode
	containers map[int]*container
	tasks      map[string]*task
	rng        *rand.Rand
	nextPID    int
	closed     bool
	timers     map[*time.Timer]struct{}
	macs       map[string]bool

	faults     []*faultState
	taskFaults []*TaskFault
	requests   []Request
	counters   Counters
}

type simNode struct {
	name     string
	index    int
	online   bool
	bootTime time.Time
	leases   int
	tasks    []*task
}

type container struct {
	vmid           int
	node           *simNode
	conf           map[string]string
	ostemplate     string
	status         string
	lock           string
	startedAt      time.Time
	pid            int
	ips            map[string]string // net key -> address/prefix once assigned
	ignoreShutdown bool
	runtime        Runtime
}

// ContainerInfo is a snapshot of one container for the SSH side and tests.
type ContainerInfo struct {
	VMID       int
	Node       string
	Hostname   string
	Status     string // "running" or "stopped"
	IP         string // IPv4 address of net0 without prefix, empty when none
	CIDR       string // IPv4 address of net0 with prefix
	OSTemplate string
	Tags       []string
	Locked     string
}

// New builds a cluster from opts.
func New(opts Options) *Cluster {
	opts = opts.withDefaults()
	c := &Cluster{
		opts:       opts,
		log:        opts.Logger.With("component", "pvesim"),
		byName:     map[string]*simNode{},
		containers: map[int]*container{},
		tasks:      map[string]*task{},
		rng:        rand.New(rand.NewPCG(uint64(opts.Seed), 0x6c786362)),
		timers:     map[*time.Timer]struct{}{},
		macs:       map[string]bool{},
		counters:   newCounters(),
	}
	c.nextPID = 100000 + c.rng.IntN(100000)
	now := time.Now()
	for i := 1; i <= opts.Nodes; i++ {
		n := &simNode{name: fmt.Sprintf("pve%d", i), index: i, online: true, bootTime: now.Add(-time.Duration(86400+i*3600) * time.Second)}
		c.nodes = append(c.nodes, n)
		c.byName[n.name] = n
	}
	return c
}

// Close stops pending asynchronous tasks. Tasks still running stay running.
func (c *Cluster) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for t := range c.timers {
		t.Stop()
	}
	clear(c.timers)
}

// Options returns the effective options (defaults filled in).
func (c *Cluster) Options() Options { return c.opts }

// NodeNames lists the node names in order.
func (c *Cluster) NodeNames() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.nodes))
	for _, n := range c.nodes {
		out = append(out, n.name)
	}
	return out
}

// SetNodeOnline takes a node offline (API calls proxied to it answer 595,
// cluster views mark it offline) or brings it back.
func (c *Cluster) SetNodeOnline(node string, online bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.byName[node]
	if !ok {
		return fmt.Errorf("unknown node %q", node)
	}
	n.online = online
	c.log.Info("node state changed", "node", node, "online", online)
	return nil
}

// SetIgnoreShutdown makes a container ignore clean shutdown requests, so a
// shutdown times out (and only forceStop stops it).
func (c *Cluster) SetIgnoreShutdown(vmid int, ignore bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ct, ok := c.containers[vmid]
	if !ok {
		return fmt.Errorf("unknown container %d", vmid)
	}
	ct.ignoreShutdown = ignore
	return nil
}

// Container returns a snapshot of the container vmid on node.
func (c *Cluster) Container(node string, vmid int) (ContainerInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ct, ok := c.containers[vmid]
	if !ok || ct.node.name != node {
		return ContainerInfo{}, false
	}
	return ct.info(), true
}

// FindContainer returns the node that holds vmid.
func (c *Cluster) FindContainer(vmid int) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ct, ok := c.containers[vmid]
	if !ok {
		return "", false
	}
	return ct.node.name, true
}

// Containers returns snapshots of all containers on node ("" for all),
// ordered by vmid.
func (c *Cluster) Containers(node string) []ContainerInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []ContainerInfo
	for _, ct := range c.sortedContainers() {
		if node == "" || ct.node.name == node {
			out = append(out, ct.info())
		}
	}
	return out
}

// Runtime returns the runtime of container vmid (created by
// Options.NewRuntime once the create task succeeded).
func (c *Cluster) Runtime(vmid int) (Runtime, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ct, ok := c.containers[vmid]
	if !ok || ct.runtime == nil {
		return nil, false
	}
	return ct.runtime, true
}

func (ct *container) info() ContainerInfo {
	info := ContainerInfo{
		VMID:       ct.vmid,
		Node:       ct.node.name,
		Hostname:   ct.conf["hostname"],
		Status:     ct.status,
		OSTemplate: ct.ostemplate,
		Tags:       splitTags(ct.conf["tags"]),
		Locked:     ct.lock,
	}
	if cidr := ct.ips["net0"]; cidr != "" {
		info.CIDR = cidr
		info.IP, _, _ = strings.Cut(cidr, "/")
	}
	return info
}

func (c *Cluster) sortedContainers() []*container {
	out := make([]*container, 0, len(c.containers))
	for _, ct := range c.containers {
		out = append(out, ct)
	}
	slices.SortFunc(out, func(a, b *container) int { return a.vmid - b.vmid })
	return out
}

// nextFreeID returns the lowest unused vmid from 100 on.
func (c *Cluster) nextFreeID() int {
	for id := 100; ; id++ {
		if _, used := c.containers[id]; !used {
			return id
		}
	}
}

func (c *Cluster) newPID() int {
	c.nextPID += 1 + c.rng.IntN(40)
	return c.nextPID
}

// newMAC returns a unique MAC address with Proxmox's default BC:24:11 prefix.
func (c *Cluster) newMAC() string {
	for {
		mac := fmt.Sprintf("BC:24:11:%02X:%02X:%02X", c.rng.IntN(256), c.rng.IntN(256), c.rng.IntN(256))
		if !c.macs[mac] {
			c.macs[mac] = true
			return mac
		}
	}
}

// lease hands out the next deterministic DHCP address on node n.
func (c *Cluster) lease(n *simNode) string {
	i := n.leases
	n.leases++
	return fmt.Sprintf("10.%d.%d.%d/24", 10+i/250, n.index, 2+i%250)
}

// configDigest mimics PVE's SHA-1 digest over the config file text.
func configDigest(conf map[string]string) string {
	keys := make([]string, 0, len(conf))
	for k := range conf {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := sha1.New() //nolint:gosec // see import comment.
	for _, k := range keys {
		fmt.Fprintf(h, "%s: %s\n", k, conf[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// diskSize parses the size=... of a volume string into bytes.
func diskSize(vol string) int64 {
	kv, err := parsePropertyString(vol, "volume")
	if err != nil {
		return 0
	}
	return parseSize(kv["size"])
}

func parseSize(s string) int64 {
	if s == "" {
		return 0
	}
	mult := int64(1)
	switch s[len(s)-1] {
	case 'K':
		mult = 1 << 10
	case 'M':
		mult = 1 << 20
	case 'G':
		mult = 1 << 30
	case 'T':
		mult = 1 << 40
	}
	if mult != 1 {
		s = s[:len(s)-1]
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return int64(f * float64(mult))
}

func (ct *container) intConf(key string, def int64) int64 {
	v, ok := ct.conf[key]
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return def
	}
	return n
}

// netKeys returns the container's netN keys in index order.
func (ct *container) netKeys() []string {
	var keys []string
	for k := range ct.conf {
		if strings.HasPrefix(k, "net") && indexedParam.MatchString(k) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b string) int {
		x, _ := strconv.Atoi(a[3:])
		y, _ := strconv.Atoi(b[3:])
		return x - y
	})
	return keys
}
