package guest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"path"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// KernelRelease and KernelVersion are the kernel of the simulated Proxmox
// node, which its containers share (uname -r and uname -v inside a guest);
// they match the node status the simulated API reports.
const (
	KernelRelease = "6.8.12-15-pve"
	KernelVersion = "#1 SMP PREEMPT_DYNAMIC PMX 6.8.12-15 (2025-09-12T11:02Z)"
)

// Options tune the simulation rather than the container.
type Options struct {
	// SleepScale multiplies every `sleep`: 0 returns at once (fast tests),
	// 1 sleeps in real time. Sleeping always honours the context.
	SleepScale float64
	// Now is the clock for file times and journal lines; nil means time.Now.
	Now func() time.Time
}

// Config describes one container.
type Config struct {
	VMID       int
	Hostname   string
	OSTemplate string // e.g. "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
	Logger     *slog.Logger
	Options
}

// ExecRecord is one command the guest ran. Top is true for the argv given to
// Exec (what `pct exec` passed); nested records are the simple commands a
// script ran, after expansion, so tests can check arguments arrived literally.
type ExecRecord struct {
	Argv     []string
	ExitCode int
	Top      bool
}

// maxRecords bounds the command history kept per guest.
const maxRecords = 20000

type fault struct {
	match  string
	code   int
	stderr string
	once   bool
}

type user struct {
	name  string
	uid   int
	gid   int
	home  string
	shell string
}

// Guest is one simulated container: filesystem, users, packages, systemd
// units and network, plus the shell that runs commands inside it. It is safe
// for concurrent use.
type Guest struct {
	cfg Config
	log *slog.Logger
	now func() time.Time

	osID, osVersion, osCodename string

	mu       sync.Mutex
	fs       *memFS
	running  bool
	users    map[string]*user
	groups   map[string]int
	packages map[string]map[string]string // manager -> name -> version
	units    map[string]*unitState
	addr     netip.Prefix
	records  []ExecRecord
	faults   []fault
	nextPID  int
	bootedAt time.Time
	pg       *pgCluster // the PostgreSQL cluster, once postgresql is installed
}

// New builds a stopped container with a minimal Debian-like base system.
func New(cfg Config) *Guest {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Hostname == "" {
		cfg.Hostname = fmt.Sprintf("ct%d", cfg.VMID)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	g := &Guest{
		cfg:      cfg,
		log:      cfg.Logger.With("vmid", cfg.VMID),
		now:      now,
		fs:       newMemFS(now),
		users:    map[string]*user{},
		groups:   map[string]int{},
		packages: map[string]map[string]string{"apt": {}, "pip": {}, "npm": {}},
		units:    map[string]*unitState{},
		nextPID:  100,
	}
	g.osID, g.osVersion, g.osCodename = parseOSTemplate(cfg.OSTemplate)
	g.buildBase()
	return g
}

// VMID returns the container id.
func (g *Guest) VMID() int { return g.cfg.VMID }

// Hostname returns the container's host name.
func (g *Guest) Hostname() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if data, err := g.fs.readFile("/etc/hostname"); err == nil {
		if h := strings.TrimSpace(string(data)); h != "" {
			return h
		}
	}
	return g.cfg.Hostname
}

// OS returns the distribution id and version derived from the OS template.
func (g *Guest) OS() (id, version string) { return g.osID, g.osVersion }

func parseOSTemplate(t string) (id, version, codename string) {
	id, version = "debian", "12"
	if i := strings.LastIndexByte(t, '/'); i >= 0 {
		t = t[i+1:]
	}
	if i := strings.IndexByte(t, ':'); i >= 0 {
		t = t[i+1:]
	}
	parts := strings.Split(strings.SplitN(t, "_", 2)[0], "-")
	if len(parts) >= 2 && parts[0] != "" && parts[1] != "" {
		id, version = strings.ToLower(parts[0]), parts[1]
	}
	codenames := map[string]string{
		"debian/10": "buster", "debian/11": "bullseye", "debian/12": "bookworm", "debian/13": "trixie",
		"ubuntu/20.04": "focal", "ubuntu/22.04": "jammy", "ubuntu/24.04": "noble",
	}
	return id, version, codenames[id+"/"+version]
}

// SetRunning starts or stops the container. Starting brings up the system
// units and every enabled unit; stopping stops all units.
func (g *Guest) SetRunning(running bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if running == g.running {
		return
	}
	g.running = running
	if !running {
		for name, u := range g.units {
			if u.active {
				g.stopUnitLocked(name, u)
			}
		}
		return
	}
	g.bootedAt = g.now()
	for _, name := range sortedKeys(g.units) {
		if u := g.units[name]; u.enabled {
			_ = g.startUnitLocked(name)
		}
	}
}

// Running reports whether the container is started.
func (g *Guest) Running() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.running
}

// SetIP sets eth0's IPv4 address in CIDR form ("10.0.0.5/24"); an empty
// string removes it.
func (g *Guest) SetIP(cidr string) error {
	var p netip.Prefix
	if cidr != "" {
		var err error
		p, err = netip.ParsePrefix(cidr)
		if err != nil || !p.Addr().Is4() {
			return fmt.Errorf("setting ip of container %d: %q is not an IPv4 CIDR", g.cfg.VMID, cidr)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.addr = p
	return nil
}

// IP returns eth0's IPv4 address, if any.
func (g *Guest) IP() (netip.Addr, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.addr.Addr(), g.addr.IsValid()
}

// Commands returns every command run so far, oldest first.
func (g *Guest) Commands() []ExecRecord {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]ExecRecord, len(g.records))
	for i, r := range g.records {
		out[i] = ExecRecord{Argv: append([]string(nil), r.Argv...), ExitCode: r.ExitCode, Top: r.Top}
	}
	return out
}

func (g *Guest) record(argv []string, code int, top bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.records) >= maxRecords {
		g.records = append(g.records[:0], g.records[len(g.records)-maxRecords/2:]...)
	}
	g.records = append(g.records, ExecRecord{Argv: append([]string(nil), argv...), ExitCode: code, Top: top})
}

// FailCommand makes every command whose text (argv joined by spaces)
// contains match exit with exitCode after printing stderr, without running.
func (g *Guest) FailCommand(match string, exitCode int, stderr string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.faults = append(g.faults, fault{match: match, code: exitCode, stderr: stderr})
}

// FailCommandOnce is FailCommand for the next matching command only.
func (g *Guest) FailCommandOnce(match string, exitCode int, stderr string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.faults = append(g.faults, fault{match: match, code: exitCode, stderr: stderr, once: true})
}

// ClearFaults removes every FailCommand rule.
func (g *Guest) ClearFaults() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.faults = nil
}

func (g *Guest) fault(argv []string) (int, string, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.faults) == 0 {
		return 0, "", false
	}
	text := strings.Join(argv, " ")
	for i, f := range g.faults {
		if strings.Contains(text, f.match) {
			if f.once {
				g.faults = append(g.faults[:i], g.faults[i+1:]...)
			}
			return f.code, f.stderr, true
		}
	}
	return 0, "", false
}

// InstalledPackages lists the packages installed by a manager ("apt",
// "pip", "npm"), sorted.
func (g *Guest) InstalledPackages(manager string) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return sortedKeys(g.packages[manager])
}

// ---- files ----

// ReadFile returns a file's contents.
func (g *Guest) ReadFile(p string) ([]byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	data, err := g.fs.readFile(cleanPath("/", p))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: p, Err: err}
	}
	return data, nil
}

// WriteFile creates or replaces a file. owner is "user" or "user:group"
// (names or numeric ids); empty means root. The parent must exist.
func (g *Guest) WriteFile(p string, data []byte, mode fs.FileMode, owner string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	p = cleanPath("/", p)
	u, grp, err := g.resolveOwnerLocked(owner)
	if err != nil {
		return &fs.PathError{Op: "write", Path: p, Err: err}
	}
	if err := g.fs.writeFile(p, data, false, mode.Perm(), u, grp); err != nil {
		return &fs.PathError{Op: "write", Path: p, Err: err}
	}
	n := g.fs.nodes[p]
	n.mode, n.owner, n.group = mode.Perm(), u, grp
	return nil
}

// MkdirAll creates a directory and its parents, owned by root.
func (g *Guest) MkdirAll(p string, mode fs.FileMode) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.fs.mkdir(cleanPath("/", p), mode.Perm(), "root", "root", true); err != nil {
		return &fs.PathError{Op: "mkdir", Path: p, Err: err}
	}
	return nil
}

// Stat describes a path.
func (g *Guest) Stat(p string) (FileInfo, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	fi, err := g.fs.info(cleanPath("/", p))
	if err != nil {
		return FileInfo{}, &fs.PathError{Op: "stat", Path: p, Err: err}
	}
	return fi, nil
}

// Exists reports whether a path exists.
func (g *Guest) Exists(p string) bool {
	_, err := g.Stat(p)
	return err == nil
}

func (g *Guest) glob(cwd, pattern string) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.fs.glob(cwd, pattern)
}

// fileWriter appends every Write to a guest file at once, so a concurrent
// reader (tail, a later command) sees output as it is produced.
type fileWriter struct {
	g    *Guest
	path string
}

func (w *fileWriter) Write(p []byte) (int, error) {
	w.g.mu.Lock()
	defer w.g.mu.Unlock()
	if err := w.g.fs.writeFile(w.path, p, true, 0o644, "root", "root"); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (g *Guest) openWriter(p string, appendMode bool, owner string) (io.Writer, func(), error) {
	switch p {
	case "/dev/null", "/dev/zero", "/dev/urandom", "/dev/random":
		return io.Discard, func() {}, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	grp := owner
	if u, ok := g.users[owner]; ok {
		grp = g.groupNameLocked(u.gid)
	}
	if n, ok := g.fs.nodes[p]; ok && !n.dir && appendMode {
		return &fileWriter{g: g, path: p}, func() {}, nil
	}
	if err := g.fs.writeFile(p, nil, false, 0o644, owner, grp); err != nil {
		return nil, nil, err
	}
	return &fileWriter{g: g, path: p}, func() {}, nil
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func (g *Guest) openReader(p string) (io.Reader, error) {
	switch p {
	case "/dev/null":
		return strings.NewReader(""), nil
	case "/dev/urandom", "/dev/random":
		return rand.Reader, nil
	case "/dev/zero":
		return zeroReader{}, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	data, err := g.fs.readFile(p)
	if err != nil {
		return nil, err
	}
	return strings.NewReader(string(data)), nil
}

// ---- users ----

func (g *Guest) addUserLocked(name string, uid, gid int, home, shell string) {
	g.users[name] = &user{name: name, uid: uid, gid: gid, home: home, shell: shell}
	if _, ok := g.groups[name]; !ok && gid == uid {
		g.groups[name] = gid
	}
	g.writeAccountsLocked()
}

func (g *Guest) writeAccountsLocked() {
	var pw, gr strings.Builder
	users := make([]*user, 0, len(g.users))
	for _, n := range sortedKeys(g.users) {
		users = append(users, g.users[n])
	}
	sortBy(users, func(u *user) int { return u.uid })
	for _, u := range users {
		fmt.Fprintf(&pw, "%s:x:%d:%d:%s:%s:%s\n", u.name, u.uid, u.gid, u.name, u.home, u.shell)
	}
	names := sortedKeys(g.groups)
	sortBy(names, func(n string) int { return g.groups[n] })
	for _, n := range names {
		fmt.Fprintf(&gr, "%s:x:%d:\n", n, g.groups[n])
	}
	_ = g.fs.writeFile("/etc/passwd", []byte(pw.String()), false, 0o644, "root", "root")
	_ = g.fs.writeFile("/etc/group", []byte(gr.String()), false, 0o644, "root", "root")
}

func sortBy[T any](xs []T, key func(T) int) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && key(xs[j]) < key(xs[j-1]); j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

func (g *Guest) groupNameLocked(gid int) string {
	for n, id := range g.groups {
		if id == gid {
			return n
		}
	}
	return strconv.Itoa(gid)
}

func (g *Guest) lookupUserLocked(s string) (*user, bool) {
	if u, ok := g.users[s]; ok {
		return u, true
	}
	if id, err := strconv.Atoi(s); err == nil {
		for _, u := range g.users {
			if u.uid == id {
				return u, true
			}
		}
	}
	return nil, false
}

func (g *Guest) lookupGroupLocked(s string) (string, bool) {
	if _, ok := g.groups[s]; ok {
		return s, true
	}
	if id, err := strconv.Atoi(s); err == nil {
		for n, gid := range g.groups {
			if gid == id {
				return n, true
			}
		}
	}
	return "", false
}

// resolveOwnerLocked parses "user", "user:group", ":group" into names.
func (g *Guest) resolveOwnerLocked(owner string) (string, string, error) {
	if owner == "" {
		return "root", "root", nil
	}
	uname, gname, hasGroup := strings.Cut(owner, ":")
	uname = strings.TrimSpace(uname)
	userName, groupName := "root", "root"
	if uname != "" {
		u, ok := g.lookupUserLocked(uname)
		if !ok {
			return "", "", fmt.Errorf("invalid user: %q", uname)
		}
		userName, groupName = u.name, g.groupNameLocked(u.gid)
	}
	if hasGroup && gname != "" {
		n, ok := g.lookupGroupLocked(gname)
		if !ok {
			return "", "", fmt.Errorf("invalid group: %q", gname)
		}
		groupName = n
	}
	return userName, groupName, nil
}

// ---- exec ----

type syncWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (s syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (g *Guest) newShell() *shell {
	s := &shell{g: g, vars: map[string]*shVar{}, funcs: map[string]*funcDef{}, cwd: "/root",
		user: "root", steps: new(atomic.Int64), arg0: "bash"}
	for k, v := range map[string]string{
		"PATH":      "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME":      "/root",
		"container": "lxc",
	} {
		s.vars[k] = &shVar{val: v, exported: true}
	}
	return s
}

// Exec runs argv inside the container as `lxc-attach` would: argv[0] is a
// command (a builtin, or bash/sh with -c script), stdin is forwarded, and
// output is written as it is produced. It returns the exit status.
// Unsupported shell syntax exits 2 with "lxcbot-sim: unsupported: ..."
// on stderr; a cancelled ctx stops the command (exit 143).
func (g *Guest) Exec(ctx context.Context, argv []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	var mu sync.Mutex
	ios := ioSet{in: stdin, out: syncWriter{&mu, stdout}, err: syncWriter{&mu, stderr}}
	defer func() {
		if r := recover(); r != nil {
			g.log.Error("guest exec panicked", "argv", argv, "panic", r, "stack", string(debug.Stack()))
			fmt.Fprintf(ios.err, "lxcbot-sim: internal error: %v\n", r)
			code = 2
		}
		g.record(argv, code, true)
	}()
	if len(argv) == 0 {
		io.WriteString(ios.err, "missing command\n")
		return 255
	}
	if !g.Running() {
		fmt.Fprintf(ios.err, "container '%d' not running!\n", g.cfg.VMID)
		return 255
	}
	sh := g.newShell()
	st, err := sh.subshell(ctx, func() error {
		st, err := sh.invoke(ctx, argv, ios)
		sh.status = st
		return err
	})
	var ue *UnsupportedError
	switch {
	case err == nil:
		return st
	case errors.As(err, &ue):
		fmt.Fprintln(ios.err, ue.Error())
		return 2
	case ctx.Err() != nil:
		return 143
	default:
		g.log.Error("guest exec failed", "argv", argv, "err", err)
		fmt.Fprintf(ios.err, "lxcbot-sim: %v\n", err)
		return 2
	}
}

// sleep waits d scaled by SleepScale, or until ctx ends.
func (g *Guest) sleep(ctx context.Context, d time.Duration) error {
	d = time.Duration(float64(d) * g.cfg.SleepScale)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// commandAvailable reports whether a Go-implemented command exists in the
// guest: shell builtins always do; other commands need their file in a
// bin directory (packages such as python3-pip install pip that way).
func (g *Guest) commandAvailable(name string) bool {
	if shellBuiltins[name] {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, d := range []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"} {
		if n, ok := g.fs.nodes[path.Join(d, name)]; ok && !n.dir {
			return true
		}
	}
	return false
}
