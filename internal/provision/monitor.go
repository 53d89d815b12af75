package provision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LiveStatus is a container's state on Proxmox now, as the chat shows it.
type LiveStatus struct {
	Status    string // running, stopped, unknown
	CPU       float64
	CPUs      int
	MemUsed   uint64 // bytes
	MemTotal  uint64
	DiskUsed  uint64
	DiskTotal uint64
	Uptime    time.Duration
	IP        string
}

// CPUPercent is the CPU use in percent of the allocated cores.
func (s LiveStatus) CPUPercent() float64 { return s.CPU * 100 }

func liveFrom(g GuestStatus, ip string) LiveStatus {
	return LiveStatus{Status: g.Status, CPU: g.CPU, CPUs: g.CPUs, MemUsed: g.MemUsed, MemTotal: g.MemTotal,
		DiskUsed: g.DiskUsed, DiskTotal: g.DiskTotal, Uptime: g.Uptime, IP: ip}
}

// ContainerView is a record with its live state.
type ContainerView struct {
	Container Container
	Live      LiveStatus
	// Problem says why Live is unknown ("node unreachable", "not found on
	// Proxmox"); safe to show. Empty when Live is current.
	Problem string
	Age     time.Duration
}

// ContainerQuery selects container records.
type ContainerQuery struct {
	Node  string
	State State      // "" = every state except deleted and gone
	Owner *Principal // nil = anyone's
	Limit int        // 0 = no limit
	// Offset skips the newest Offset records.
	Offset int
}

// ContainerLister lists container records, newest first. internal/store's
// ListContainers takes the store's own filter type, so the wiring adapts it
// with ContainerListerFunc.
type ContainerLister interface {
	ListContainers(ctx context.Context, q ContainerQuery) ([]Container, error)
}

// ContainerListerFunc adapts a function to ContainerLister.
type ContainerListerFunc func(ctx context.Context, q ContainerQuery) ([]Container, error)

// ListContainers calls f.
func (f ContainerListerFunc) ListContainers(ctx context.Context, q ContainerQuery) ([]Container, error) {
	return f(ctx, q)
}

// MonitorStore is what monitoring reads from the system of record.
type MonitorStore interface {
	GetContainer(ctx context.Context, id string) (Container, error)
	FindContainer(ctx context.Context, ref string) (Container, error)
	ListEvents(ctx context.Context, containerID string, types []EventType, limit int) ([]Event, error)
	ListServices(ctx context.Context, containerID string) ([]Service, error)
	ReplaceServices(ctx context.Context, containerID string, services []Service) error
	ListCredentials(ctx context.Context, containerID, service string) ([]Credential, error)
	ReplaceCredentials(ctx context.Context, containerID string, creds []Credential) error
}

// DiscoverFunc discovers the services and credentials of a running
// container through its node.
type DiscoverFunc func(ctx context.Context, host HostRunner, c Container) ([]Service, []Credential, error)

// MonitorConfig tunes monitoring. Zero values take the defaults.
type MonitorConfig struct {
	// NodeConcurrency bounds how many nodes List asks at once (default 4).
	NodeConcurrency int
	// NodeTimeout bounds one node's answer (default 10s): a slow node makes
	// its containers "unknown" rather than holding up the list.
	NodeTimeout time.Duration
	// DefaultPageSize is List's page size when the filter names none
	// (default 20).
	DefaultPageSize int
}

// MonitorDeps are Monitor's collaborators.
type MonitorDeps struct {
	Store      MonitorStore
	Containers ContainerLister
	Nodes      NodeAPIs
	// Discover re-runs service discovery for Services(refresh=true); nil
	// uses the creation pipeline's discovery.
	Discover DiscoverFunc
	Clock    Clock        // nil = SystemClock
	Log      *slog.Logger // nil = discard
	Config   MonitorConfig
}

// Monitor answers questions about containers: live status, lists, services,
// logs, credentials and timelines. It does not authorise.
type Monitor struct {
	store    MonitorStore
	list     ContainerLister
	nodes    NodeAPIs
	discover DiscoverFunc
	clock    Clock
	log      *slog.Logger
	cfg      MonitorConfig
}

// NewMonitor builds a Monitor.
func NewMonitor(d MonitorDeps) *Monitor {
	m := &Monitor{store: d.Store, list: d.Containers, nodes: d.Nodes, discover: d.Discover,
		clock: d.Clock, log: d.Log, cfg: d.Config}
	if m.clock == nil {
		m.clock = SystemClock{}
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.discover == nil {
		m.discover = pipelineDiscovery
	}
	if m.cfg.NodeConcurrency <= 0 {
		m.cfg.NodeConcurrency = 4
	}
	if m.cfg.NodeTimeout <= 0 {
		m.cfg.NodeTimeout = 10 * time.Second
	}
	if m.cfg.DefaultPageSize <= 0 {
		m.cfg.DefaultPageSize = 20
	}
	return m
}

// Problems shown when live state is missing.
const (
	ProblemNodeUnreachable = "node unreachable"
	ProblemNotOnProxmox    = "not found on Proxmox"
)

// Show returns one container with its live state. When its node does not
// answer, the view carries the record and Problem "node unreachable"
// instead of failing.
func (m *Monitor) Show(ctx context.Context, ref string) (*ContainerView, error) {
	c, err := resolveContainerRef(ctx, m.store, ref)
	if err != nil {
		return nil, err
	}
	v := &ContainerView{Container: c, Age: m.clock.Now().Sub(c.CreatedAt), Live: LiveStatus{Status: StatusUnknown, IP: c.IP}}
	if c.VMID == 0 || !onProxmox(c.State) {
		return v, nil
	}
	api, err := m.nodes.NodeAPI(ctx, c.NodeName)
	if err != nil {
		m.log.InfoContext(ctx, "node client unavailable", "node", c.NodeName, "err", err)
		v.Problem = ProblemNodeUnreachable
		return v, nil
	}
	nctx, cancel := context.WithTimeout(ctx, m.cfg.NodeTimeout)
	defer cancel()
	g, err := api.GuestStatus(nctx, c.NodeName, c.VMID)
	switch {
	case errors.Is(err, ErrNotFound):
		v.Problem = ProblemNotOnProxmox
		return v, nil
	case err != nil:
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		m.log.InfoContext(ctx, "reading live status failed", "container", c.ID, "node", c.NodeName, "err", err)
		v.Problem = ProblemNodeUnreachable
		return v, nil
	}
	v.Live = liveFrom(g, c.IP)
	if g.Status == StatusRunning && c.IP == "" {
		if ifs, err := api.Interfaces(nctx, c.NodeName, c.VMID); err == nil {
			v.Live.IP = firstIPv4Addr(ifs)
		}
	}
	return v, nil
}

// onProxmox reports whether a container in state s should exist on Proxmox.
func onProxmox(s State) bool {
	switch s {
	case StateReady, StateFailed, StateCreating, StateDeleting:
		return true
	}
	return false
}

func firstIPv4Addr(ifs []NetInterface) string {
	for _, i := range ifs {
		if i.Name == "lo" {
			continue
		}
		for _, a := range i.IPv4 {
			ip, _, _ := strings.Cut(a, "/")
			if ip != "" && ip != "127.0.0.1" {
				return ip
			}
		}
	}
	return ""
}

// ListFilter selects containers for List. Page is 1-based.
type ListFilter struct {
	Node     string
	State    State
	Owner    *Principal
	Page     int
	PageSize int
}

// ListPage is one page of containers with their live state.
type ListPage struct {
	Items    []ContainerView
	Page     int
	PageSize int
	More     bool // a next page exists
	// Unreachable lists the nodes that did not answer; their containers
	// show status unknown.
	Unreachable []string
}

// List returns one page of containers, newest first, with live state read
// once per node (concurrently, bounded). A node that does not answer marks
// its containers unknown; the others still list.
func (m *Monitor) List(ctx context.Context, f ListFilter) (*ListPage, error) {
	size := f.PageSize
	if size <= 0 {
		size = m.cfg.DefaultPageSize
	}
	page := max(f.Page, 1)
	cs, err := m.list.ListContainers(ctx, ContainerQuery{Node: f.Node, State: f.State, Owner: f.Owner,
		Limit: size + 1, Offset: (page - 1) * size})
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	out := &ListPage{Page: page, PageSize: size}
	if len(cs) > size {
		out.More = true
		cs = cs[:size]
	}
	items, unreachable, err := m.Live(ctx, cs)
	if err != nil {
		return nil, err
	}
	out.Items, out.Unreachable = items, unreachable
	return out, nil
}

// Live reads the live state of containers with one request per node
// (concurrently, bounded), never one per container. A node that does not
// answer marks its containers unreachable and is listed in unreachable.
func (m *Monitor) Live(ctx context.Context, cs []Container) (items []ContainerView, unreachableNodes []string, err error) {
	nodes := map[string]bool{}
	for _, c := range cs {
		if c.VMID != 0 && onProxmox(c.State) {
			nodes[c.NodeName] = true
		}
	}
	live, unreachable := m.guestsByNode(ctx, nodes)
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	now := m.clock.Now()
	for _, c := range cs {
		v := ContainerView{Container: c, Age: now.Sub(c.CreatedAt), Live: LiveStatus{Status: StatusUnknown, IP: c.IP}}
		if c.VMID != 0 && onProxmox(c.State) {
			if unreachable[c.NodeName] {
				v.Problem = ProblemNodeUnreachable
			} else if g, ok := live[c.NodeName][c.VMID]; ok {
				v.Live = liveFrom(g, c.IP)
			} else {
				v.Problem = ProblemNotOnProxmox
			}
		}
		items = append(items, v)
	}
	for n := range unreachable {
		unreachableNodes = append(unreachableNodes, n)
	}
	slices.Sort(unreachableNodes)
	return items, unreachableNodes, nil
}

// guestsByNode asks each node for its guests, at most NodeConcurrency at a
// time.
func (m *Monitor) guestsByNode(ctx context.Context, nodes map[string]bool) (map[string]map[int]GuestStatus, map[string]bool) {
	var (
		mu          sync.Mutex
		wg          sync.WaitGroup
		live        = map[string]map[int]GuestStatus{}
		unreachable = map[string]bool{}
		sem         = make(chan struct{}, m.cfg.NodeConcurrency)
	)
	for node := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			gs, err := m.nodeGuests(ctx, node)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				m.log.InfoContext(ctx, "node did not answer", "node", node, "err", err)
				unreachable[node] = true
				return
			}
			byVMID := make(map[int]GuestStatus, len(gs))
			for _, g := range gs {
				byVMID[g.VMID] = g
			}
			live[node] = byVMID
		}()
	}
	wg.Wait()
	return live, unreachable
}

func (m *Monitor) nodeGuests(ctx context.Context, node string) (gs []GuestStatus, err error) {
	defer func() {
		// A panic in a client must not take the whole list down.
		if r := recover(); r != nil {
			err = fmt.Errorf("reading guests of %s: panic: %v", node, r)
		}
	}()
	api, err := m.nodes.NodeAPI(ctx, node)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.NodeTimeout)
	defer cancel()
	gs, err = api.NodeGuests(ctx, node)
	if err != nil {
		return nil, err
	}
	for _, g := range gs {
		if g.Status == StatusUnknown {
			// The cluster answers for an offline node with status unknown.
			return nil, fmt.Errorf("node %s is offline: %w", node, ErrUnavailable)
		}
	}
	return gs, nil
}

// Services lists the container's discovered services, application services
// first. refresh re-runs discovery inside the container first (it must be
// running) and stores the result.
func (m *Monitor) Services(ctx context.Context, ref string, refresh bool) ([]Service, error) {
	c, err := resolveContainerRef(ctx, m.store, ref)
	if err != nil {
		return nil, err
	}
	if refresh {
		if err := m.rediscover(ctx, c); err != nil {
			return nil, err
		}
	}
	svcs, err := m.store.ListServices(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("listing services of %s: %w", c.Hostname, err)
	}
	SortServices(svcs)
	return svcs, nil
}

// SortServices puts application services first, then system services, each
// by unit name.
func SortServices(svcs []Service) {
	slices.SortStableFunc(svcs, func(a, b Service) int {
		ra, rb := 1, 1
		if a.Kind == ServiceApplication {
			ra = 0
		}
		if b.Kind == ServiceApplication {
			rb = 0
		}
		if ra != rb {
			return ra - rb
		}
		switch {
		case a.Unit < b.Unit:
			return -1
		case a.Unit > b.Unit:
			return 1
		}
		return 0
	})
}

// pipelineDiscovery runs the discovery the creation pipeline ends with.
func pipelineDiscovery(ctx context.Context, host HostRunner, c Container) ([]Service, []Credential, error) {
	d, err := discoverIn(ctx, host, c.ID, c.VMID, c.IP)
	if err != nil {
		return nil, nil, err
	}
	return d.Services, d.Credentials, nil
}

func (m *Monitor) rediscover(ctx context.Context, c Container) error {
	if c.State != StateReady {
		return Userf(ErrConflict, "%s is %s: services can be refreshed only on a ready container", c.Hostname, c.State)
	}
	host, err := m.nodes.Host(ctx, c.NodeName)
	if err != nil {
		return fmt.Errorf("refreshing services of %s: connecting to node %s: %w", c.Hostname, c.NodeName, err)
	}
	svcs, creds, err := m.discover(ctx, host, c)
	if err != nil {
		return fmt.Errorf("refreshing services of %s: %w", c.Hostname, err)
	}
	if err := m.store.ReplaceServices(ctx, c.ID, svcs); err != nil {
		return fmt.Errorf("refreshing services of %s: %w", c.Hostname, err)
	}
	if creds != nil {
		if err := m.store.ReplaceCredentials(ctx, c.ID, creds); err != nil {
			return fmt.Errorf("refreshing credentials of %s: %w", c.Hostname, err)
		}
	}
	return nil
}

// Log line bounds.
const (
	DefaultLogLines = 50
	MaxLogLines     = 500
)

// unitRE accepts systemd unit names (with an optional type suffix) and
// nothing a shell or journalctl could read as an option or a pattern.
var unitRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@:\\-]{0,199}$`)

// ValidUnit reports whether s is an acceptable systemd unit name.
func ValidUnit(s string) bool { return unitRE.MatchString(s) }

// Logs returns the last lines of the unit's journal (journalctl -u unit -n
// lines --no-pager). lines 0 means DefaultLogLines; it must be 1..500.
func (m *Monitor) Logs(ctx context.Context, ref, unit string, lines int) (string, error) {
	if !ValidUnit(unit) {
		return "", Userf(ErrInvalid, "%q is not a service name: use one from /lxc services", unit)
	}
	if lines == 0 {
		lines = DefaultLogLines
	}
	if lines < 1 || lines > MaxLogLines {
		return "", Userf(ErrInvalid, "lines must be between 1 and %d", MaxLogLines)
	}
	c, err := resolveContainerRef(ctx, m.store, ref)
	if err != nil {
		return "", err
	}
	if c.State != StateReady && c.State != StateFailed || c.VMID == 0 {
		return "", Userf(ErrConflict, "%s is %s: logs can be read only from a container that exists", c.Hostname, c.State)
	}
	host, err := m.nodes.Host(ctx, c.NodeName)
	if err != nil {
		return "", fmt.Errorf("reading logs of %s: connecting to node %s: %w", c.Hostname, c.NodeName, err)
	}
	res, err := host.Exec(ctx, c.VMID, []string{"journalctl", "-u", unit, "-n", strconv.Itoa(lines), "--no-pager"}, ExecOptions{})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return "", Userf(ErrNotFound, "CT %d no longer exists on %s", c.VMID, c.NodeName)
		}
		return "", fmt.Errorf("reading logs of %s in %s: %w", unit, c.Hostname, err)
	}
	if res.ExitCode != 0 {
		return "", Userf(ErrUnavailable, "journalctl in %s exited with status %d: is the container running? (%s)",
			c.Hostname, res.ExitCode, firstLine(res.Stderr))
	}
	return res.Stdout, nil
}

func firstLine(s string) string {
	if i, _, ok := strings.Cut(s, "\n"); ok {
		s = i
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// Credentials returns the container's saved credentials, decrypted, for
// one service ("" = all). The caller shows them only ephemerally and audits
// the reveal.
func (m *Monitor) Credentials(ctx context.Context, ref, service string) ([]Credential, error) {
	c, err := resolveContainerRef(ctx, m.store, ref)
	if err != nil {
		return nil, err
	}
	creds, err := m.store.ListCredentials(ctx, c.ID, service)
	if err != nil {
		return nil, fmt.Errorf("reading credentials of %s: %w", c.Hostname, err)
	}
	return creds, nil
}

// Events returns the container's timeline, oldest first, filtered by types
// (nil = all); limit > 0 keeps the latest limit entries.
func (m *Monitor) Events(ctx context.Context, ref string, types []EventType, limit int) ([]Event, error) {
	c, err := resolveContainerRef(ctx, m.store, ref)
	if err != nil {
		return nil, err
	}
	evs, err := m.store.ListEvents(ctx, c.ID, types, limit)
	if err != nil {
		return nil, fmt.Errorf("reading events of %s: %w", c.Hostname, err)
	}
	return evs, nil
}
