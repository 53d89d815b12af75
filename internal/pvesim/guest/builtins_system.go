package guest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

func systemCommandFor(name string) builtinFunc {
	switch name {
	case "date":
		return cDate
	case "hostname":
		return cHostname
	case "hostnamectl":
		return cHostnamectl
	case "ip":
		return cIP
	case "ss":
		return cSS
	case "systemctl":
		return cSystemctl
	case "journalctl":
		return cJournalctl
	case "apt-get", "apt":
		return cApt
	case "dpkg", "dpkg-query":
		return cDpkg
	case "pip", "pip3":
		return cPip
	case "python3":
		return cPython
	case "npm":
		return cNpm
	case "useradd", "adduser":
		return cUseradd
	case "usermod", "groupadd", "userdel":
		return cUsermod
	case "id", "whoami":
		return cID
	case "getent":
		return cGetent
	case "su", "runuser":
		return cSu
	case "chpasswd":
		return func(_ context.Context, _ *shell, _ []string, ios ioSet) (int, error) {
			_, _ = io.Copy(io.Discard, io.LimitReader(ios.in, maxFileSize))
			return 0, nil
		}
	case "env", "printenv":
		return cEnv
	case "uname":
		return cUname
	case "timeout":
		return cTimeout
	case "nproc":
		return func(_ context.Context, _ *shell, _ []string, ios ioSet) (int, error) {
			fmt.Fprintln(ios.out, 2)
			return 0, nil
		}
	case "openssl":
		return cOpenssl
	case "systemd-detect-virt":
		return func(_ context.Context, _ *shell, _ []string, ios ioSet) (int, error) {
			fmt.Fprintln(ios.out, "lxc")
			return 0, nil
		}
	case "pgrep":
		return cPgrep
	case "psql":
		return cPsql
	case "curl":
		return cCurl
	case "install":
		return cInstall
	}
	return func(_ context.Context, _ *shell, argv []string, _ ioSet) (int, error) {
		return 0, &UnsupportedError{What: "command " + argv[0]}
	}
}

func cDate(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	t := s.g.now()
	format := "%a %b %e %H:%M:%S %Z %Y"
	for _, a := range argv[1:] {
		switch {
		case a == "-u" || a == "--utc":
			t = t.UTC()
		case strings.HasPrefix(a, "+"):
			format = a[1:]
		case a == "-Iseconds" || a == "--iso-8601=seconds":
			format = "%Y-%m-%dT%H:%M:%S%z"
		case a == "-I" || a == "--iso-8601":
			format = "%F"
		default:
			return 0, &UnsupportedError{What: "date " + a}
		}
	}
	repl := map[byte]string{'Y': "2006", 'm': "01", 'd': "02", 'H': "15", 'M': "04", 'S': "05", 'F': "2006-01-02",
		'T': "15:04:05", 'a': "Mon", 'b': "Jan", 'e': "_2", 'Z': "MST", 'z': "-0700", 'y': "06", 'A': "Monday", 'B': "January"}
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		if format[i] != '%' || i+1 >= len(format) {
			b.WriteByte(format[i])
			continue
		}
		i++
		switch c := format[i]; c {
		case 's':
			b.WriteString(strconv.FormatInt(t.Unix(), 10))
		case 'N':
			fmt.Fprintf(&b, "%09d", t.Nanosecond())
		case '%':
			b.WriteByte('%')
		default:
			if layout, ok := repl[c]; ok {
				b.WriteString(t.Format(layout))
			} else {
				b.WriteByte('%')
				b.WriteByte(c)
			}
		}
	}
	fmt.Fprintln(ios.out, b.String())
	return 0, nil
}

func cHostname(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	if len(argv) == 1 || argv[1] == "-s" || argv[1] == "-f" || argv[1] == "--fqdn" || argv[1] == "--short" {
		fmt.Fprintln(ios.out, s.g.Hostname())
		return 0, nil
	}
	switch argv[1] {
	case "-I", "--all-ip-addresses", "-i", "--ip-address":
		if p, ok := s.g.hostAddrs(); ok {
			fmt.Fprintf(ios.out, "%s \n", p.Addr())
		} else if argv[1] == "-I" || argv[1] == "--all-ip-addresses" {
			fmt.Fprintln(ios.out)
		} else {
			fmt.Fprintln(ios.out, "127.0.1.1")
		}
		return 0, nil
	}
	if strings.HasPrefix(argv[1], "-") {
		return 0, &UnsupportedError{What: "hostname " + argv[1]}
	}
	return setHostname(s, argv[1], ios)
}

func setHostname(s *shell, name string, ios ioSet) (int, error) {
	if !validHostname(name) {
		fmt.Fprintf(ios.err, "hostname: the specified hostname is invalid\n")
		return 1, nil
	}
	s.g.mu.Lock()
	defer s.g.mu.Unlock()
	_ = s.g.fs.writeFile("/etc/hostname", []byte(name+"\n"), false, 0o644, "root", "root")
	return 0, nil
}

func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(isAlpha(c) || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func cHostnamectl(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	if len(argv) >= 3 && (argv[1] == "set-hostname" || argv[1] == "hostname") {
		return setHostname(s, argv[2], ios)
	}
	if len(argv) == 1 || argv[1] == "status" {
		id, ver := s.g.OS()
		fmt.Fprintf(ios.out, " Static hostname: %s\n  Virtualization: lxc\nOperating System: %s %s\n", s.g.Hostname(), id, ver)
		return 0, nil
	}
	if argv[1] == "hostname" {
		fmt.Fprintln(ios.out, s.g.Hostname())
		return 0, nil
	}
	return 0, &UnsupportedError{What: "hostnamectl " + argv[1]}
}

func cIP(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	args := argv[1:]
	family, oneline, brief := "", false, false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "-4", "-6":
			family = args[0]
		case "-o", "-oneline":
			oneline = true
		case "-br", "-brief":
			brief = true
		case "-c", "-color", "--color=never":
		default:
			return 0, &UnsupportedError{What: "ip " + args[0]}
		}
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(ios.err, "Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }")
		return 255, nil
	}
	pfx, hasAddr := s.g.hostAddrs()
	switch args[0] {
	case "a", "addr", "address":
		dev := ""
		for i := 1; i < len(args); i++ {
			if args[i] == "dev" && i+1 < len(args) {
				dev = args[i+1]
			} else if args[i] != "show" && args[i] != "list" && args[i] != "s" {
				dev = args[i]
			}
		}
		if dev != "" && dev != "lo" && dev != "eth0" {
			fmt.Fprintf(ios.err, "Device \"%s\" does not exist.\n", dev)
			return 1, nil
		}
		if family == "-6" {
			return 0, nil
		}
		if brief {
			if dev == "" || dev == "lo" {
				fmt.Fprintf(ios.out, "%-16s %-14s %s\n", "lo", "UNKNOWN", "127.0.0.1/8")
			}
			if dev == "" || dev == "eth0" {
				addr := ""
				if hasAddr {
					addr = pfx.String()
				}
				fmt.Fprintf(ios.out, "%-16s %-14s %s\n", "eth0@if12", "UP", addr)
			}
			return 0, nil
		}
		if dev == "" || dev == "lo" {
			if oneline {
				fmt.Fprintln(ios.out, `1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever`)
			} else {
				fmt.Fprint(ios.out, "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n"+
					"    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n")
			}
		}
		if dev == "" || dev == "eth0" {
			bcast := ""
			if hasAddr {
				bcast = broadcast(pfx)
			}
			if oneline {
				if hasAddr {
					fmt.Fprintf(ios.out, "2: eth0    inet %s brd %s scope global eth0\\       valid_lft forever preferred_lft forever\n", pfx, bcast)
				}
			} else {
				fmt.Fprint(ios.out, "2: eth0@if12: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000 link-netnsid 0\n")
				if hasAddr {
					fmt.Fprintf(ios.out, "    inet %s brd %s scope global eth0\n       valid_lft forever preferred_lft forever\n", pfx, bcast)
				}
			}
		}
		return 0, nil
	case "r", "route":
		if hasAddr {
			gw := pfx.Masked().Addr().Next()
			fmt.Fprintf(ios.out, "default via %s dev eth0 onlink \n%s dev eth0 proto kernel scope link src %s \n", gw, pfx.Masked(), pfx.Addr())
		}
		return 0, nil
	case "l", "link":
		fmt.Fprint(ios.out, "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n"+
			"2: eth0@if12: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\n")
		return 0, nil
	}
	return 0, &UnsupportedError{What: "ip " + args[0]}
}

func broadcast(p interface{ String() string }) string {
	s := p.String()
	addr, bitsStr, _ := strings.Cut(s, "/")
	bits, _ := strconv.Atoi(bitsStr)
	parts := strings.Split(addr, ".")
	if len(parts) != 4 {
		return ""
	}
	var v uint32
	for _, q := range parts {
		n, _ := strconv.Atoi(q)
		v = v<<8 | uint32(n)
	}
	v |= (1<<uint(32-bits) - 1)
	return fmt.Sprintf("%d.%d.%d.%d", v>>24, v>>16&255, v>>8&255, v&255)
}

type listenSock struct {
	local, proc string
	pid         int
}

func (g *Guest) listeners() []listenSock {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []listenSock
	for _, name := range sortedKeys(g.units) {
		u := g.units[name]
		if !u.active {
			continue
		}
		proc := strings.TrimSuffix(name, ".service")
		if def, ok := g.unitDefLocked(name); ok {
			proc = procName(name, def.exec)
		}
		for _, l := range u.listen {
			out = append(out, listenSock{local: l, proc: proc, pid: u.pid})
		}
	}
	return out
}

func cSS(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	flags := map[rune]bool{}
	for _, a := range argv[1:] {
		if !strings.HasPrefix(a, "-") || strings.HasPrefix(a, "--") {
			switch a {
			case "--tcp":
				flags['t'] = true
			case "--listening":
				flags['l'] = true
			case "--numeric":
				flags['n'] = true
			case "--processes":
				flags['p'] = true
			case "--no-header":
				flags['H'] = true
			default:
				return 0, &UnsupportedError{What: "ss " + a}
			}
			continue
		}
		for _, c := range a[1:] {
			flags[c] = true
		}
	}
	if !flags['H'] {
		fmt.Fprintf(ios.out, "%-6s %-6s %-6s %20s %20s    %s\n", "State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port", "Process")
	}
	if !flags['t'] || !flags['l'] || flags['u'] && !flags['t'] {
		return 0, nil
	}
	fd := 3
	for _, l := range s.g.listeners() {
		peer := "0.0.0.0:*"
		switch {
		case strings.HasPrefix(l.local, "["):
			peer = "[::]:*"
		case strings.HasPrefix(l.local, "*"):
			peer = "*:*"
		}
		local := l.local
		if !flags['n'] {
			local = strings.NewReplacer(":80", ":http", ":443", ":https", ":22", ":ssh", ":5432", ":postgresql").Replace(local)
		}
		proc := ""
		if flags['p'] {
			proc = fmt.Sprintf("users:((\"%s\",pid=%d,fd=%d))", l.proc, l.pid, fd)
		}
		fd++
		fmt.Fprintf(ios.out, "%-6s %-6d %-6d %20s %20s    %s\n", "LISTEN", 0, 511, local, peer, proc)
	}
	return 0, nil
}

func cSystemctl(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	var args, props []string
	opts := map[string]string{}
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "-p" && i+1 < len(argv):
			i++
			props = append(props, strings.Split(argv[i], ",")...)
		case strings.HasPrefix(a, "--property="):
			props = append(props, strings.Split(strings.TrimPrefix(a, "--property="), ",")...)
		case strings.HasPrefix(a, "-p") && len(a) > 2:
			props = append(props, strings.Split(a[2:], ",")...)
		case strings.HasPrefix(a, "--"):
			k, v, _ := strings.Cut(a[2:], "=")
			opts[k] = v
		case a == "-q":
			opts["quiet"] = ""
		case a == "-a":
			opts["all"] = ""
		case a == "-t" && i+1 < len(argv):
			i++
			opts["type"] = argv[i]
		case strings.HasPrefix(a, "-") && len(a) > 1:
			// other short flags such as -l do not change the simulation
		default:
			args = append(args, a)
		}
	}
	if len(args) == 0 {
		args = []string{"list-units"}
	}
	_, quiet := opts["quiet"]
	_, now := opts["now"]
	verb, units := args[0], args[1:]
	for i, u := range units {
		units[i] = normalizeUnit(u)
	}
	g := s.g
	g.mu.Lock()
	defer g.mu.Unlock()
	switch verb {
	case "list-units", "list-unit-files":
		return g.listUnitsLocked(verb, opts, ios), nil
	case "daemon-reload", "reset-failed", "daemon-reexec":
		return 0, nil
	case "is-active", "is-enabled", "is-failed":
		status := 0
		for _, name := range units {
			u, ok := g.units[name]
			_, _, hasFile := g.unitFileLocked(name)
			var word string
			var good bool
			switch verb {
			case "is-active":
				switch {
				case ok && u.active:
					word, good = "active", true
				case ok && u.failed:
					word = "failed"
				default:
					word = "inactive"
				}
			case "is-enabled":
				switch {
				case !hasFile:
					word = "not-found"
				case ok && u.enabled:
					word, good = "enabled", true
				default:
					word = "disabled"
				}
			case "is-failed":
				if ok && u.failed {
					word, good = "failed", true
				} else if ok && u.active {
					word = "active"
				} else {
					word = "inactive"
				}
			}
			if !quiet {
				fmt.Fprintln(ios.out, word)
			}
			if !good {
				status = 3
				if verb != "is-active" {
					status = 1
				}
			}
		}
		return status, nil
	case "start", "restart", "reload", "try-restart", "reload-or-restart", "stop", "enable", "disable", "mask", "unmask":
		if len(units) == 0 {
			fmt.Fprintf(ios.err, "Too few arguments.\n")
			return 1, nil
		}
		for _, name := range units {
			if _, _, ok := g.unitFileLocked(name); !ok {
				switch verb {
				case "stop":
					fmt.Fprintf(ios.err, "Failed to stop %s: Unit %s not loaded.\n", name, name)
				case "enable", "disable":
					fmt.Fprintf(ios.err, "Failed to %s unit: Unit file %s does not exist.\n", verb, name)
					return 1, nil
				default:
					fmt.Fprintf(ios.err, "Failed to %s %s: Unit %s not found.\n", verb, name, name)
				}
				return 5, nil
			}
			u := g.unitLocked(name)
			switch verb {
			case "enable":
				if !u.enabled {
					fmt.Fprintf(ios.err, "Created symlink /etc/systemd/system/multi-user.target.wants/%s → /lib/systemd/system/%s.\n", name, name)
				}
				u.enabled = true
			case "disable":
				if u.enabled {
					fmt.Fprintf(ios.err, "Removed \"/etc/systemd/system/multi-user.target.wants/%s\".\n", name)
				}
				u.enabled = false
			case "mask", "unmask":
				continue
			}
			switch {
			case verb == "stop" || verb == "disable" && now:
				if u.active {
					g.stopUnitLocked(name, u)
				}
			case verb == "restart" || verb == "reload-or-restart" || verb == "try-restart" && u.active:
				if u.active {
					g.stopUnitLocked(name, u)
				}
				if err := g.startUnitLocked(name); err != nil {
					fmt.Fprintln(ios.err, err)
					return 1, nil
				}
			case verb == "start" || verb == "enable" && now:
				if err := g.startUnitLocked(name); err != nil {
					fmt.Fprintln(ios.err, err)
					return 1, nil
				}
			case verb == "reload":
				if !u.active {
					fmt.Fprintf(ios.err, "Job for %s failed.\n", name)
					return 1, nil
				}
			}
		}
		return 0, nil
	case "show":
		return g.showUnitsLocked(units, props, opts, ios), nil
	case "status":
		status := 0
		for _, name := range units {
			def, ok := g.unitDefLocked(name)
			if !ok {
				fmt.Fprintf(ios.err, "Unit %s could not be found.\n", name)
				status = 4
				continue
			}
			u := g.unitLocked(name)
			state := "inactive (dead)"
			if u.active {
				state = fmt.Sprintf("active (running) since %s", u.since.Format("Mon 2006-01-02 15:04:05 MST"))
			} else if u.failed {
				state = "failed (Result: exit-code)"
				status = 3
			} else {
				status = 3
			}
			en := "disabled"
			if u.enabled {
				en = "enabled"
			}
			fmt.Fprintf(ios.out, "● %s - %s\n     Loaded: loaded (%s; %s; preset: enabled)\n     Active: %s\n",
				name, def.desc, def.path, en, state)
			if u.active {
				fmt.Fprintf(ios.out, "   Main PID: %d (%s)\n", u.pid, procName(name, def.exec))
			}
			fmt.Fprintln(ios.out)
			for _, l := range lastN(u.journal, 10) {
				fmt.Fprintln(ios.out, l)
			}
		}
		return status, nil
	}
	return 0, &UnsupportedError{What: "systemctl " + verb}
}

func lastN(xs []string, n int) []string {
	if n < len(xs) {
		return xs[len(xs)-n:]
	}
	return xs
}

func (g *Guest) listUnitsLocked(verb string, opts map[string]string, ios ioSet) int {
	if t, ok := opts["type"]; ok && t != "service" {
		return 0
	}
	stateFilter := opts["state"]
	_, all := opts["all"]
	_, noLegend := opts["no-legend"]
	names := map[string]bool{}
	for n := range g.units {
		names[n] = true
	}
	for _, d := range unitDirs {
		for _, k := range g.fs.children(d) {
			if strings.HasSuffix(k, ".service") {
				names[k] = true
			}
		}
	}
	type row struct{ unit, load, active, sub, desc string }
	var rows []row
	width := 4
	for _, n := range sortedKeys(names) {
		def, ok := g.unitDefLocked(n)
		if !ok {
			continue
		}
		u := g.unitLocked(n)
		if verb == "list-unit-files" {
			st := "disabled"
			if u.enabled {
				st = "enabled"
			}
			rows = append(rows, row{unit: n, load: st, active: "enabled"})
			width = max(width, len(n))
			continue
		}
		active, sub := "inactive", "dead"
		if u.active {
			active, sub = "active", "running"
		} else if u.failed {
			active, sub = "failed", "failed"
		}
		if stateFilter != "" {
			match := false
			for _, f := range strings.Split(stateFilter, ",") {
				if f == active || f == sub {
					match = true
				}
			}
			if !match {
				continue
			}
		} else if !all && !u.active && !u.failed {
			continue
		}
		rows = append(rows, row{n, "loaded", active, sub, def.desc})
		width = max(width, len(n))
	}
	if verb == "list-unit-files" {
		if !noLegend {
			fmt.Fprintf(ios.out, "%-*s STATE    VENDOR PRESET\n", width, "UNIT FILE")
		}
		for _, r := range rows {
			fmt.Fprintf(ios.out, "%-*s %-8s %s\n", width, r.unit, r.load, r.active)
		}
		return 0
	}
	if !noLegend {
		fmt.Fprintf(ios.out, "  %-*s LOAD   ACTIVE SUB     DESCRIPTION\n", width, "UNIT")
	}
	for _, r := range rows {
		prefix := "  "
		if _, plain := opts["plain"]; plain {
			prefix = ""
		}
		fmt.Fprintf(ios.out, "%s%-*s %-6s %-6s %-7s %s\n", prefix, width, r.unit, r.load, r.active, r.sub, r.desc)
	}
	if !noLegend {
		fmt.Fprintf(ios.out, "\n%d loaded units listed.\n", len(rows))
	}
	return 0
}

func (g *Guest) showUnitsLocked(units, props []string, opts map[string]string, ios ioSet) int {
	_, valueOnly := opts["value"]
	for i, name := range units {
		if i > 0 {
			fmt.Fprintln(ios.out)
		}
		def, found := g.unitDefLocked(name)
		u := g.units[name]
		if u == nil {
			u = &unitState{}
		}
		active, sub, load := "inactive", "dead", "loaded"
		if !found {
			load = "not-found"
		}
		if u.active {
			active, sub = "active", "running"
		} else if u.failed {
			active, sub = "failed", "failed"
		}
		enabled := "disabled"
		if u.enabled {
			enabled = "enabled"
		}
		since := ""
		if u.active {
			since = u.since.Format("Mon 2006-01-02 15:04:05 MST")
		}
		values := map[string]string{
			"Id": name, "Names": name, "Description": def.desc, "LoadState": load, "ActiveState": active,
			"SubState": sub, "MainPID": strconv.Itoa(u.pid), "ExecMainPID": strconv.Itoa(u.pid),
			"FragmentPath": def.path, "UnitFileState": enabled, "User": def.user, "Type": "simple",
			"ExecStart":            fmt.Sprintf("{ path=%s ; argv[]=%s }", firstField(def.exec), def.exec),
			"ActiveEnterTimestamp": since, "Result": "success", "NRestarts": "0",
		}
		if u.failed {
			values["Result"] = "exit-code"
		}
		keys := props
		if len(keys) == 0 {
			keys = sortedKeys(values)
		}
		for _, k := range keys {
			if valueOnly {
				fmt.Fprintln(ios.out, values[k])
			} else {
				fmt.Fprintf(ios.out, "%s=%s\n", k, values[k])
			}
		}
	}
	return 0
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

func cJournalctl(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	var units []string
	n := -1
	cat := false
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		next := func() string {
			if i+1 < len(argv) {
				i++
				return argv[i]
			}
			return ""
		}
		switch {
		case a == "-u" || a == "--unit":
			units = append(units, normalizeUnit(next()))
		case strings.HasPrefix(a, "--unit="):
			units = append(units, normalizeUnit(strings.TrimPrefix(a, "--unit=")))
		case strings.HasPrefix(a, "-u") && len(a) > 2:
			units = append(units, normalizeUnit(a[2:]))
		case a == "-n" || a == "--lines":
			v, err := strconv.Atoi(next())
			if err != nil {
				fmt.Fprintln(ios.err, "Failed to parse lines")
				return 1, nil
			}
			n = v
		case strings.HasPrefix(a, "--lines="):
			n, _ = strconv.Atoi(strings.TrimPrefix(a, "--lines="))
		case strings.HasPrefix(a, "-n") && len(a) > 2:
			n, _ = strconv.Atoi(a[2:])
		case a == "-o" || a == "--output":
			cat = next() == "cat"
		case a == "-ocat" || a == "--output=cat":
			cat = true
		case a == "--no-pager", a == "-q", a == "--quiet", a == "-x", a == "-e", a == "--no-hostname":
		case a == "--since" || a == "--until" || a == "-p" || a == "--priority":
			next()
		case strings.HasPrefix(a, "--since=") || strings.HasPrefix(a, "--until="):
		case a == "-f" || a == "--follow":
			return 0, &UnsupportedError{What: "journalctl -f"}
		default:
			return 0, &UnsupportedError{What: "journalctl " + a}
		}
	}
	s.g.mu.Lock()
	var lines []string
	if len(units) == 0 {
		for _, name := range sortedKeys(s.g.units) {
			lines = append(lines, s.g.units[name].journal...)
		}
	}
	for _, name := range units {
		if u, ok := s.g.units[name]; ok {
			lines = append(lines, u.journal...)
		}
	}
	s.g.mu.Unlock()
	if n >= 0 {
		lines = lastN(lines, n)
	}
	if len(lines) == 0 {
		fmt.Fprintln(ios.out, "-- No entries --")
		return 0, nil
	}
	for _, l := range lines {
		if cat {
			if i := strings.Index(l, ": "); i >= 0 {
				l = l[i+2:]
			}
		}
		if _, err := fmt.Fprintln(ios.out, l); err != nil {
			return 1, nil
		}
	}
	return 0, nil
}

func cApt(ctx context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	var args []string
	yes := false
	for _, a := range argv[1:] {
		switch {
		case a == "-y" || a == "--yes" || a == "--assume-yes" || a == "-qy" || a == "-yq" || a == "-yqq" || a == "-qqy":
			yes = true
		case strings.HasPrefix(a, "-o") || strings.HasPrefix(a, "-"):
			// quiet levels, --no-install-recommends and -o options do not change the simulation
		default:
			args = append(args, a)
		}
	}
	if len(args) == 0 {
		fmt.Fprintln(ios.err, "E: Invalid operation")
		return 100, nil
	}
	id, ver := s.g.OS()
	switch args[0] {
	case "update":
		code := s.g.osCodename
		if code == "" {
			code = id + ver
		}
		fmt.Fprintf(ios.out, "Hit:1 http://deb.%s.org/%s %s InRelease\nReading package lists...\n", id, id, code)
		if err := s.g.sleep(ctx, 500*time.Millisecond); err != nil {
			return 130, err
		}
		return 0, nil
	case "upgrade", "dist-upgrade", "full-upgrade", "autoremove", "clean", "autoclean":
		fmt.Fprintln(ios.out, "Reading package lists...\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.")
		return 0, nil
	case "install", "reinstall":
		pkgs := args[1:]
		for i, p := range pkgs {
			if name, _, ok := strings.Cut(p, "="); ok {
				pkgs[i] = name
			}
		}
		s.g.mu.Lock()
		var missing, fresh []string
		for _, p := range pkgs {
			if _, ok := s.g.packages["apt"][p]; ok {
				continue
			}
			if _, known := aptCatalog[p]; !known && !packageNameRE.MatchString(p) {
				missing = append(missing, p)
				continue
			}
			fresh = append(fresh, p)
		}
		s.g.mu.Unlock()
		fmt.Fprintln(ios.out, "Reading package lists...\nBuilding dependency tree...\nReading state information...")
		if len(missing) > 0 {
			fmt.Fprintf(ios.err, "E: Unable to locate package %s\n", missing[0])
			return 100, nil
		}
		if len(fresh) == 0 {
			for _, p := range pkgs {
				fmt.Fprintf(ios.out, "%s is already the newest version.\n", p)
			}
			fmt.Fprintln(ios.out, "0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.")
			return 0, nil
		}
		fmt.Fprintf(ios.out, "The following NEW packages will be installed:\n  %s\n", strings.Join(fresh, " "))
		fmt.Fprintf(ios.out, "0 upgraded, %d newly installed, 0 to remove and 0 not upgraded.\n", len(fresh))
		if !yes {
			fmt.Fprintln(ios.out, "Do you want to continue? [Y/n] Abort.")
			return 1, nil
		}
		for _, p := range fresh {
			if err := s.g.sleep(ctx, 300*time.Millisecond); err != nil {
				return 130, err
			}
			s.g.mu.Lock()
			_, _ = s.g.installAptLocked(p)
			ver := s.g.packages["apt"][p]
			s.g.mu.Unlock()
			fmt.Fprintf(ios.out, "Setting up %s (%s) ...\n", p, ver)
		}
		return 0, nil
	case "remove", "purge":
		s.g.mu.Lock()
		for _, p := range args[1:] {
			delete(s.g.packages["apt"], p)
			if spec, ok := aptCatalog[p]; ok {
				for _, u := range spec.units {
					if st, ok := s.g.units[u.name]; ok && st.active {
						s.g.stopUnitLocked(u.name, st)
					}
					delete(s.g.units, u.name)
					delete(s.g.fs.nodes, "/lib/systemd/system/"+u.name)
				}
			}
		}
		s.g.mu.Unlock()
		return 0, nil
	}
	return 0, &UnsupportedError{What: argv[0] + " " + args[0]}
}

func cDpkg(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	args := argv[1:]
	format := "${Package}\t${Version}\n"
	mode := ""
	var pkgs []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-s" || a == "--status" || a == "-l" || a == "--list" || a == "-W" || a == "--show" || a == "-i" || a == "--install":
			mode = a
		case a == "-f" || a == "--showformat":
			if i+1 < len(args) {
				i++
				format = args[i]
			}
		case strings.HasPrefix(a, "--showformat="):
			format = strings.TrimPrefix(a, "--showformat=")
		case strings.HasPrefix(a, "-f") && len(a) > 2:
			format = a[2:]
		case strings.HasPrefix(a, "-"):
			return 0, &UnsupportedError{What: argv[0] + " " + a}
		default:
			pkgs = append(pkgs, a)
		}
	}
	if mode == "-i" || mode == "--install" {
		return s.dpkgInstall(pkgs, ios)
	}
	s.g.mu.Lock()
	installed := map[string]string{}
	for k, v := range s.g.packages["apt"] {
		installed[k] = v
	}
	s.g.mu.Unlock()
	status := 0
	switch mode {
	case "-s", "--status":
		for _, p := range pkgs {
			v, ok := installed[p]
			if !ok {
				fmt.Fprintf(ios.err, "dpkg-query: package '%s' is not installed and no information is available\n", p)
				status = 1
				continue
			}
			fmt.Fprintf(ios.out, "Package: %s\nStatus: install ok installed\nPriority: optional\nVersion: %s\n\n", p, v)
		}
	case "-l", "--list":
		if len(pkgs) == 0 {
			pkgs = sortedKeys(installed)
		}
		for _, p := range pkgs {
			v, ok := installed[p]
			if !ok {
				fmt.Fprintf(ios.err, "dpkg-query: no packages found matching %s\n", p)
				status = 1
				continue
			}
			fmt.Fprintf(ios.out, "ii  %-30s %-20s amd64        %s\n", p, v, p)
		}
	case "-W", "--show":
		if len(pkgs) == 0 {
			pkgs = sortedKeys(installed)
		}
		for _, p := range pkgs {
			v, ok := installed[p]
			if !ok {
				fmt.Fprintf(ios.err, "dpkg-query: no packages found matching %s\n", p)
				status = 1
				continue
			}
			out := strings.NewReplacer("${Package}", p, "${binary:Package}", p, "${Version}", v,
				"${Status}", "install ok installed", "${db:Status-Abbrev}", "ii ", `\n`, "\n", `\t`, "\t").Replace(format)
			io.WriteString(ios.out, out)
		}
	default:
		return 0, &UnsupportedError{What: argv[0] + " without -s/-l/-W"}
	}
	return status, nil
}

// pipName strips version specifiers and extras: "flask[async]>=2" → "flask".
func pipName(spec string) string {
	spec = strings.ToLower(spec)
	if i := strings.IndexAny(spec, "<>=!~[; "); i >= 0 {
		spec = spec[:i]
	}
	return strings.ReplaceAll(spec, "_", "-")
}

func (s *shell) managerInstall(manager string, names []string) {
	s.g.mu.Lock()
	defer s.g.mu.Unlock()
	for _, n := range names {
		s.g.packages[manager][n] = "1.0.0"
	}
}

func cPip(ctx context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	var args []string
	var reqFiles []string
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "-r" || a == "--requirement":
			if i+1 < len(argv) {
				i++
				reqFiles = append(reqFiles, argv[i])
			}
		case strings.HasPrefix(a, "-"):
		default:
			args = append(args, a)
		}
	}
	if len(args) == 0 {
		fmt.Fprintln(ios.err, "ERROR: You must give at least one requirement to install")
		return 1, nil
	}
	verb, pkgs := args[0], args[1:]
	for _, f := range reqFiles {
		data, err := s.g.ReadFile(cleanPath(s.cwd, f))
		if err != nil {
			fmt.Fprintf(ios.err, "ERROR: Could not open requirements file: [Errno 2] No such file or directory: '%s'\n", f)
			return 1, nil
		}
		for _, l := range strings.Split(string(data), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				pkgs = append(pkgs, l)
			}
		}
	}
	switch verb {
	case "install":
		var names []string
		for _, p := range pkgs {
			n := pipName(p)
			if !packageNameRE.MatchString(n) {
				fmt.Fprintf(ios.err, "ERROR: Invalid requirement: '%s'\n", p)
				return 1, nil
			}
			names = append(names, n)
		}
		if err := s.g.sleep(ctx, 300*time.Millisecond); err != nil {
			return 130, err
		}
		s.managerInstall("pip", names)
		fmt.Fprintf(ios.out, "Successfully installed %s\n", strings.Join(names, " "))
		return 0, nil
	case "uninstall":
		s.g.mu.Lock()
		for _, p := range pkgs {
			delete(s.g.packages["pip"], pipName(p))
		}
		s.g.mu.Unlock()
		return 0, nil
	case "show":
		status := 0
		for _, p := range pkgs {
			s.g.mu.Lock()
			v, ok := s.g.packages["pip"][pipName(p)]
			s.g.mu.Unlock()
			if !ok {
				fmt.Fprintf(ios.err, "WARNING: Package(s) not found: %s\n", p)
				status = 1
				continue
			}
			fmt.Fprintf(ios.out, "Name: %s\nVersion: %s\n", p, v)
		}
		return status, nil
	case "list", "freeze":
		for _, p := range s.g.InstalledPackages("pip") {
			if verb == "freeze" {
				fmt.Fprintf(ios.out, "%s==1.0.0\n", p)
			} else {
				fmt.Fprintf(ios.out, "%-20s 1.0.0\n", p)
			}
		}
		return 0, nil
	}
	return 0, &UnsupportedError{What: argv[0] + " " + verb}
}

func cPython(ctx context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	if len(argv) >= 3 && argv[1] == "-m" && argv[2] == "pip" {
		if !s.g.commandAvailable("pip3") {
			fmt.Fprintln(ios.err, "/usr/bin/python3: No module named pip")
			return 1, nil
		}
		return cPip(ctx, s, append([]string{"pip3"}, argv[3:]...), ios)
	}
	if len(argv) == 2 && (argv[1] == "--version" || argv[1] == "-V") {
		fmt.Fprintln(ios.out, "Python 3.11.2")
		return 0, nil
	}
	return 0, &UnsupportedError{What: "python3 " + strings.Join(argv[1:], " ")}
}

// npmName strips a version: "@scope/pkg@1.2" → "@scope/pkg".
func npmName(spec string) string {
	if i := strings.LastIndexByte(spec, '@'); i > 0 {
		return spec[:i]
	}
	return spec
}

func cNpm(ctx context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	var args []string
	for _, a := range argv[1:] {
		if !strings.HasPrefix(a, "-") {
			args = append(args, a)
		}
	}
	if len(args) == 0 {
		fmt.Fprintln(ios.out, "npm <command>")
		return 1, nil
	}
	switch args[0] {
	case "install", "i", "add":
		var names []string
		for _, p := range args[1:] {
			names = append(names, npmName(p))
		}
		if err := s.g.sleep(ctx, 300*time.Millisecond); err != nil {
			return 130, err
		}
		s.managerInstall("npm", names)
		fmt.Fprintf(ios.out, "added %d packages in 1s\n", len(names))
		return 0, nil
	case "uninstall", "remove", "rm":
		s.g.mu.Lock()
		for _, p := range args[1:] {
			delete(s.g.packages["npm"], npmName(p))
		}
		s.g.mu.Unlock()
		return 0, nil
	case "ls", "list":
		installed := s.g.InstalledPackages("npm")
		status := 0
		fmt.Fprintln(ios.out, "/usr/lib")
		want := args[1:]
		if len(want) == 0 {
			want = installed
		}
		for _, p := range want {
			found := false
			for _, q := range installed {
				found = found || q == npmName(p)
			}
			if found {
				fmt.Fprintf(ios.out, "└── %s@1.0.0\n", npmName(p))
			} else {
				fmt.Fprintln(ios.out, "└── (empty)")
				status = 1
			}
		}
		return status, nil
	case "--version", "-v", "version":
		fmt.Fprintln(ios.out, "9.2.0")
		return 0, nil
	}
	return 0, &UnsupportedError{What: "npm " + args[0]}
}

func cUseradd(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	adduser := argv[0] == "adduser"
	var name, home, shellPath, group string
	uid, system, createHome := -1, false, adduser
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		next := func() string {
			if i+1 < len(argv) {
				i++
				return argv[i]
			}
			return ""
		}
		switch a {
		case "-m", "--create-home":
			createHome = true
		case "-M", "--no-create-home":
			createHome = false
		case "-r", "--system":
			system = true
		case "-s", "--shell":
			shellPath = next()
		case "-d", "--home", "--home-dir":
			home = next()
		case "-u", "--uid":
			uid, _ = strconv.Atoi(next())
		case "-g", "--gid", "--ingroup":
			group = next()
		case "-G", "--groups", "-c", "--comment", "--gecos", "-p", "--password", "-k", "-K", "-e", "-f":
			next()
		case "-U", "--user-group", "-N", "--disabled-password", "--disabled-login", "-q", "--quiet", "-D":
		default:
			if strings.HasPrefix(a, "-") {
				return 0, &UnsupportedError{What: argv[0] + " " + a}
			}
			name = a
		}
	}
	if name == "" {
		fmt.Fprintf(ios.err, "Usage: %s [options] LOGIN\n", argv[0])
		return 2, nil
	}
	g := s.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.users[name]; ok {
		if adduser {
			fmt.Fprintf(ios.err, "adduser: The user `%s' already exists.\n", name)
			return 1, nil
		}
		fmt.Fprintf(ios.err, "useradd: user '%s' already exists\n", name)
		return 9, nil
	}
	if uid < 0 {
		if system {
			uid = g.nextSystemUIDLocked()
		} else {
			uid = g.nextUserUIDLocked()
		}
	}
	gid := uid
	if group != "" {
		n, ok := g.lookupGroupLocked(group)
		if !ok {
			fmt.Fprintf(ios.err, "useradd: group '%s' does not exist\n", group)
			return 6, nil
		}
		gid = g.groups[n]
	} else if _, taken := g.groups[name]; !taken {
		g.groups[name] = gid
	} else {
		gid = g.groups[name]
	}
	if home == "" {
		home = "/home/" + name
	}
	if shellPath == "" {
		shellPath = "/bin/sh"
		if adduser {
			shellPath = "/bin/bash"
		}
	}
	g.addUserLocked(name, uid, gid, home, shellPath)
	if createHome && !system {
		_ = g.fs.mkdir(home, 0o755, name, g.groupNameLocked(gid), true)
		n := g.fs.nodes[home]
		n.owner, n.group = name, g.groupNameLocked(gid)
	}
	return 0, nil
}

func cUsermod(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	g := s.g
	g.mu.Lock()
	defer g.mu.Unlock()
	last := argv[len(argv)-1]
	switch argv[0] {
	case "groupadd":
		if _, ok := g.groups[last]; ok {
			fmt.Fprintf(ios.err, "groupadd: group '%s' already exists\n", last)
			return 9, nil
		}
		g.groups[last] = g.nextUserUIDLocked()
		g.writeAccountsLocked()
		return 0, nil
	case "userdel":
		if _, ok := g.users[last]; !ok {
			fmt.Fprintf(ios.err, "userdel: user '%s' does not exist\n", last)
			return 6, nil
		}
		delete(g.users, last)
		g.writeAccountsLocked()
		return 0, nil
	}
	if _, ok := g.users[last]; !ok {
		fmt.Fprintf(ios.err, "usermod: user '%s' does not exist\n", last)
		return 6, nil
	}
	return 0, nil
}

func cID(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	flags, ops := flagSplit(argv[1:], "")
	name := s.user
	if len(ops) > 0 {
		name = ops[0]
	}
	s.g.mu.Lock()
	u, ok := s.g.lookupUserLocked(name)
	var gname string
	if ok {
		gname = s.g.groupNameLocked(u.gid)
	}
	s.g.mu.Unlock()
	if !ok {
		fmt.Fprintf(ios.err, "id: '%s': no such user\n", name)
		return 1, nil
	}
	switch {
	case argv[0] == "whoami":
		fmt.Fprintln(ios.out, u.name)
	case has(flags, "u") && has(flags, "n"):
		fmt.Fprintln(ios.out, u.name)
	case has(flags, "u"):
		fmt.Fprintln(ios.out, u.uid)
	case has(flags, "g") && has(flags, "n"):
		fmt.Fprintln(ios.out, gname)
	case has(flags, "g"), has(flags, "G"):
		fmt.Fprintln(ios.out, u.gid)
	default:
		fmt.Fprintf(ios.out, "uid=%d(%s) gid=%d(%s) groups=%d(%s)\n", u.uid, u.name, u.gid, gname, u.gid, gname)
	}
	return 0, nil
}

func cGetent(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	if len(argv) < 2 {
		return 1, nil
	}
	file := map[string]string{"passwd": "/etc/passwd", "group": "/etc/group"}[argv[1]]
	if file == "" {
		if argv[1] == "hosts" || argv[1] == "ahosts" {
			return 2, nil
		}
		return 0, &UnsupportedError{What: "getent " + argv[1]}
	}
	data, _ := s.g.ReadFile(file)
	status := 0
	if len(argv) == 2 {
		_, _ = ios.out.Write(data)
		return 0, nil
	}
	for _, key := range argv[2:] {
		found := false
		for _, l := range strings.Split(string(data), "\n") {
			f := strings.Split(l, ":")
			if len(f) > 2 && (f[0] == key || f[2] == key) {
				fmt.Fprintln(ios.out, l)
				found = true
				break
			}
		}
		if !found {
			status = 2
		}
	}
	return status, nil
}

// cSu runs a command as another user: su [-] [-s shell] user -c cmd,
// runuser -u user -- cmd..., runuser -l user -c cmd.
func cSu(ctx context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	var userName, script string
	var cmd []string
	login := false
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "-" || a == "-l" || a == "--login":
			login = true
		case a == "-c" || a == "--command":
			if i+1 < len(argv) {
				i++
				script = argv[i]
			}
		case a == "-s" || a == "--shell" || a == "-g" || a == "--group":
			i++
		case a == "-u" || a == "--user":
			if i+1 < len(argv) {
				i++
				userName = argv[i]
			}
		case a == "--":
			cmd = argv[i+1:]
			i = len(argv)
		case strings.HasPrefix(a, "-"):
			return 0, &UnsupportedError{What: argv[0] + " " + a}
		case userName == "":
			userName = a
		default:
			cmd = argv[i:]
			i = len(argv)
		}
	}
	if userName == "" {
		userName = "root"
	}
	s.g.mu.Lock()
	u, ok := s.g.lookupUserLocked(userName)
	s.g.mu.Unlock()
	if !ok {
		fmt.Fprintf(ios.err, "%s: user %s does not exist or the user entry does not contain all the required fields\n", argv[0], userName)
		return 1, nil
	}
	c := s.child()
	c.user, c.arg0 = u.name, "bash"
	c.set("HOME", u.home)
	c.set("USER", u.name)
	c.set("LOGNAME", u.name)
	if login {
		c.cwd = u.home
		if !s.g.Exists(u.home) {
			c.cwd = "/"
		}
	}
	if script != "" {
		cmd = []string{"bash", "-c", script}
	}
	if len(cmd) == 0 {
		return 0, &UnsupportedError{What: "interactive " + argv[0]}
	}
	return c.subshell(ctx, func() error {
		st, err := c.invoke(ctx, cmd, ios)
		c.status = st
		return err
	})
}

func cEnv(ctx context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	if argv[0] == "printenv" {
		if len(argv) > 1 {
			v, ok := s.vars[argv[1]]
			if !ok || !v.exported {
				return 1, nil
			}
			fmt.Fprintln(ios.out, v.val)
			return 0, nil
		}
	}
	c := s.clone()
	i := 1
	for ; i < len(argv); i++ {
		a := argv[i]
		if a == "-i" || a == "--ignore-environment" || a == "-" {
			c.vars = map[string]*shVar{}
			continue
		}
		if a == "-u" && i+1 < len(argv) {
			i++
			delete(c.vars, argv[i])
			continue
		}
		if name, val, ok := strings.Cut(a, "="); ok && isName(name) {
			c.vars[name] = &shVar{val: val, exported: true}
			continue
		}
		break
	}
	if i >= len(argv) {
		for _, k := range sortedKeys(c.vars) {
			if c.vars[k].exported {
				fmt.Fprintf(ios.out, "%s=%s\n", k, c.vars[k].val)
			}
		}
		return 0, nil
	}
	c.funcs = map[string]*funcDef{}
	return c.subshell(ctx, func() error {
		st, err := c.invoke(ctx, argv[i:], ios)
		c.status = st
		return err
	})
}

func cUname(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	flags, _ := flagSplit(argv[1:], "")
	parts := map[string]string{"s": "Linux", "n": s.g.Hostname(), "r": KernelRelease, "m": "x86_64",
		"v": KernelVersion, "o": "GNU/Linux"}
	if len(flags) == 0 {
		flags = map[string]string{"s": ""}
	}
	if has(flags, "a", "--all") {
		flags = map[string]string{"s": "", "n": "", "r": "", "v": "", "m": "", "o": ""}
	}
	var out []string
	for _, k := range []string{"s", "n", "r", "v", "m", "o"} {
		if has(flags, k) {
			out = append(out, parts[k])
		}
	}
	fmt.Fprintln(ios.out, strings.Join(out, " "))
	return 0, nil
}

func cTimeout(ctx context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	args := argv[1:]
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		if args[0] == "-s" || args[0] == "-k" {
			args = args[1:]
		}
		args = args[1:]
	}
	if len(args) < 2 {
		fmt.Fprintln(ios.err, "timeout: missing operand")
		return 125, nil
	}
	d, ok := parseDuration(args[0])
	if !ok {
		fmt.Fprintf(ios.err, "timeout: invalid time interval '%s'\n", args[0])
		return 125, nil
	}
	scaled := time.Duration(float64(d) * s.g.cfg.SleepScale)
	cctx := ctx
	if scaled > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, scaled)
		defer cancel()
	}
	c := s.clone()
	st, err := c.subshell(cctx, func() error {
		st, err := c.invoke(cctx, args[1:], ios)
		c.status = st
		return err
	})
	if ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded) {
		return 124, nil
	}
	return st, err
}

func cOpenssl(_ context.Context, _ *shell, argv []string, ios ioSet) (int, error) {
	if len(argv) >= 4 && argv[1] == "rand" {
		n, err := strconv.Atoi(argv[len(argv)-1])
		if err != nil || n < 0 || n > 1<<20 {
			fmt.Fprintln(ios.err, "openssl rand: invalid length")
			return 1, nil
		}
		buf := make([]byte, n)
		_, _ = rand.Read(buf)
		switch argv[2] {
		case "-hex":
			fmt.Fprintln(ios.out, hex.EncodeToString(buf))
			return 0, nil
		case "-base64":
			fmt.Fprintln(ios.out, base64.StdEncoding.EncodeToString(buf))
			return 0, nil
		}
	}
	return 0, &UnsupportedError{What: "openssl " + strings.Join(argv[1:], " ")}
}

func cPgrep(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	flags, ops := flagSplit(argv[1:], "u")
	if len(ops) == 0 {
		return 2, nil
	}
	s.g.mu.Lock()
	defer s.g.mu.Unlock()
	status := 1
	for _, name := range sortedKeys(s.g.units) {
		u := s.g.units[name]
		if !u.active {
			continue
		}
		def, _ := s.g.unitDefLocked(name)
		proc := procName(name, def.exec)
		if proc == ops[0] || (!has(flags, "x") && strings.Contains(proc, ops[0])) {
			fmt.Fprintln(ios.out, u.pid)
			status = 0
		}
	}
	return status, nil
}
