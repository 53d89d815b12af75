package provision

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/lxcbot/lxcbot/internal/secret"
)

// UnitStatus is one line of `systemctl list-units --type=service`.
type UnitStatus struct {
	Unit   string // nginx.service
	Load   string
	Active string
	Sub    string
}

// ParseSystemctlUnits parses the output of
// `systemctl list-units --type=service --state=running --no-legend --plain`.
// Lines that are not service units are skipped.
func ParseSystemctlUnits(out string) []UnitStatus {
	var units []UnitStatus
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && (f[0] == "●" || f[0] == "*") {
			f = f[1:]
		}
		if len(f) < 4 || !strings.HasSuffix(f[0], ".service") || len(f[0]) <= len(".service") {
			continue
		}
		units = append(units, UnitStatus{Unit: f[0], Load: f[1], Active: f[2], Sub: f[3]})
	}
	return units
}

// Listener is one listening TCP socket from `ss -tlnpH`.
type Listener struct {
	Addr      string // as printed: 0.0.0.0, 10.0.0.5, ::, *, 127.0.0.1
	Port      int
	Processes []ListenerProcess
}

// ListenerProcess is one process holding a listening socket.
type ListenerProcess struct {
	Name string
	PID  int
}

// Loopback reports whether the socket is reachable only from inside the
// container.
func (l Listener) Loopback() bool {
	if l.Addr == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(l.Addr)
	return err == nil && a.IsLoopback()
}

var ssProcRE = regexp.MustCompile(`\("((?:[^"\\]|\\.)*)",pid=(\d+)`)

// ParseSS parses the output of `ss -tlnpH` (state, queues, local address,
// peer address, process). Addresses come as 0.0.0.0:80, 10.0.0.5:5432,
// 127.0.0.1:6379, [::]:80, *:22 or with an interface (10.0.0.5%eth0:53).
func ParseSS(out string) []Listener {
	var ls []Listener
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		local := f[3]
		if f[0] != "LISTEN" && f[0] != "UNCONN" {
			// Without a state column (ss -l on some versions) the address
			// comes third.
			local = f[2]
			if _, err := strconv.Atoi(f[0]); err != nil {
				continue
			}
		}
		addr, port, ok := splitHostPort(local)
		if !ok {
			continue
		}
		l := Listener{Addr: addr, Port: port}
		if i := strings.Index(line, "users:("); i >= 0 {
			for _, m := range ssProcRE.FindAllStringSubmatch(line[i:], -1) {
				pid, err := strconv.Atoi(m[2])
				if err != nil {
					continue
				}
				l.Processes = append(l.Processes, ListenerProcess{Name: m[1], PID: pid})
			}
		}
		ls = append(ls, l)
	}
	return ls
}

func splitHostPort(s string) (string, int, bool) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 || i == len(s)-1 {
		return "", 0, false
	}
	host, p := s[:i], s[i+1:]
	port, err := strconv.Atoi(p)
	if err != nil || port <= 0 || port > 65535 {
		return "", 0, false
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if j := strings.IndexByte(host, '%'); j >= 0 {
		host = host[:j]
	}
	if host == "" {
		return "", 0, false
	}
	return host, port, true
}

// CredentialPair is one KEY=VALUE line of a credentials file.
type CredentialPair struct {
	Key   string
	Value string
}

// ParseCredentialFile parses a credentials file written by save_credential
// (or by hand): KEY=VALUE lines, an optional "export " prefix, values in
// matching single or double quotes unquoted, blank lines and # comments
// skipped. A key given twice keeps its last value.
func ParseCredentialFile(content string) []CredentialPair {
	var out []CredentialPair
	for _, line := range strings.Split(content, "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t\"'") {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		if i := slices.IndexFunc(out, func(p CredentialPair) bool { return p.Key == k }); i >= 0 {
			out[i].Value = v
			continue
		}
		out = append(out, CredentialPair{Key: k, Value: v})
	}
	return out
}

// systemUnitPrefixes name units that come with the OS, not with a template.
var systemUnitNames = []string{"ssh", "sshd", "cron", "anacron", "atd", "dbus", "rsyslog", "postfix", "exim4",
	"console-getty", "networking", "polkit", "unattended-upgrades", "networkd-dispatcher", "chrony", "ntp",
	"apparmor", "udev", "ufw", "qemu-guest-agent", "snapd", "lxcfs", "nscd", "dhclient", "ifupdown-pre"}

var systemUnitPrefixes = []string{"systemd-", "getty@", "container-getty@", "serial-getty@", "user@", "ifup@",
	"user-runtime-dir@", "dbus-", "postfix@"}

// UnitKind classifies a unit as the OS's own or an application's.
func UnitKind(unit string) ServiceKind {
	base := strings.TrimSuffix(unit, ".service")
	if slices.Contains(systemUnitNames, base) {
		return ServiceSystem
	}
	for _, p := range systemUnitPrefixes {
		if strings.HasPrefix(base, p) {
			return ServiceSystem
		}
	}
	return ServiceApplication
}

// Discovery is what discovery found in a container.
type Discovery struct {
	Services    []Service
	Credentials []Credential
}

// discoverIn reads services, their ports and the saved credentials of a
// container. ip (may be empty) makes the web links.
func discoverIn(ctx context.Context, host HostRunner, containerID string, vmid int, ip string) (Discovery, error) {
	var d Discovery
	run := func(argv ...string) (string, error) {
		res, err := host.Exec(ctx, vmid, argv, ExecOptions{})
		if err != nil {
			return "", err
		}
		if res.ExitCode != 0 {
			return "", fmt.Errorf("%s exited with status %d: %s", strings.Join(argv, " "), res.ExitCode, lastLine(res.Stderr))
		}
		return res.Stdout, nil
	}
	out, err := run("systemctl", "list-units", "--type=service", "--state=running", "--no-legend", "--plain")
	if err != nil {
		return d, fmt.Errorf("listing services: %w", err)
	}
	units := ParseSystemctlUnits(out)
	ssOut, err := run("ss", "-tlnpH")
	if err != nil {
		return d, fmt.Errorf("listing listening ports: %w", err)
	}
	listeners := ParseSS(ssOut)

	pidUnit := map[int]string{}
	for _, u := range units {
		out, err := run("systemctl", "show", "-p", "MainPID", "--value", u.Unit)
		if err != nil {
			continue
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(out)); err == nil && pid > 0 {
			pidUnit[pid] = u.Unit
		}
	}
	ports := map[string][]Listener{}
	for _, l := range listeners {
		if unit := unitOf(l, pidUnit, units); unit != "" {
			ports[unit] = append(ports[unit], l)
		}
	}
	for _, u := range units {
		svc := Service{ContainerID: containerID, Unit: u.Unit, Kind: UnitKind(u.Unit), Status: u.Active}
		if u.Sub != "" && u.Sub != u.Active {
			svc.Status = u.Sub
		}
		webPort := 0
		for _, l := range ports[u.Unit] {
			if !slices.Contains(svc.Ports, l.Port) {
				svc.Ports = append(svc.Ports, l.Port)
			}
			if !l.Loopback() && (webPort == 0 || l.Port < webPort) {
				webPort = l.Port
			}
		}
		slices.Sort(svc.Ports)
		if webPort != 0 && ip != "" {
			svc.URL = fmt.Sprintf("http://%s:%d", ip, webPort)
		}
		d.Services = append(d.Services, svc)
	}
	// Applications first, then by name.
	slices.SortStableFunc(d.Services, func(a, b Service) int {
		if a.Kind != b.Kind {
			if a.Kind == ServiceApplication {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Unit, b.Unit)
	})

	creds, err := readCredentialsIn(ctx, host, containerID, vmid)
	if err != nil {
		return d, err
	}
	d.Credentials = creds
	return d, nil
}

// unitOf maps a listener to a unit by main PID, else by process name.
func unitOf(l Listener, pidUnit map[int]string, units []UnitStatus) string {
	for _, p := range l.Processes {
		if u, ok := pidUnit[p.PID]; ok {
			return u
		}
	}
	for _, p := range l.Processes {
		for _, u := range units {
			if strings.TrimSuffix(u.Unit, ".service") == p.Name {
				return u.Unit
			}
		}
	}
	for _, p := range l.Processes {
		for _, u := range units {
			base := strings.TrimSuffix(u.Unit, ".service")
			if p.Name != "" && (strings.HasPrefix(base, p.Name) || strings.HasPrefix(p.Name, base)) {
				return u.Unit
			}
		}
	}
	return ""
}

// readCredentialsIn reads /etc/infrahaus/credentials/<service>[.env].
func readCredentialsIn(ctx context.Context, host HostRunner, containerID string, vmid int) ([]Credential, error) {
	res, err := host.Exec(ctx, vmid, []string{"ls", "-1", "--", CredentialsDir}, ExecOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing credentials: %w", err)
	}
	if res.ExitCode != 0 {
		return nil, nil // no directory: nothing saved
	}
	var creds []Credential
	for _, name := range strings.Split(res.Stdout, "\n") {
		name = strings.TrimSpace(name)
		if name == "" || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".tmp") || strings.Contains(name, ".backup-") {
			continue
		}
		service := strings.TrimSuffix(name, ".env")
		if service == "" {
			continue
		}
		f, err := host.Exec(ctx, vmid, []string{"cat", "--", CredentialsDir + "/" + name}, ExecOptions{})
		if err != nil {
			return nil, fmt.Errorf("reading credentials of %s: %w", service, err)
		}
		if f.ExitCode != 0 {
			continue // a directory or unreadable entry
		}
		for _, kv := range ParseCredentialFile(f.Stdout) {
			c := Credential{ContainerID: containerID, Service: service, Key: kv.Key, Value: secret.String(kv.Value)}
			if i := slices.IndexFunc(creds, func(x Credential) bool { return x.Service == c.Service && x.Key == c.Key }); i >= 0 {
				creds[i] = c
				continue
			}
			creds = append(creds, c)
		}
	}
	return creds, nil
}

// Discover runs discovery in the job's container.
func (r *run) Discover(ctx context.Context) (Discovery, error) {
	host, err := r.hostRunner(ctx)
	if err != nil {
		return Discovery{}, err
	}
	return discoverIn(ctx, host, r.c.ID, r.c.VMID, r.c.IP)
}

func (r *run) readCredentials(ctx context.Context) ([]Credential, error) {
	host, err := r.hostRunner(ctx)
	if err != nil {
		return nil, err
	}
	return readCredentialsIn(ctx, host, r.c.ID, r.c.VMID)
}

// RefreshServices discovers a ready container's services and credentials
// again and stores them.
func (s *Engine) RefreshServices(ctx context.Context, containerID string) (Discovery, error) {
	c, err := s.store.GetContainer(ctx, containerID)
	if err != nil {
		return Discovery{}, s.notFound(containerID, err)
	}
	if c.VMID == 0 || c.NodeName == "" {
		return Discovery{}, Userf(ErrConflict, "%s has not been created on Proxmox yet", c.Hostname)
	}
	host, err := s.nodes.Host(ctx, c.NodeName)
	if err != nil {
		return Discovery{}, fmt.Errorf("refreshing services of %s: connecting to %s: %w", c.Hostname, c.NodeName, err)
	}
	d, err := discoverIn(ctx, host, c.ID, c.VMID, c.IP)
	if err != nil {
		return Discovery{}, fmt.Errorf("refreshing services of %s (CT %d): %w", c.Hostname, c.VMID, err)
	}
	if err := s.store.ReplaceServices(ctx, c.ID, d.Services); err != nil {
		return Discovery{}, err
	}
	if err := s.store.ReplaceCredentials(ctx, c.ID, d.Credentials); err != nil {
		return Discovery{}, err
	}
	return d, nil
}
