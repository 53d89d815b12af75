package pvesim

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// apiError is an error the API reports: the status code, the reason
// phrase, and for 400 the per-parameter errors.
type apiError struct {
	status    int
	reason    string
	errors    map[string]string
	emptyBody bool
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.status, e.reason) }

func errf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, reason: fmt.Sprintf(format, args...)}
}

func paramError(errs map[string]string) *apiError {
	return &apiError{status: 400, reason: "Parameter verification failed.", errors: errs}
}

func ctMissing(node string, vmid int) *apiError {
	return errf(500, "Configuration file 'nodes/%s/lxc/%d.conf' does not exist", node, vmid)
}

// createOnlyParams are POST /nodes/{node}/lxc parameters that are not
// written to the container config.
var createOnlyParams = []string{
	"ostemplate", "vmid", "node", "password", "ssh-public-keys", "start", "storage", "force",
	"restore", "unique", "ignore-unpack-errors", "bwlimit", "pool", "debug",
}

// netKeyOrder is the order pve-container prints net[n] options in.
var netKeyOrder = []string{"name", "bridge", "firewall", "gw", "gw6", "hwaddr", "ip", "ip6", "link_down", "mtu", "rate", "tag", "trunks", "type"}

var bridges = []string{"vmbr0", "vmbr1"}

// storageDef describes the fixed storages every node has.
type storageDef struct {
	name, typ, content string
	total              int64
}

var storages = []storageDef{
	{"local", "dir", "vztmpl,backup,iso", 100861726720},
	{"local-lvm", "lvmthin", "rootdir,images", 373553102848},
}

func findStorage(name string) (storageDef, bool) {
	for _, s := range storages {
		if s.name == name {
			return s, true
		}
	}
	return storageDef{}, false
}

// osType guesses pve-container's ostype from a template file name.
func osType(tmpl string) string {
	base := tmpl[strings.LastIndex(tmpl, "/")+1:]
	for _, os := range []string{"debian", "ubuntu", "alpine", "centos", "fedora", "archlinux", "opensuse", "gentoo", "nixos"} {
		if strings.HasPrefix(base, os) {
			return os
		}
	}
	if strings.HasPrefix(base, "rocky") || strings.HasPrefix(base, "alma") {
		return "centos"
	}
	return "unmanaged"
}

// formatSize prints a byte count the way PVE prints volume sizes.
func formatSize(b int64) string {
	switch {
	case b%(1<<40) == 0:
		return fmt.Sprintf("%dT", b>>40)
	case b%(1<<30) == 0:
		return fmt.Sprintf("%dG", b>>30)
	case b%(1<<20) == 0:
		return fmt.Sprintf("%dM", b>>20)
	case b%(1<<10) == 0:
		return fmt.Sprintf("%dK", b>>10)
	}
	return strconv.FormatInt(b, 10)
}

// canonicalRootfs turns "local-lvm:8" into "local-lvm:vm-101-disk-0,size=8G".
func canonicalRootfs(vmid int, value string) (string, error) {
	kv, err := parsePropertyString(value, "volume")
	if err != nil {
		return "", err
	}
	vol := kv["volume"]
	storage, spec, ok := strings.Cut(vol, ":")
	if !ok {
		return value, nil // a bind mount or device path
	}
	def, ok := findStorage(storage)
	if !ok {
		return "", fmt.Errorf("storage '%s' does not exist", storage)
	}
	if !strings.Contains(def.content, "rootdir") {
		return "", fmt.Errorf("storage '%s' does not support container directories", storage)
	}
	if gib, err := strconv.ParseFloat(spec, 64); err == nil {
		if gib <= 0 {
			gib = 4
		}
		kv["size"] = formatSize(int64(gib * (1 << 30)))
		if def.typ == "dir" {
			vol = fmt.Sprintf("%s:%d/vm-%d-disk-0.raw", storage, vmid, vmid)
		} else {
			vol = fmt.Sprintf("%s:vm-%d-disk-0", storage, vmid)
		}
	}
	delete(kv, "volume")
	out := []string{vol}
	for _, k := range sortedKeys(kv) {
		out = append(out, k+"="+kv[k])
	}
	return strings.Join(out, ","), nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// canonicalNet re-prints a net[n] value in pve-container's order with a
// generated hwaddr and type=veth.
func (c *Cluster) canonicalNet(value string) (string, error) {
	kv, err := parsePropertyString(value, "")
	if err != nil {
		return "", err
	}
	if kv["hwaddr"] == "" {
		kv["hwaddr"] = c.newMAC()
	}
	if kv["type"] == "" {
		kv["type"] = "veth"
	}
	var out []string
	for _, k := range netKeyOrder {
		if v, ok := kv[k]; ok {
			out = append(out, k+"="+v)
		}
	}
	return strings.Join(out, ","), nil
}

// canonicalFlags re-prints a property string in sorted key order (features).
func canonicalFlags(value string) string {
	kv, err := parsePropertyString(value, "")
	if err != nil {
		return value
	}
	var out []string
	for _, k := range sortedKeys(kv) {
		out = append(out, k+"="+kv[k])
	}
	return strings.Join(out, ",")
}

// setConfigKey canonicalises one config key and stores it in conf.
func (c *Cluster) setConfigKey(conf map[string]string, vmid int, key, value string) error {
	switch {
	case key == "rootfs":
		v, err := canonicalRootfs(vmid, value)
		if err != nil {
			return err
		}
		conf[key] = v
	case strings.HasPrefix(key, "net") && indexedParam.MatchString(key):
		v, err := c.canonicalNet(value)
		if err != nil {
			return err
		}
		conf[key] = v
	case key == "features":
		conf[key] = canonicalFlags(value)
	case key == "description":
		conf[key] = strings.TrimSuffix(value, "\n") + "\n"
	case key == "tags":
		conf[key] = strings.Join(splitTags(value), ";")
	default:
		conf[key] = value
	}
	return nil
}

// templateExists reports whether ostemplate names a template in local storage.
func (c *Cluster) templateExists(ostemplate string) bool {
	file, ok := strings.CutPrefix(ostemplate, "local:vztmpl/")
	return ok && slices.Contains(c.opts.Templates, file)
}

// createContainer implements POST /nodes/{node}/lxc.
func (c *Cluster) createContainer(n *simNode, params map[string]string, auth authInfo) (*task, error) {
	vmid, _ := strconv.Atoi(params["vmid"])
	c.mu.Lock()
	defer c.mu.Unlock()
	if other, ok := c.containers[vmid]; ok {
		return nil, errf(500, "CT %d already exists on node '%s'", vmid, other.node.name)
	}
	ostemplate := params["ostemplate"]
	conf := map[string]string{
		"arch":     "amd64",
		"hostname": "CT" + strconv.Itoa(vmid),
		"memory":   "512",
		"swap":     "512",
		"ostype":   osType(ostemplate),
	}
	if _, ok := params["rootfs"]; !ok {
		storage := params["storage"]
		if storage == "" {
			storage = "local-lvm"
		}
		params["rootfs"] = storage + ":4"
	}
	for _, k := range sortedKeys(params) {
		if slices.Contains(createOnlyParams, k) {
			continue
		}
		if err := c.setConfigKey(conf, vmid, k, params[k]); err != nil {
			return nil, errf(500, "%v", err)
		}
	}
	ct := &container{vmid: vmid, node: n, conf: conf, ostemplate: ostemplate, status: statusStopped, lock: "create", ips: map[string]string{}}
	c.containers[vmid] = ct
	start := params["start"] == "1"
	t := c.startTask(taskSpec{
		node: n, typ: "vzcreate", id: strconv.Itoa(vmid), auth: auth,
		run: func() ([]string, error) {
			if !c.templateExists(ostemplate) {
				return nil, fmt.Errorf("unable to create CT %d - volume '%s' does not exist", vmid, ostemplate)
			}
			ct.lock = ""
			if c.opts.NewRuntime != nil {
				ct.runtime = c.opts.NewRuntime(n.name, vmid, conf["hostname"], ostemplate)
			}
			if ct.runtime == nil {
				ct.runtime = noopRuntime{}
			}
			c.counters.Created[n.name]++
			file := strings.TrimPrefix(ostemplate, "local:vztmpl/")
			lines := []string{
				fmt.Sprintf("  Logical volume \"vm-%d-disk-0\" created.", vmid),
				fmt.Sprintf("extracting archive '/var/lib/vz/template/cache/%s'", file),
				"Total bytes read: 508579840 (486MiB, 194MiB/s)",
				"Detected container architecture: " + conf["arch"],
				"Creating SSH host key 'ssh_host_ed25519_key' - this may take some time ...",
				"done: SHA256:O2pIbtFCdPPiY+Q6PnDxJUAmEAc5vaSku+Vg0s6gxkQ root@" + conf["hostname"],
			}
			if start {
				c.startContainerLocked(ct, auth)
			}
			return lines, nil
		},
		fail: func() { c.removeContainer(ct) },
	})
	return t, nil
}

func (c *Cluster) removeContainer(ct *container) {
	delete(c.containers, ct.vmid)
	for _, k := range ct.netKeys() {
		kv, _ := parsePropertyString(ct.conf[k], "")
		delete(c.macs, kv["hwaddr"])
	}
}

// lookup finds container vmid on node n. Must be called with c.mu held.
func (c *Cluster) lookup(n *simNode, vmid int) (*container, error) {
	ct, ok := c.containers[vmid]
	if !ok || ct.node != n {
		return nil, ctMissing(n.name, vmid)
	}
	return ct, nil
}

func checkLock(ct *container) error {
	if ct.lock != "" {
		return errf(500, "CT %d is locked (%s)", ct.vmid, ct.lock)
	}
	return nil
}

// powerAction implements POST .../status/{start,stop,shutdown,reboot}.
func (c *Cluster) powerAction(n *simNode, vmid int, action string, params map[string]string, auth authInfo) (*task, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ct, err := c.lookup(n, vmid)
	if err != nil {
		return nil, err
	}
	if action != "stop" || params["skiplock"] != "1" {
		if err := checkLock(ct); err != nil {
			return nil, err
		}
	}
	switch action {
	case "start":
		if ct.status == statusRunning {
			return nil, errf(500, "CT %d already running", vmid)
		}
		if ct.conf["template"] == "1" {
			return nil, errf(500, "CT %d is a template", vmid)
		}
		return c.startContainerLocked(ct, auth), nil
	case "stop":
		if ct.status != statusRunning {
			return nil, errf(500, "CT %d not running", vmid)
		}
		return c.startTask(taskSpec{node: n, typ: "vzstop", id: strconv.Itoa(vmid), auth: auth, run: func() ([]string, error) {
			c.stopLocked(ct)
			return nil, nil
		}}), nil
	case "shutdown":
		if ct.status != statusRunning {
			return nil, errf(500, "CT %d not running", vmid)
		}
		timeout := 60
		if v, ok := params["timeout"]; ok {
			timeout, _ = strconv.Atoi(v)
		}
		force := params["forceStop"] == "1"
		spec := taskSpec{node: n, typ: "vzshutdown", id: strconv.Itoa(vmid), auth: auth}
		if ct.ignoreShutdown {
			spec.duration = time.Duration(timeout)*time.Second + c.opts.TaskDuration
		}
		spec.run = func() ([]string, error) {
			if ct.status != statusRunning {
				return nil, nil
			}
			if ct.ignoreShutdown {
				if !force {
					return []string{"shutdown timed out"}, fmt.Errorf("container did not stop")
				}
				c.stopLocked(ct)
				return []string{"shutdown timed out, forcing stop"}, nil
			}
			c.stopLocked(ct)
			return nil, nil
		}
		return c.startTask(spec), nil
	case "reboot":
		if ct.status != statusRunning {
			return nil, errf(500, "VM %d not running", vmid)
		}
		return c.startTask(taskSpec{node: n, typ: "vzreboot", id: strconv.Itoa(vmid), auth: auth, run: func() ([]string, error) {
			if ct.status != statusRunning {
				return nil, fmt.Errorf("CT %d not running", vmid)
			}
			ct.runtime.SetRunning(false)
			ct.startedAt = time.Now()
			ct.pid = c.newPID()
			ct.runtime.SetRunning(true)
			c.counters.Rebooted[n.name]++
			return nil, nil
		}}), nil
	}
	return nil, errf(501, "Method 'POST /nodes/%s/lxc/%d/status/%s' not implemented", n.name, vmid, action)
}

// startContainerLocked starts a vzstart task. Must be called with c.mu held.
func (c *Cluster) startContainerLocked(ct *container, auth authInfo) *task {
	return c.startTask(taskSpec{node: ct.node, typ: "vzstart", id: strconv.Itoa(ct.vmid), auth: auth, run: func() ([]string, error) {
		if ct.status == statusRunning {
			return nil, fmt.Errorf("CT %d already running", ct.vmid)
		}
		if _, ok := c.containers[ct.vmid]; !ok {
			return nil, fmt.Errorf("Configuration file 'nodes/%s/lxc/%d.conf' does not exist", ct.node.name, ct.vmid) //nolint:staticcheck // PVE's text.
		}
		for _, k := range ct.netKeys() {
			kv, _ := parsePropertyString(ct.conf[k], "")
			if b := kv["bridge"]; b != "" && !slices.Contains(bridges, b) {
				return nil, fmt.Errorf("bridge '%s' does not exist", b)
			}
		}
		c.assignIPs(ct)
		ct.status = statusRunning
		ct.startedAt = time.Now()
		ct.pid = c.newPID()
		ct.runtime.SetRunning(true)
		if cidr := ct.ips["net0"]; cidr != "" {
			ip, _, _ := strings.Cut(cidr, "/")
			ct.runtime.SetIP(ip)
		}
		c.counters.Started[ct.node.name]++
		return nil, nil
	}})
}

// assignIPs gives every interface its static address or a (stable) DHCP lease.
func (c *Cluster) assignIPs(ct *container) {
	for _, k := range ct.netKeys() {
		kv, _ := parsePropertyString(ct.conf[k], "")
		switch ip := kv["ip"]; {
		case ip == "dhcp":
			if _, ok := ct.ips[k]; !ok {
				ct.ips[k] = c.lease(ct.node)
			}
		case strings.Contains(ip, "/"):
			ct.ips[k] = ip
		default:
			delete(ct.ips, k)
		}
	}
}

func (c *Cluster) stopLocked(ct *container) {
	if ct.status != statusRunning {
		return
	}
	ct.status = statusStopped
	ct.pid = 0
	ct.runtime.SetRunning(false)
	c.counters.Stopped[ct.node.name]++
}

// deleteContainer implements DELETE /nodes/{node}/lxc/{vmid}.
func (c *Cluster) deleteContainer(n *simNode, vmid int, params map[string]string, auth authInfo) (*task, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ct, err := c.lookup(n, vmid)
	if err != nil {
		return nil, err
	}
	if err := checkLock(ct); err != nil {
		return nil, err
	}
	if ct.conf["protection"] == "1" {
		return nil, errf(500, "can't remove CT %d - protection mode enabled", vmid)
	}
	force := params["force"] == "1"
	if ct.status == statusRunning && !force {
		return nil, errf(500, "unable to destroy CT %d - container is running", vmid)
	}
	return c.startTask(taskSpec{node: n, typ: "vzdestroy", id: strconv.Itoa(vmid), auth: auth, run: func() ([]string, error) {
		if ct.status == statusRunning {
			if !force {
				return nil, fmt.Errorf("unable to destroy CT %d - container is running", vmid)
			}
			c.stopLocked(ct)
		}
		c.removeContainer(ct)
		c.counters.Deleted[n.name]++
		lines := []string{fmt.Sprintf("  Logical volume \"vm-%d-disk-0\" successfully removed.", vmid)}
		if params["purge"] == "1" {
			lines = append(lines, "purging CT "+strconv.Itoa(vmid)+" from related configurations..")
		}
		return lines, nil
	}}), nil
}

// updateConfig implements PUT .../config (synchronous, no task).
func (c *Cluster) updateConfig(n *simNode, vmid int, params map[string]string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ct, err := c.lookup(n, vmid)
	if err != nil {
		return err
	}
	if d, ok := params["digest"]; ok && d != configDigest(ct.conf) {
		return errf(500, "detected modified configuration - file changed by other user? Try again.")
	}
	if err := checkLock(ct); err != nil {
		return err
	}
	next := make(map[string]string, len(ct.conf))
	for k, v := range ct.conf {
		next[k] = v
	}
	for _, k := range splitTags(params["delete"]) {
		delete(next, k)
	}
	for _, k := range sortedKeys(params) {
		switch k {
		case "node", "vmid", "delete", "digest", "revert":
			continue
		}
		if err := c.setConfigKey(next, vmid, k, params[k]); err != nil {
			return errf(500, "%v", err)
		}
	}
	ct.conf = next
	c.counters.Updated[n.name]++
	return nil
}

// configJSON prints the config with PVE's JSON types: integer and boolean
// keys as numbers, everything else (including cpulimit) as strings.
func (c *Cluster) configJSON(ct *container, schema *schemaMethod) map[string]any {
	out := map[string]any{"digest": configDigest(ct.conf)}
	for k, v := range ct.conf {
		out[k] = v
		if schema == nil {
			continue
		}
		if p, ok := schema.lookup(k); ok && (p.Type == "integer" || p.Type == "boolean") {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				out[k] = n
			}
		}
	}
	if ct.lock != "" {
		out["lock"] = ct.lock
	}
	return out
}

// cpus is cores || cpulimit (a string, as PVE leaves it) || host CPUs.
func (ct *container) cpus() any {
	if v, ok := ct.conf["cores"]; ok {
		n, _ := strconv.Atoi(v)
		return n
	}
	if v, ok := ct.conf["cpulimit"]; ok && v != "0" {
		return v
	}
	return 8
}

func (ct *container) name() string {
	h := strings.Join(strings.Fields(ct.conf["hostname"]), "")
	if h == "" {
		return "CT" + strconv.Itoa(ct.vmid)
	}
	return h
}

// usage returns live-looking, deterministic resource figures.
func (ct *container) usage() (uptime, mem, disk, netin, netout, diskread, diskwrite int64, cpu float64) {
	if ct.status != statusRunning {
		return
	}
	uptime = int64(time.Since(ct.startedAt).Seconds())
	maxmem := ct.intConf("memory", 512) << 20
	mem = maxmem/16 + int64(ct.vmid%97)*4096
	disk = diskSize(ct.conf["rootfs"]) / 12
	netin = 90000 + uptime*1234
	netout = 1500 + uptime*56
	diskread = 150000000 + int64(ct.vmid)*4096
	diskwrite = 60000000 + uptime*4096
	cpu = 0.0012 + float64(ct.vmid%10)/1000
	return
}

// statusJSON is the object of GET .../status/current (withHA) and of the
// container list.
func (ct *container) statusJSON(withHA bool) map[string]any {
	uptime, mem, disk, netin, netout, dr, dw, cpu := ct.usage()
	m := map[string]any{
		"vmid":      ct.vmid,
		"name":      ct.name(),
		"status":    ct.status,
		"type":      "lxc",
		"cpus":      ct.cpus(),
		"cpu":       cpu,
		"maxmem":    ct.intConf("memory", 512) << 20,
		"mem":       mem,
		"maxswap":   ct.intConf("swap", 512) << 20,
		"swap":      0,
		"maxdisk":   diskSize(ct.conf["rootfs"]),
		"disk":      disk,
		"uptime":    uptime,
		"netin":     netin,
		"netout":    netout,
		"diskread":  dr,
		"diskwrite": dw,
	}
	if withHA {
		m["ha"] = map[string]any{"managed": 0}
	}
	if ct.status == statusRunning {
		m["pid"] = ct.pid
	}
	if ct.conf["template"] == "1" {
		m["template"] = 1
	}
	if t := ct.conf["tags"]; t != "" {
		m["tags"] = t
	}
	if ct.lock != "" {
		m["lock"] = ct.lock
	}
	return m
}

// resourceJSON is the container's entry in GET /cluster/resources.
func (ct *container) resourceJSON() map[string]any {
	uptime, mem, disk, netin, netout, dr, dw, cpu := ct.usage()
	status := ct.status
	if !ct.node.online {
		status = "unknown"
	}
	maxcpu := 8
	if n, ok := ct.cpus().(int); ok {
		maxcpu = n
	}
	m := map[string]any{
		"id": "lxc/" + strconv.Itoa(ct.vmid), "type": "lxc", "vmid": ct.vmid, "node": ct.node.name,
		"name": ct.name(), "status": status, "template": 0,
		"cpu": cpu, "maxcpu": maxcpu, "mem": mem, "maxmem": ct.intConf("memory", 512) << 20,
		"disk": disk, "maxdisk": diskSize(ct.conf["rootfs"]), "uptime": uptime,
		"netin": netin, "netout": netout, "diskread": dr, "diskwrite": dw,
	}
	if ct.conf["template"] == "1" {
		m["template"] = 1
	}
	if t := ct.conf["tags"]; t != "" {
		m["tags"] = t
	}
	if ct.lock != "" {
		m["lock"] = ct.lock
	}
	return m
}

// interfacesJSON is GET .../interfaces: null when stopped, lo plus one
// entry per netN (PVE 8.4 shape) when running.
func (ct *container) interfacesJSON() any {
	if ct.status != statusRunning {
		return nil
	}
	out := []map[string]any{ifaceJSON("lo", "00:00:00:00:00:00", "127.0.0.1/8", "::1/128")}
	for _, k := range ct.netKeys() {
		kv, _ := parsePropertyString(ct.conf[k], "")
		mac := strings.ToLower(kv["hwaddr"])
		out = append(out, ifaceJSON(kv["name"], mac, ct.ips[k], linkLocal(mac)))
	}
	return out
}

func ifaceJSON(name, mac, inet, inet6 string) map[string]any {
	m := map[string]any{"name": name, "hwaddr": mac, "hardware-address": mac}
	var addrs []map[string]any
	for _, a := range []struct{ typ, cidr string }{{"inet", inet}, {"inet6", inet6}} {
		if a.cidr == "" {
			continue
		}
		m[a.typ] = a.cidr
		ip, prefix, _ := strings.Cut(a.cidr, "/")
		p, _ := strconv.Atoi(prefix)
		addrs = append(addrs, map[string]any{"ip-address-type": a.typ, "ip-address": ip, "prefix": p})
	}
	m["ip-addresses"] = addrs
	return m
}

// linkLocal derives the EUI-64 fe80:: address of a MAC.
func linkLocal(mac string) string {
	hw, err := net.ParseMAC(mac)
	if err != nil || len(hw) != 6 {
		return ""
	}
	ip := net.IP{0xfe, 0x80, 0, 0, 0, 0, 0, 0, hw[0] ^ 2, hw[1], hw[2], 0xff, 0xfe, hw[3], hw[4], hw[5]}
	return ip.String() + "/64"
}
