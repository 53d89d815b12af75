package guest

import (
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// builtinMarker is the content of the stub files that make Go-implemented
// commands visible in the guest's bin directories.
const builtinMarker = "#!/bin/sh\n# lxcbot-sim: implemented by the simulator\nexit 0\n"

// unitSpec is what a package installs under /lib/systemd/system.
type unitSpec struct {
	name   string
	desc   string
	exec   string
	listen string // comma separated; "postgresql" derives it from the config
	user   string
}

type pkgSpec struct {
	version string
	bins    []string // absolute paths of stub executables
	units   []unitSpec
	users   []string // system users the package creates
	files   map[string]string
	execs   map[string]string // executable files (mode 0755) and their content
	start   bool              // Debian starts the unit right after installation
}

var aptCatalog = map[string]pkgSpec{
	"nginx": {version: "1.22.1-9", bins: []string{"/usr/sbin/nginx"}, start: true,
		units: []unitSpec{{name: "nginx.service", desc: "A high performance web server and a reverse proxy server",
			exec: "/usr/sbin/nginx -g 'daemon on; master_process on;'", listen: "0.0.0.0:80,[::]:80"}},
		users: []string{"www-data"},
		files: map[string]string{"/etc/nginx/nginx.conf": "user www-data;\nworker_processes auto;\n",
			"/var/www/html/index.nginx-debian.html": "<html><body><h1>Welcome to nginx!</h1></body></html>\n"}},
	"apache2": {version: "2.4.62-1", bins: []string{"/usr/sbin/apache2"}, start: true,
		units: []unitSpec{{name: "apache2.service", desc: "The Apache HTTP Server", exec: "/usr/sbin/apachectl start",
			listen: "*:80"}}, users: []string{"www-data"}},
	"postgresql": {version: "15+248", bins: []string{"/usr/bin/psql", "/usr/bin/pg_dump", "/usr/bin/createdb", "/usr/bin/createuser"},
		start: true, users: []string{"postgres"},
		units: []unitSpec{{name: "postgresql.service", desc: "PostgreSQL RDBMS",
			exec: "/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main", listen: "postgresql", user: "postgres"}},
		files: map[string]string{"/etc/postgresql/15/main/postgresql.conf": "#listen_addresses = 'localhost'\nport = 5432\n",
			"/etc/postgresql/15/main/pg_hba.conf": "local all postgres peer\nhost all all 127.0.0.1/32 scram-sha-256\n"}},
	"redis-server": {version: "5:7.0.15-1", bins: []string{"/usr/bin/redis-server", "/usr/bin/redis-cli"}, start: true,
		users: []string{"redis"},
		units: []unitSpec{{name: "redis-server.service", desc: "Advanced key-value store",
			exec: "/usr/bin/redis-server 127.0.0.1:6379", listen: "127.0.0.1:6379,[::1]:6379", user: "redis"}}},
	"mariadb-server": {version: "1:10.11.6-0", bins: []string{"/usr/sbin/mariadbd", "/usr/bin/mariadb", "/usr/bin/mysql"},
		start: true, users: []string{"mysql"},
		units: []unitSpec{{name: "mariadb.service", desc: "MariaDB 10.11.6 database server", exec: "/usr/sbin/mariadbd",
			listen: "127.0.0.1:3306", user: "mysql"}}},
	"docker.io": {version: "20.10.24", bins: []string{"/usr/bin/docker", "/usr/bin/dockerd"}, start: true,
		units: []unitSpec{{name: "docker.service", desc: "Docker Application Container Engine", exec: "/usr/bin/dockerd"}}},
	"python3":           {version: "3.11.2-1", bins: []string{"/usr/bin/python3"}},
	"python3-pip":       {version: "23.0.1", bins: []string{"/usr/bin/pip", "/usr/bin/pip3"}},
	"python3-venv":      {version: "3.11.2-1"},
	"nodejs":            {version: "18.19.0", bins: []string{"/usr/bin/node", "/usr/bin/nodejs"}},
	"npm":               {version: "9.2.0", bins: []string{"/usr/bin/npm", "/usr/bin/node"}},
	"curl":              {version: "7.88.1-10", bins: []string{"/usr/bin/curl"}},
	"wget":              {version: "1.21.3-1", bins: []string{"/usr/bin/wget"}},
	"git":               {version: "1:2.39.5-0", bins: []string{"/usr/bin/git"}},
	"sudo":              {version: "1.9.13p3-1", bins: []string{"/usr/bin/sudo"}},
	"jq":                {version: "1.6-2.1", bins: []string{"/usr/bin/jq"}},
	"unzip":             {version: "6.0-28", bins: []string{"/usr/bin/unzip"}},
	"htop":              {version: "3.2.2-2", bins: []string{"/usr/bin/htop"}},
	"vim":               {version: "2:9.0.1378-2", bins: []string{"/usr/bin/vim"}},
	"openssl":           {version: "3.0.15-1", bins: []string{"/usr/bin/openssl"}},
	"postgresql-client": {version: "15+248", bins: []string{"/usr/bin/psql", "/usr/bin/pg_dump"}},
}

// basePackages are preinstalled in every container.
var basePackages = []string{"bash", "coreutils", "systemd", "openssh-server", "cron", "apt", "dpkg",
	"procps", "iproute2", "sed", "grep", "gzip", "tar", "passwd", "adduser", "ca-certificates",
	"locales", "openssl", "findutils", "hostname", "util-linux", "perl-base"}

var packageNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9+.\-]*$`)

type unitState struct {
	active  bool
	enabled bool
	failed  bool
	pid     int
	since   time.Time
	listen  []string
	journal []string
}

func (g *Guest) buildBase() {
	g.mu.Lock()
	defer g.mu.Unlock()
	dirs := []string{"/etc", "/etc/systemd/system", "/etc/apt", "/etc/default", "/root", "/home", "/tmp", "/var/log",
		"/var/lib", "/var/tmp", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", "/usr/lib",
		"/lib/systemd/system", "/opt", "/srv", "/run", "/dev", "/proc", "/bin", "/sbin", "/var/lib/dpkg", "/var/www"}
	for _, d := range dirs {
		_ = g.fs.mkdir(d, 0o755, "root", "root", true)
	}
	g.fs.nodes["/tmp"].mode = 0o1777
	g.fs.nodes["/root"].mode = 0o700
	for _, name := range sortedKeys(builtins) {
		if shellBuiltins[name] || packageProvided[name] {
			continue
		}
		dir := "/usr/bin"
		if sbinCommands[name] {
			dir = "/usr/sbin"
		}
		_ = g.fs.writeFile(dir+"/"+name, []byte(builtinMarker), false, 0o755, "root", "root")
	}
	for _, name := range []string{"bash", "sh", "dash"} {
		_ = g.fs.writeFile("/usr/bin/"+name, []byte(builtinMarker), false, 0o755, "root", "root")
	}
	pretty := map[string]string{"debian": "Debian GNU/Linux", "ubuntu": "Ubuntu", "alpine": "Alpine Linux",
		"rockylinux": "Rocky Linux", "almalinux": "AlmaLinux", "fedora": "Fedora Linux", "archlinux": "Arch Linux",
		"centos": "CentOS Stream"}[g.osID]
	if pretty == "" {
		pretty = g.osID
	}
	prettyName := pretty + " " + g.osVersion
	if g.osCodename != "" {
		prettyName += " (" + g.osCodename + ")"
	}
	osRelease := fmt.Sprintf("PRETTY_NAME=%q\nNAME=%q\nVERSION_ID=%q\nVERSION=%q\nID=%s\n",
		prettyName, pretty, g.osVersion, g.osVersion, g.osID)
	if g.osCodename != "" {
		osRelease += "VERSION_CODENAME=" + g.osCodename + "\n"
	}
	files := map[string]string{
		"/etc/os-release":  osRelease,
		"/etc/hostname":    g.cfg.Hostname + "\n",
		"/etc/hosts":       "127.0.0.1\tlocalhost\n127.0.1.1\t" + g.cfg.Hostname + "\n",
		"/etc/resolv.conf": "nameserver 10.0.0.1\n",
		"/etc/shells":      "/bin/sh\n/bin/bash\n/usr/bin/bash\n",
		"/root/.bashrc":    "# ~/.bashrc\n",
	}
	if g.osID == "debian" {
		files["/etc/debian_version"] = g.osVersion + ".0\n"
	}
	for p, c := range files {
		_ = g.fs.writeFile(p, []byte(c), false, 0o644, "root", "root")
	}
	for _, u := range []struct {
		name      string
		uid       int
		home, sh  string
		groupOnly bool
	}{
		{"root", 0, "/root", "/bin/bash", false}, {"daemon", 1, "/usr/sbin", "/usr/sbin/nologin", false},
		{"bin", 2, "/bin", "/usr/sbin/nologin", false}, {"sys", 3, "/dev", "/usr/sbin/nologin", false},
		{"www-data", 33, "/var/www", "/usr/sbin/nologin", false}, {"nobody", 65534, "/nonexistent", "/usr/sbin/nologin", false},
		{"sshd", 101, "/run/sshd", "/usr/sbin/nologin", false},
	} {
		g.groups[u.name] = u.uid
		g.users[u.name] = &user{name: u.name, uid: u.uid, gid: u.uid, home: u.home, shell: u.sh}
	}
	g.groups["nogroup"] = 65534
	g.users["nobody"].gid = 65534
	delete(g.groups, "nobody")
	g.groups["sudo"] = 27
	g.groups["adm"] = 4
	g.writeAccountsLocked()
	for _, p := range basePackages {
		g.packages["apt"][p] = "base"
	}
	system := []unitSpec{
		{name: "ssh.service", desc: "OpenBSD Secure Shell server", exec: "/usr/sbin/sshd -D", listen: "0.0.0.0:22,[::]:22"},
		{name: "cron.service", desc: "Regular background program processing daemon", exec: "/usr/sbin/cron -f"},
		{name: "systemd-journald.service", desc: "Journal Service", exec: "/lib/systemd/systemd-journald"},
		{name: "systemd-logind.service", desc: "User Login Management", exec: "/lib/systemd/systemd-logind"},
		{name: "dbus.service", desc: "D-Bus System Message Bus", exec: "/usr/bin/dbus-daemon --system"},
		{name: "postfix@-.service", desc: "Postfix Mail Transport Agent (instance -)", exec: "/usr/lib/postfix/sbin/master",
			listen: "127.0.0.1:25,[::1]:25"},
	}
	for _, u := range system {
		g.writeUnitFileLocked(u)
		g.units[u.name] = &unitState{enabled: true}
	}
}

func (g *Guest) writeUnitFileLocked(u unitSpec) {
	var b strings.Builder
	fmt.Fprintf(&b, "[Unit]\nDescription=%s\n\n[Service]\n", u.desc)
	if u.listen != "" {
		fmt.Fprintf(&b, "# lxcbot-sim: listen=%s\n", u.listen)
	}
	if u.user != "" {
		fmt.Fprintf(&b, "User=%s\n", u.user)
	}
	fmt.Fprintf(&b, "ExecStart=%s\n\n[Install]\nWantedBy=multi-user.target\n", u.exec)
	_ = g.fs.writeFile("/lib/systemd/system/"+u.name, []byte(b.String()), false, 0o644, "root", "root")
}

// installAptLocked installs one package; it reports an error text when the
// package cannot be found.
func (g *Guest) installAptLocked(name string) (bool, error) {
	if _, ok := g.packages["apt"][name]; ok {
		return false, nil
	}
	spec, known := aptCatalog[name]
	if !known {
		if !packageNameRE.MatchString(name) {
			return false, fmt.Errorf("Unable to locate package %s", name)
		}
		spec = pkgSpec{version: "1.0-1"}
	}
	g.installSpecLocked(name, spec, true)
	return true, nil
}

// installSpecLocked unpacks a package: stub binaries (Go-implemented
// commands get their marker), executables, files, system users and units.
// Units are enabled (and started when the package starts them) only when
// enableUnits is set, as Debian's maintainer scripts do for apt packages.
func (g *Guest) installSpecLocked(name string, spec pkgSpec, enableUnits bool) {
	g.packages["apt"][name] = spec.version
	for _, b := range spec.bins {
		content := "#!/bin/sh\nexit 0\n"
		if packageProvided[path.Base(b)] {
			content = builtinMarker
		} else if _, ok := g.fs.nodes[b]; ok {
			continue
		}
		_ = g.fs.mkdir(path.Dir(b), 0o755, "root", "root", true)
		_ = g.fs.writeFile(b, []byte(content), false, 0o755, "root", "root")
	}
	if name == "python3-pip" || name == "npm" {
		bin := map[string][]string{"python3-pip": {"pip", "pip3"}, "npm": {"npm"}}[name]
		for _, b := range bin {
			_ = g.fs.writeFile("/usr/bin/"+b, []byte(builtinMarker), false, 0o755, "root", "root")
		}
	}
	if name == "postgresql" && g.pg == nil {
		g.pg = newPGCluster()
	}
	for _, u := range spec.users {
		if _, ok := g.users[u]; !ok {
			uid := g.nextSystemUIDLocked()
			g.addUserLocked(u, uid, uid, "/var/lib/"+u, "/usr/sbin/nologin")
		}
	}
	for _, p := range sortedKeys(spec.files) {
		_ = g.fs.mkdir(path.Dir(p), 0o755, "root", "root", true)
		_ = g.fs.writeFile(p, []byte(spec.files[p]), false, 0o644, "root", "root")
	}
	for _, p := range sortedKeys(spec.execs) {
		_ = g.fs.mkdir(path.Dir(p), 0o755, "root", "root", true)
		_ = g.fs.writeFile(p, []byte(spec.execs[p]), false, 0o755, "root", "root")
		if n, ok := g.fs.nodes[p]; ok {
			n.data, n.mode = []byte(spec.execs[p]), 0o755
		}
	}
	for _, u := range spec.units {
		g.writeUnitFileLocked(u)
		if !enableUnits {
			continue
		}
		st := g.unitLocked(u.name)
		st.enabled = true
		if spec.start {
			_ = g.startUnitLocked(u.name)
		}
	}
}

func (g *Guest) nextSystemUIDLocked() int {
	used := map[int]bool{}
	for _, u := range g.users {
		used[u.uid] = true
	}
	for _, id := range g.groups {
		used[id] = true
	}
	for uid := 102; uid < 1000; uid++ {
		if !used[uid] {
			return uid
		}
	}
	return 999
}

func (g *Guest) nextUserUIDLocked() int {
	uid := 1000
	for _, u := range g.users {
		if u.uid >= uid && u.uid < 60000 {
			uid = u.uid + 1
		}
	}
	for _, id := range g.groups {
		if id >= uid && id < 60000 {
			uid = id + 1
		}
	}
	return uid
}

// ---- systemd ----

func normalizeUnit(name string) string {
	if !strings.Contains(name, ".") {
		return name + ".service"
	}
	return name
}

var unitDirs = []string{"/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"}

// unitFileLocked finds a unit file; an instance (name@inst.service) falls
// back to its template (name@.service) with %i and %I replaced.
func (g *Guest) unitFileLocked(name string) (string, string, bool) {
	for _, d := range unitDirs {
		p := d + "/" + name
		if n, ok := g.fs.nodes[p]; ok && !n.dir {
			return string(n.data), p, true
		}
	}
	prefix, rest, ok := strings.Cut(name, "@")
	inst, suffix, dot := strings.Cut(rest, ".")
	if !ok || !dot || inst == "" {
		return "", "", false
	}
	text, p, ok := g.unitFileLocked(prefix + "@." + suffix)
	if !ok {
		return "", "", false
	}
	return strings.NewReplacer("%i", inst, "%I", inst).Replace(text), p, true
}

// dropInsLocked returns the contents of the unit's drop-in files
// (<unit>.d/*.conf in every unit directory), ordered by file name.
func (g *Guest) dropInsLocked(name string) []string {
	byName := map[string]string{}
	for i := len(unitDirs) - 1; i >= 0; i-- {
		dir := unitDirs[i] + "/" + name + ".d"
		for _, c := range g.fs.children(dir) {
			if n, ok := g.fs.nodes[dir+"/"+c]; ok && !n.dir && strings.HasSuffix(c, ".conf") {
				byName[c] = string(n.data)
			}
		}
	}
	var out []string
	for _, k := range sortedKeys(byName) {
		out = append(out, byName[k])
	}
	return out
}

func (g *Guest) unitLocked(name string) *unitState {
	u, ok := g.units[name]
	if !ok {
		u = &unitState{}
		g.units[name] = u
	}
	return u
}

type unitDef struct {
	desc, exec, user, path string
	home                   string // Environment=HOME=
	listen                 []string
	fail                   bool
}

func (g *Guest) unitDefLocked(name string) (unitDef, bool) {
	text, p, ok := g.unitFileLocked(name)
	if !ok {
		return unitDef{}, false
	}
	d := unitDef{path: p, desc: strings.TrimSuffix(name, ".service")}
	directive := ""
	hasDirective := false
	lines := strings.Split(text, "\n")
	for _, dropIn := range g.dropInsLocked(name) {
		lines = append(lines, strings.Split(dropIn, "\n")...)
	}
	for _, ln := range lines {
		ln = strings.TrimSpace(ln)
		switch {
		case strings.HasPrefix(ln, "Description="):
			d.desc = strings.TrimPrefix(ln, "Description=")
		case strings.HasPrefix(ln, "ExecStart="):
			d.exec = strings.TrimLeft(strings.TrimPrefix(ln, "ExecStart="), "-@+!")
		case strings.HasPrefix(ln, "User="):
			d.user = strings.TrimPrefix(ln, "User=")
		case strings.HasPrefix(ln, "Environment=HOME="):
			d.home = strings.Trim(strings.TrimPrefix(ln, "Environment=HOME="), `"`)
		case strings.HasPrefix(ln, "#") && strings.Contains(ln, "lxcbot-sim:"):
			rest := strings.TrimSpace(ln[strings.Index(ln, "lxcbot-sim:")+len("lxcbot-sim:"):])
			for _, kv := range strings.Fields(rest) {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "listen":
					directive, hasDirective = v, true
				case "fail":
					d.fail = true
				}
			}
		}
	}
	switch {
	case directive == "postgresql":
		d.listen = g.postgresListenLocked()
	case directive == "code-server":
		d.listen = g.codeServerListenLocked(d)
	case hasDirective:
		for _, a := range strings.Split(directive, ",") {
			if a = strings.TrimSpace(a); a != "" {
				d.listen = append(d.listen, a)
			}
		}
	default:
		d.listen = listenFromExec(d.exec)
	}
	return d, true
}

// listenFromExec derives listening sockets from common ExecStart flags:
// --port N, --port=N, -p N, --bind(-addr)/--listen host:port, --host H.
func listenFromExec(exec string) []string {
	args := strings.Fields(exec)
	host, port := "0.0.0.0", ""
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		k, v, hasEq := strings.Cut(a, "=")
		if !hasEq && i+1 < len(args) {
			v = args[i+1]
		}
		consume := func() {
			if !hasEq {
				i++
			}
		}
		switch k {
		case "--port", "-p", "--http-port", "--listen-port":
			if _, err := strconv.Atoi(v); err == nil {
				port = v
				consume()
			}
		case "--host", "--bind-host", "--address", "-H":
			host = v
			consume()
		case "--bind-addr", "--bind", "--listen", "--listen-addr", "--addr", "--http-addr":
			if h, p, ok := splitHostPort(v); ok {
				out = append(out, joinHostPort(h, p))
				consume()
			}
		}
	}
	if port != "" {
		out = append(out, joinHostPort(host, port))
	}
	return out
}

func splitHostPort(s string) (string, string, bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", "", false
	}
	h, p := s[:i], s[i+1:]
	if _, err := strconv.Atoi(p); err != nil {
		return "", "", false
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if h == "" {
		h = "0.0.0.0"
	}
	return h, p, true
}

func joinHostPort(h, p string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]:" + p
	}
	return h + ":" + p
}

// codeServerListenLocked is where code-server listens: its --bind-addr
// flag, else bind-addr in the user's ~/.config/code-server/config.yaml,
// else 127.0.0.1:8080.
func (g *Guest) codeServerListenLocked(d unitDef) []string {
	if l := listenFromExec(d.exec); len(l) > 0 {
		return l
	}
	home := "/root"
	if u, ok := g.lookupUserLocked(d.user); ok {
		home = u.home
	}
	if d.home != "" {
		home = d.home
	}
	conf, _ := g.fs.readFile(home + "/.config/code-server/config.yaml")
	for _, ln := range strings.Split(string(conf), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(ln), "bind-addr:"); ok {
			if h, p, ok := splitHostPort(strings.Trim(strings.TrimSpace(v), `'"`)); ok {
				return []string{joinHostPort(h, p)}
			}
		}
	}
	return []string{"127.0.0.1:8080"}
}

func (g *Guest) postgresListenLocked() []string {
	conf, _ := g.fs.readFile("/etc/postgresql/15/main/postgresql.conf")
	addrs, port := "localhost", "5432"
	for _, ln := range strings.Split(string(conf), "\n") {
		ln = strings.TrimSpace(ln)
		if strings.HasPrefix(ln, "#") {
			continue
		}
		k, v, ok := strings.Cut(ln, "=")
		if !ok {
			continue
		}
		v = strings.Trim(strings.TrimSpace(strings.SplitN(v, "#", 2)[0]), "'\"")
		switch strings.TrimSpace(k) {
		case "listen_addresses":
			addrs = v
		case "port":
			port = v
		}
	}
	var out []string
	for _, a := range strings.Split(addrs, ",") {
		switch a = strings.TrimSpace(a); a {
		case "*":
			out = append(out, "0.0.0.0:"+port, "[::]:"+port)
		case "localhost":
			out = append(out, "127.0.0.1:"+port, "[::1]:"+port)
		case "":
		default:
			out = append(out, joinHostPort(a, port))
		}
	}
	return out
}

func (g *Guest) journalLocked(u *unitState, proc, msg string) {
	ts := g.now().Format("Jan 02 15:04:05")
	host := strings.TrimSpace(g.cfg.Hostname)
	u.journal = append(u.journal, fmt.Sprintf("%s %s %s: %s", ts, host, proc, msg))
	if len(u.journal) > 1000 {
		u.journal = append(u.journal[:0], u.journal[len(u.journal)-500:]...)
	}
}

func (g *Guest) startUnitLocked(name string) error {
	def, ok := g.unitDefLocked(name)
	if !ok {
		return fmt.Errorf("Unit %s not found.", name)
	}
	u := g.unitLocked(name)
	if u.active {
		return nil
	}
	g.journalLocked(u, "systemd[1]", "Starting "+def.desc+"...")
	if def.fail {
		u.failed = true
		g.journalLocked(u, "systemd[1]", name+": Main process exited, code=exited, status=1/FAILURE")
		g.journalLocked(u, "systemd[1]", "Failed to start "+def.desc+".")
		return fmt.Errorf("Job for %s failed because the control process exited with error code.\n"+
			"See \"systemctl status %s\" and \"journalctl -xeu %s\" for details.", name, name, name)
	}
	g.nextPID += 7
	u.active, u.failed, u.pid, u.since, u.listen = true, false, g.nextPID, g.now(), def.listen
	proc := procName(name, def.exec)
	g.journalLocked(u, fmt.Sprintf("%s[%d]", proc, u.pid), "started with "+strings.TrimSpace(def.exec))
	for _, l := range def.listen {
		g.journalLocked(u, fmt.Sprintf("%s[%d]", proc, u.pid), "listening on "+l)
	}
	g.journalLocked(u, "systemd[1]", "Started "+def.desc+".")
	return nil
}

func (g *Guest) stopUnitLocked(name string, u *unitState) {
	desc := strings.TrimSuffix(name, ".service")
	if def, ok := g.unitDefLocked(name); ok {
		desc = def.desc
	}
	g.journalLocked(u, "systemd[1]", "Stopping "+desc+"...")
	u.active, u.pid, u.listen = false, 0, nil
	g.journalLocked(u, "systemd[1]", "Stopped "+desc+".")
}

func procName(unit, exec string) string {
	if f := strings.Fields(exec); len(f) > 0 {
		return path.Base(f[0])
	}
	return strings.TrimSuffix(unit, ".service")
}

// ---- network ----

func (g *Guest) hostAddrs() (netip.Prefix, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.addr, g.addr.IsValid()
}
