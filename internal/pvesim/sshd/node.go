package sshd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lxcbot/lxcbot/internal/pvesim/guest"
)

// maxStagedFile bounds one file staged on the node.
const maxStagedFile = 64 << 20

// stagingRoots are the only node directories the simulator models.
var stagingRoots = []string{"/tmp/", "/var/lib/lxcbot/"}

// stagingFS is the node's own filesystem, reduced to the staging areas.
type stagingFS struct {
	mu    sync.Mutex
	files map[string][]byte
}

func newStagingFS() *stagingFS { return &stagingFS{files: map[string][]byte{}} }

func allowedNodePath(p string) (string, bool) {
	if !strings.HasPrefix(p, "/") {
		p = "/root/" + p
	}
	p = path.Clean(p)
	for _, r := range stagingRoots {
		if strings.HasPrefix(p+"/", r) {
			return p, true
		}
	}
	return p, false
}

func (f *stagingFS) read(p string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.files[path.Clean(p)]
	return append([]byte(nil), d...), ok
}

func (f *stagingFS) write(p string, data []byte, appendData bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if appendData {
		f.files[p] = append(f.files[p], data...)
		return
	}
	f.files[p] = data
}

func (f *stagingFS) remove(p string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.files[p]
	delete(f.files, p)
	return ok
}

// nodeShell runs one exec request the way the node's login shell and pct
// would.
type nodeShell struct {
	srv            *Server
	stdin          io.Reader
	stdout, stderr io.Writer
}

func (n *nodeShell) run(ctx context.Context, command string) int {
	items, err := guest.ParseCommandLine(command)
	if err != nil {
		var ue *guest.UnsupportedError
		if errors.As(err, &ue) {
			fmt.Fprintln(n.stderr, ue.Error())
			return 2
		}
		fmt.Fprintf(n.stderr, "bash: -c: %v\n", err)
		return 2
	}
	status := 0
	for _, it := range items {
		if ctx.Err() != nil {
			return 255
		}
		if (it.Op == "&&" && status != 0) || (it.Op == "||" && status == 0) {
			continue
		}
		status = n.runItem(ctx, it)
	}
	return status
}

func (n *nodeShell) runItem(ctx context.Context, it guest.CommandLineItem) int {
	stdin, stdout, stderr := n.stdin, n.stdout, n.stderr
	for _, r := range it.Redirects {
		if r.DupTo >= 0 {
			target := stdout
			if r.DupTo == 2 {
				target = stderr
			}
			if r.Fd == 2 {
				stderr = target
			} else {
				stdout = target
			}
			continue
		}
		if r.Path == "/dev/null" {
			switch r.Fd {
			case 0:
				stdin = strings.NewReader("")
			case 1:
				stdout = io.Discard
			case 2:
				stderr = io.Discard
			}
			continue
		}
		p, ok := allowedNodePath(r.Path)
		if !ok {
			fmt.Fprintf(n.stderr, "bash: %s: lxcbot-sim: the node filesystem is modelled only under /tmp and /var/lib/lxcbot\n", r.Path)
			return 1
		}
		if r.Fd == 0 {
			data, ok := n.srv.staging.read(p)
			if !ok {
				fmt.Fprintf(n.stderr, "bash: %s: No such file or directory\n", r.Path)
				return 1
			}
			stdin = strings.NewReader(string(data))
			continue
		}
		w := &stagedWriter{fs: n.srv.staging, path: p}
		n.srv.staging.write(p, nil, r.Append)
		if r.Fd == 2 {
			stderr = w
		} else {
			stdout = w
		}
	}
	if len(it.Argv) == 0 {
		return 0
	}
	return n.command(ctx, it.Argv, stdin, stdout, stderr)
}

// stagedWriter appends to a staged node file as data arrives.
type stagedWriter struct {
	fs   *stagingFS
	path string
	size int
}

func (w *stagedWriter) Write(p []byte) (int, error) {
	if w.size+len(p) > maxStagedFile {
		return 0, errors.New("file too large")
	}
	w.size += len(p)
	w.fs.write(w.path, append([]byte(nil), p...), true)
	return len(p), nil
}

func (n *nodeShell) command(ctx context.Context, argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	switch argv[0] {
	case "pct", "/usr/sbin/pct":
		return n.pct(ctx, argv[1:], stdin, stdout, stderr)
	case "timeout":
		if len(argv) < 3 {
			fmt.Fprintln(stderr, "timeout: missing operand")
			return 125
		}
		d, err := time.ParseDuration(strings.TrimSuffix(argv[1], "s") + "s")
		if err != nil {
			fmt.Fprintf(stderr, "timeout: invalid time interval '%s'\n", argv[1])
			return 125
		}
		tctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		st := n.command(tctx, argv[2:], stdin, stdout, stderr)
		if ctx.Err() == nil && tctx.Err() != nil {
			return 124
		}
		return st
	case "pveversion", "/usr/bin/pveversion":
		return n.pveversion(argv[1:], stdout, stderr)
	case "true":
		return 0
	case "false":
		return 1
	case "echo":
		fmt.Fprintln(stdout, strings.Join(argv[1:], " "))
		return 0
	case "cat":
		return n.cat(argv[1:], stdin, stdout, stderr)
	case "rm":
		return n.rm(argv[1:], stderr)
	case "mkdir":
		for _, a := range argv[1:] {
			if strings.HasPrefix(a, "-") {
				continue
			}
			if _, ok := allowedNodePath(a); !ok {
				fmt.Fprintf(stderr, "mkdir: cannot create directory '%s': lxcbot-sim: outside the modelled node filesystem\n", a)
				return 1
			}
		}
		return 0
	case "test", "[":
		return n.test(argv, stderr)
	}
	fmt.Fprintf(stderr, "bash: %s: command not found\n", argv[0])
	return 127
}

func (n *nodeShell) cat(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || (len(args) == 1 && args[0] == "-") {
		buf := make([]byte, 32*1024)
		for {
			k, err := stdin.Read(buf)
			if k > 0 {
				if _, werr := stdout.Write(buf[:k]); werr != nil {
					fmt.Fprintf(stderr, "cat: write error: %v\n", werr)
					return 1
				}
			}
			if err != nil {
				return 0
			}
		}
	}
	status := 0
	for _, a := range args {
		p, _ := allowedNodePath(a)
		data, ok := n.srv.staging.read(p)
		if !ok {
			fmt.Fprintf(stderr, "cat: %s: No such file or directory\n", a)
			status = 1
			continue
		}
		stdout.Write(data)
	}
	return status
}

func (n *nodeShell) rm(args []string, stderr io.Writer) int {
	force := false
	status := 0
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			force = force || strings.Contains(a, "f")
			continue
		}
		p, ok := allowedNodePath(a)
		if !ok {
			fmt.Fprintf(stderr, "rm: cannot remove '%s': lxcbot-sim: outside the modelled node filesystem\n", a)
			status = 1
			continue
		}
		if !n.srv.staging.remove(p) && !force {
			fmt.Fprintf(stderr, "rm: cannot remove '%s': No such file or directory\n", a)
			status = 1
		}
	}
	return status
}

func (n *nodeShell) test(argv []string, stderr io.Writer) int {
	args := argv[1:]
	if argv[0] == "[" {
		if len(args) == 0 || args[len(args)-1] != "]" {
			fmt.Fprintln(stderr, "bash: [: missing `]'")
			return 2
		}
		args = args[:len(args)-1]
	}
	if len(args) != 2 || (args[0] != "-e" && args[0] != "-f" && args[0] != "-s") {
		fmt.Fprintf(stderr, "lxcbot-sim: unsupported: node test %s\n", strings.Join(args, " "))
		return 2
	}
	p, _ := allowedNodePath(args[1])
	data, ok := n.srv.staging.read(p)
	if ok && (args[0] != "-s" || len(data) > 0) {
		return 0
	}
	return 1
}

// ---- pct ----

func (n *nodeShell) pct(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "ERROR: no command specified")
		return 255
	}
	verb := args[0]
	switch verb {
	case "status", "exec", "push", "pull":
	case "list":
		return n.pctList(args[1:], stdout, stderr)
	case "config", "start", "stop", "shutdown", "reboot", "suspend", "resume", "create", "destroy", "set",
		"enter", "console", "snapshot", "rollback", "delsnapshot", "listsnapshot", "clone", "migrate", "resize",
		"move-volume", "mount", "unmount", "unlock", "pending", "df", "fsck", "fstrim", "rescan", "template",
		"cpusets", "remote-migrate", "restore", "help":
		fmt.Fprintf(stderr, "lxcbot-sim: unsupported: pct %s on the simulated node (use the API)\n", verb)
		return 2
	default:
		fmt.Fprintf(stderr, "ERROR: unknown command 'pct %s'\n", verb)
		return 255
	}
	if len(args) < 2 {
		fmt.Fprintf(stderr, "400 not enough arguments\npct %s <vmid> ...\n", verb)
		return 255
	}
	vmid, err := strconv.Atoi(args[1])
	if err != nil || vmid < 100 || vmid > 999999999 {
		fmt.Fprintf(stderr, "400 Parameter verification failed.\nvmid: type check ('integer') failed - got '%s'\n", args[1])
		return 255
	}
	g, ok := n.srv.cfg.Host.Guest(vmid)
	if !ok {
		fmt.Fprintf(stderr, "Configuration file 'nodes/%s/lxc/%d.conf' does not exist\n", n.srv.cfg.Node, vmid)
		return 255
	}
	rest := args[2:]
	switch verb {
	case "status":
		if g.Running() {
			fmt.Fprintln(stdout, "status: running")
		} else {
			fmt.Fprintln(stdout, "status: stopped")
		}
		return 0
	case "exec":
		return n.pctExec(ctx, g, rest, stdin, stdout, stderr)
	case "push":
		return n.pctPush(g, rest, stderr)
	default:
		return n.pctPull(g, rest, stderr)
	}
}

// pveversion prints the node's Proxmox VE release as pveversion does.
func (n *nodeShell) pveversion(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "lxcbot-sim: unsupported: pveversion %s\n", strings.Join(args, " "))
		return 2
	}
	fmt.Fprintf(stdout, "pve-manager/%s/%s (running kernel: %s)\n", PVEManagerVersion, PVERepoID, guest.KernelRelease)
	return 0
}

// pctList prints the node's containers in pct list's columns, ordered by
// VMID; it prints nothing when there are none.
func (n *nodeShell) pctList(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "400 too many arguments\npct list")
		return 255
	}
	lister, ok := n.srv.cfg.Host.(ContainerLister)
	if !ok {
		fmt.Fprintln(stderr, "lxcbot-sim: unsupported: pct list (this node's host does not list its containers)")
		return 2
	}
	cts := lister.Containers()
	if len(cts) == 0 {
		return 0
	}
	sort.Slice(cts, func(i, j int) bool { return cts[i].VMID < cts[j].VMID })
	const format = "%-10s %-10s %-12s %-20s\n"
	fmt.Fprintf(stdout, format, "VMID", "Status", "Lock", "Name")
	for _, c := range cts {
		fmt.Fprintf(stdout, format, strconv.Itoa(c.VMID), c.Status, c.Lock, c.Name)
	}
	return 0
}

func (n *nodeShell) pctExec(ctx context.Context, g *guest.Guest, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var cmd []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			cmd = args[i+1:]
			i = len(args)
		case a == "--keep-env" && i+1 < len(args):
			if args[i+1] != "0" && args[i+1] != "1" {
				fmt.Fprintf(stderr, "400 Parameter verification failed.\nkeep-env: type check ('boolean') failed - got '%s'\n", args[i+1])
				return 255
			}
			i++
		case strings.HasPrefix(a, "--keep-env="):
		case strings.HasPrefix(a, "-"):
			fmt.Fprintf(stderr, "Unknown option: %s\n400 unable to parse option\n", strings.TrimLeft(a, "-"))
			return 255
		default:
			cmd = args[i:]
			i = len(args)
		}
	}
	if len(cmd) == 0 {
		fmt.Fprintln(stderr, "missing command")
		return 255
	}
	if !g.Running() {
		fmt.Fprintf(stderr, "CT %d not running\n", g.VMID())
		return 255
	}
	return g.Exec(ctx, cmd, stdin, stdout, stderr)
}

func parsePerms(s string) (fs.FileMode, error) {
	var v uint64
	var err error
	if strings.HasPrefix(s, "0x") {
		v, err = strconv.ParseUint(s[2:], 16, 32)
	} else {
		v, err = strconv.ParseUint(s, 8, 32)
	}
	if err != nil || v > 0o7777 {
		return 0, fmt.Errorf("invalid perms %q", s)
	}
	return fs.FileMode(v), nil
}

func (n *nodeShell) pctPush(g *guest.Guest, args []string, stderr io.Writer) int {
	var pos []string
	perms := fs.FileMode(0o644)
	var user, group string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			pos = append(pos, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !hasVal {
			if i+1 >= len(args) {
				fmt.Fprintf(stderr, "400 Parameter verification failed.\n%s: missing value\n", name)
				return 255
			}
			i++
			val = args[i]
		}
		switch name {
		case "perms":
			m, err := parsePerms(val)
			if err != nil {
				fmt.Fprintf(stderr, "400 Parameter verification failed.\nperms: %v\n", err)
				return 255
			}
			perms = m
		case "user":
			user = val
		case "group":
			group = val
		default:
			fmt.Fprintf(stderr, "Unknown option: %s\n400 unable to parse option\n", name)
			return 255
		}
	}
	if len(pos) != 2 {
		fmt.Fprintln(stderr, "400 wrong number of arguments\npct push <vmid> <file> <destination> [OPTIONS]")
		return 255
	}
	if !g.Running() {
		fmt.Fprintln(stderr, "can only push files to a running CT")
		return 255
	}
	src, _ := allowedNodePath(pos[0])
	data, ok := n.srv.staging.read(src)
	if !ok {
		fmt.Fprintf(stderr, "can't open '%s' - No such file or directory\n", pos[0])
		return 255
	}
	owner := user
	if group != "" {
		owner += ":" + group
	}
	// pct's copy runs in a worker whose failure is only printed: pct exits 0.
	if err := g.WriteFile(pos[1], data, perms, owner); err != nil {
		fmt.Fprintf(stderr, "failed to write '%s': %v\n", pos[1], err)
	}
	return 0
}

func (n *nodeShell) pctPull(g *guest.Guest, args []string, stderr io.Writer) int {
	if len(args) < 2 {
		fmt.Fprintln(stderr, "400 wrong number of arguments\npct pull <vmid> <path> <destination> [OPTIONS]")
		return 255
	}
	if !g.Running() {
		fmt.Fprintln(stderr, "can only pull files from a running CT")
		return 255
	}
	dst, ok := allowedNodePath(args[1])
	if !ok {
		fmt.Fprintf(stderr, "lxcbot-sim: %s is outside the modelled node filesystem\n", args[1])
		return 255
	}
	data, err := g.ReadFile(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "failed to open %s: %v\n", args[0], err)
		return 0
	}
	n.srv.staging.write(dst, data, false)
	return 0
}
