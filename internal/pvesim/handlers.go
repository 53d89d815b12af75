package pvesim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	pveVersion = "8.4.14"
	pveRelease = "8.4"
	pveRepoID  = "b502d23c55afcba1"
	hostCPUs   = 8
	hostMemory = int64(33537990656)
)

func (s *Server) buildRoutes() map[string]handlerFunc {
	return map[string]handlerFunc{
		"POST /access/ticket":                           s.login,
		"GET /version":                                  s.version,
		"GET /nodes":                                    s.nodesList,
		"GET /nodes/{node}/status":                      s.nodeStatus,
		"GET /nodes/{node}/lxc":                         s.lxcList,
		"POST /nodes/{node}/lxc":                        s.lxcCreate,
		"GET /nodes/{node}/lxc/{vmid}":                  s.lxcIndex,
		"DELETE /nodes/{node}/lxc/{vmid}":               s.lxcDelete,
		"GET /nodes/{node}/lxc/{vmid}/config":           s.lxcConfig,
		"PUT /nodes/{node}/lxc/{vmid}/config":           s.lxcConfigUpdate,
		"GET /nodes/{node}/lxc/{vmid}/status":           s.lxcStatusIndex,
		"GET /nodes/{node}/lxc/{vmid}/status/current":   s.lxcStatusCurrent,
		"POST /nodes/{node}/lxc/{vmid}/status/start":    s.lxcPower("start"),
		"POST /nodes/{node}/lxc/{vmid}/status/stop":     s.lxcPower("stop"),
		"POST /nodes/{node}/lxc/{vmid}/status/shutdown": s.lxcPower("shutdown"),
		"POST /nodes/{node}/lxc/{vmid}/status/reboot":   s.lxcPower("reboot"),
		"GET /nodes/{node}/lxc/{vmid}/interfaces":       s.lxcInterfaces,
		"GET /nodes/{node}/tasks":                       s.tasksList,
		"GET /nodes/{node}/tasks/{upid}":                s.taskIndex,
		"DELETE /nodes/{node}/tasks/{upid}":             s.taskStop,
		"GET /nodes/{node}/tasks/{upid}/status":         s.taskStatus,
		"GET /nodes/{node}/tasks/{upid}/log":            s.taskLog,
		"GET /nodes/{node}/storage":                     s.storageList,
		"GET /nodes/{node}/storage/{storage}/status":    s.storageStatus,
		"GET /nodes/{node}/storage/{storage}/content":   s.storageContent,
		"GET /nodes/{node}/aplinfo":                     s.aplinfo,
		"GET /cluster/nextid":                           s.nextID,
		"GET /cluster/resources":                        s.clusterResources,
		"GET /cluster/status":                           s.clusterStatus,
	}
}

func (s *Server) version(*reqCtx) (any, error) {
	return map[string]any{"version": pveVersion, "release": pveRelease, "repoid": pveRepoID}, nil
}

func (n *simNode) uptime() int64 { return int64(time.Since(n.bootTime).Seconds()) }

// rootUsed is the local-lvm space taken by the node's containers.
func (c *Cluster) rootUsed(n *simNode) int64 {
	var used int64
	for _, ct := range c.containers {
		if ct.node == n {
			used += diskSize(ct.conf["rootfs"])
		}
	}
	return used
}

func (c *Cluster) memUsed(n *simNode) int64 {
	used := int64(2113265664)
	for _, ct := range c.containers {
		if ct.node == n && ct.status == statusRunning {
			_, mem, _, _, _, _, _, _ := ct.usage()
			used += mem
		}
	}
	return used
}

func (s *Server) nodesList(*reqCtx) (any, error) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]map[string]any, 0, len(c.nodes))
	for _, n := range c.nodes {
		m := map[string]any{
			"node": n.name, "id": "node/" + n.name, "type": "node", "level": "",
			"ssl_fingerprint": s.fingerprint,
		}
		if !n.online {
			m["status"] = "offline"
		} else {
			m["status"] = "online"
			m["uptime"] = n.uptime()
			m["cpu"] = 0.00348605577689243
			m["maxcpu"] = hostCPUs
			m["mem"] = c.memUsed(n)
			m["maxmem"] = hostMemory
			m["disk"] = int64(2310930432)
			m["maxdisk"] = int64(100861726720)
		}
		out = append(out, m)
	}
	return out, nil
}

func (s *Server) nodeStatus(rc *reqCtx) (any, error) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	used := c.memUsed(rc.node)
	return map[string]any{
		"boot-info": map[string]any{"mode": "legacy-bios"},
		"cpu":       0.00348605577689243,
		"cpuinfo": map[string]any{
			"cores": hostCPUs / 2, "cpus": hostCPUs, "flags": "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov",
			"hvm": "1", "mhz": "3400.000", "model": "Simulated CPU @ 3.40GHz", "sockets": 1, "user_hz": 100,
		},
		"current-kernel": map[string]any{
			"machine": "x86_64", "release": "6.8.12-15-pve", "sysname": "Linux",
			"version": "#1 SMP PREEMPT_DYNAMIC PMX 6.8.12-15 (2025-09-12T11:02Z)",
		},
		"idle":       0,
		"ksm":        map[string]any{"shared": 0},
		"kversion":   "Linux 6.8.12-15-pve #1 SMP PREEMPT_DYNAMIC PMX 6.8.12-15 (2025-09-12T11:02Z)",
		"loadavg":    []string{"0.16", "0.10", "0.02"},
		"memory":     map[string]any{"total": hostMemory, "used": used, "free": hostMemory - used},
		"pveversion": fmt.Sprintf("pve-manager/%s/%s", pveVersion, pveRepoID),
		"rootfs": map[string]any{
			"total": int64(100861726720), "used": int64(22751752192), "avail": int64(72939237376), "free": int64(78109974528),
		},
		"swap":   map[string]any{"total": int64(1073737728), "used": 0, "free": int64(1073737728)},
		"uptime": rc.node.uptime(),
		"wait":   0,
	}, nil
}

func (s *Server) lxcList(rc *reqCtx) (any, error) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []map[string]any{}
	for _, ct := range c.sortedContainers() {
		if ct.node != rc.node {
			continue
		}
		m := ct.statusJSON(false)
		if c.opts.StringListVMID {
			m["vmid"] = strconv.Itoa(ct.vmid)
		}
		out = append(out, m)
	}
	return out, nil
}

func (s *Server) lxcCreate(rc *reqCtx) (any, error) {
	t, err := s.c.createContainer(rc.node, rc.params, rc.auth)
	if err != nil {
		return nil, err
	}
	return t.upid, nil
}

func vmidOf(rc *reqCtx) int {
	v, _ := strconv.Atoi(rc.vars["vmid"])
	return v
}

// withContainer runs fn with the cluster lock held and the container found.
func (s *Server) withContainer(rc *reqCtx, fn func(*container) (any, error)) (any, error) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	ct, err := c.lookup(rc.node, vmidOf(rc))
	if err != nil {
		return nil, err
	}
	return fn(ct)
}

func subdirs(names ...string) []map[string]string {
	out := make([]map[string]string, 0, len(names))
	for _, n := range names {
		out = append(out, map[string]string{"subdir": n})
	}
	return out
}

func (s *Server) lxcIndex(rc *reqCtx) (any, error) {
	return s.withContainer(rc, func(*container) (any, error) {
		return subdirs("config", "status", "vncproxy", "termproxy", "vncwebsocket", "spiceproxy", "migrate",
			"clone", "rrd", "rrddata", "firewall", "snapshot", "resize", "interfaces"), nil
	})
}

func (s *Server) lxcStatusIndex(rc *reqCtx) (any, error) {
	return s.withContainer(rc, func(*container) (any, error) {
		return subdirs("current", "start", "stop", "shutdown", "reboot", "suspend", "resume"), nil
	})
}

func (s *Server) lxcDelete(rc *reqCtx) (any, error) {
	t, err := s.c.deleteContainer(rc.node, vmidOf(rc), rc.params, rc.auth)
	if err != nil {
		return nil, err
	}
	return t.upid, nil
}

func (s *Server) lxcConfig(rc *reqCtx) (any, error) {
	put, _ := s.schema.method("/nodes/{node}/lxc/{vmid}/config", "PUT")
	return s.withContainer(rc, func(ct *container) (any, error) {
		if snap := rc.params["snapshot"]; snap != "" {
			return nil, errf(500, "snapshot '%s' does not exist", snap)
		}
		return s.c.configJSON(ct, put), nil
	})
}

func (s *Server) lxcConfigUpdate(rc *reqCtx) (any, error) {
	return nil, s.c.updateConfig(rc.node, vmidOf(rc), rc.params)
}

func (s *Server) lxcStatusCurrent(rc *reqCtx) (any, error) {
	return s.withContainer(rc, func(ct *container) (any, error) { return ct.statusJSON(true), nil })
}

func (s *Server) lxcPower(action string) handlerFunc {
	return func(rc *reqCtx) (any, error) {
		t, err := s.c.powerAction(rc.node, vmidOf(rc), action, rc.params, rc.auth)
		if err != nil {
			return nil, err
		}
		return t.upid, nil
	}
}

func (s *Server) lxcInterfaces(rc *reqCtx) (any, error) {
	return s.withContainer(rc, func(ct *container) (any, error) { return ct.interfacesJSON(), nil })
}

// findTask resolves the {upid} path variable with PVE's error texts.
func (s *Server) findTask(rc *reqCtx) (*task, error) {
	upid := rc.vars["upid"]
	if !upidRe.MatchString(upid) {
		return nil, paramError(map[string]string{"upid": "unable to parse worker upid"})
	}
	t, ok := s.c.tasks[upid]
	if !ok || t.node != rc.node {
		return nil, paramError(map[string]string{"upid": "no such task"})
	}
	return t, nil
}

func (s *Server) taskIndex(rc *reqCtx) (any, error) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if _, err := s.findTask(rc); err != nil {
		return nil, err
	}
	return subdirs("log", "status"), nil
}

func (s *Server) taskStatus(rc *reqCtx) (any, error) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	t, err := s.findTask(rc)
	if err != nil {
		return nil, err
	}
	return t.statusJSON(), nil
}

func (s *Server) taskStop(rc *reqCtx) (any, error) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	t, err := s.findTask(rc)
	if err != nil {
		return nil, err
	}
	s.c.stopTask(t)
	return nil, nil
}

func intParam(params map[string]string, key string, def int) int {
	if v, ok := params[key]; ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

func (s *Server) taskLog(rc *reqCtx) (any, error) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	t, err := s.findTask(rc)
	if err != nil {
		return nil, err
	}
	start, limit := intParam(rc.params, "start", 0), intParam(rc.params, "limit", 50)
	lines := t.log
	if len(lines) == 0 {
		return withTotal{Data: []map[string]any{{"n": 1, "t": "no content"}}, Total: 1}, nil
	}
	out := []map[string]any{}
	for i := start; i < len(lines) && (limit <= 0 || i < start+limit); i++ {
		out = append(out, map[string]any{"n": i + 1, "t": lines[i]})
	}
	return withTotal{Data: out, Total: len(lines)}, nil
}

func (s *Server) tasksList(rc *reqCtx) (any, error) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	p := rc.params
	start, limit := intParam(p, "start", 0), intParam(p, "limit", 50)
	source := p["source"]
	if source == "" {
		source = "archive"
	}
	var matched []*task
	tasks := rc.node.tasks
	for i := len(tasks) - 1; i >= 0; i-- { // newest first
		t := tasks[i]
		running := t.status == statusRunning
		if (source == "archive" && running) || (source == "active" && !running) {
			continue
		}
		if v := p["vmid"]; v != "" && t.id != v {
			continue
		}
		if v := p["typefilter"]; v != "" && t.typ != v {
			continue
		}
		if v := p["userfilter"]; v != "" && !strings.Contains(t.user, v) {
			continue
		}
		if p["errors"] == "1" && (running || t.exit == "OK") {
			continue
		}
		if v := p["since"]; v != "" && t.starttime < int64(intParam(p, "since", 0)) {
			continue
		}
		if v := p["until"]; v != "" && t.starttime > int64(intParam(p, "until", 0)) {
			continue
		}
		matched = append(matched, t)
	}
	out := []map[string]any{}
	for i := start; i < len(matched) && i < start+limit; i++ {
		out = append(out, matched[i].listJSON())
	}
	return withTotal{Data: out, Total: len(matched)}, nil
}

func (c *Cluster) storageJSON(n *simNode, def storageDef) map[string]any {
	used := int64(22751752192)
	if def.typ == "lvmthin" {
		used = 18640299832 + c.rootUsed(n)
	}
	return map[string]any{
		"storage": def.name, "type": def.typ, "content": def.content,
		"active": 1, "enabled": 1, "shared": 0,
		"total": def.total, "used": used, "avail": def.total - used,
		"used_fraction": float64(used) / float64(def.total),
	}
}

func (s *Server) storageList(rc *reqCtx) (any, error) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	out := []map[string]any{}
	for _, def := range storages {
		if want := rc.params["storage"]; want != "" && want != def.name {
			continue
		}
		if want := rc.params["content"]; want != "" && !hasContent(def.content, want) {
			continue
		}
		out = append(out, s.c.storageJSON(rc.node, def))
	}
	return out, nil
}

func hasContent(list, want string) bool {
	for _, w := range strings.Split(want, ",") {
		if slices.Contains(strings.Split(list, ","), w) {
			return true
		}
	}
	return false
}

func (s *Server) storageStatus(rc *reqCtx) (any, error) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	def, ok := findStorage(rc.vars["storage"])
	if !ok {
		return nil, errf(500, "storage '%s' does not exist", rc.vars["storage"])
	}
	return s.c.storageJSON(rc.node, def), nil
}

// templateFormat is PVE's format for a template file: "t" + extension.
func templateFormat(file string) string {
	switch {
	case strings.HasSuffix(file, ".tar.zst"):
		return "tzst"
	case strings.HasSuffix(file, ".tar.xz"):
		return "txz"
	case strings.HasSuffix(file, ".tar.gz"):
		return "tgz"
	}
	return "raw"
}

func (s *Server) storageContent(rc *reqCtx) (any, error) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	def, ok := findStorage(rc.vars["storage"])
	if !ok {
		return nil, errf(500, "storage '%s' does not exist", rc.vars["storage"])
	}
	want := rc.params["content"]
	vmidFilter := rc.params["vmid"]
	out := []map[string]any{}
	if def.name == "local" && (want == "" || want == "vztmpl") && vmidFilter == "" {
		for i, file := range c.opts.Templates {
			out = append(out, map[string]any{
				"volid": "local:vztmpl/" + file, "content": "vztmpl", "format": templateFormat(file),
				"ctime": int64(1757349290 + i*86400), "size": int64(120000000 + i*7340032),
			})
		}
	}
	if def.typ != "dir" && (want == "" || want == "rootdir") {
		for _, ct := range c.sortedContainers() {
			if ct.node != rc.node || (vmidFilter != "" && vmidFilter != strconv.Itoa(ct.vmid)) {
				continue
			}
			vol, _, _ := strings.Cut(ct.conf["rootfs"], ",")
			if !strings.HasPrefix(vol, def.name+":") {
				continue
			}
			out = append(out, map[string]any{
				"volid": vol, "content": "rootdir", "format": "raw", "vmid": ct.vmid,
				"ctime": ct.startedAt.Unix(), "size": diskSize(ct.conf["rootfs"]),
			})
		}
	}
	return out, nil
}

func (s *Server) aplinfo(*reqCtx) (any, error) {
	out := []map[string]any{}
	for _, file := range s.c.opts.Templates {
		parts := strings.SplitN(file, "_", 3)
		name, version := parts[0], ""
		if len(parts) > 1 {
			version = parts[1]
		}
		os := osType(file)
		out = append(out, map[string]any{
			"template":     file,
			"package":      name,
			"os":           os,
			"version":      version,
			"type":         "lxc",
			"section":      "system",
			"architecture": "amd64",
			"headline":     strings.ToUpper(os[:1]) + os[1:] + " (" + name + ")",
			"description":  "Simulated " + name + " system image.",
			"infopage":     "https://pve.proxmox.com/wiki/Linux_Container#pct_supported_distributions",
			"location":     "system/" + file,
			"maintainer":   "Proxmox Support Team <support@proxmox.com>",
			"source":       "http://download.proxmox.com/images/system/" + file,
			"sha512sum":    strings.Repeat("0", 128),
		})
	}
	return out, nil
}

func (s *Server) nextID(rc *reqCtx) (any, error) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := rc.params["vmid"]; ok {
		id, _ := strconv.Atoi(v)
		if _, used := c.containers[id]; used {
			return nil, paramError(map[string]string{"vmid": fmt.Sprintf("VM %d already exists", id)})
		}
		return strconv.Itoa(id), nil
	}
	return strconv.Itoa(c.nextFreeID()), nil
}

func (s *Server) clusterResources(rc *reqCtx) (any, error) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	typ := rc.params["type"]
	out := []map[string]any{}
	if typ == "" || typ == "vm" {
		for _, ct := range c.sortedContainers() {
			out = append(out, ct.resourceJSON())
		}
	}
	if typ == "" || typ == "node" {
		for _, n := range c.nodes {
			m := map[string]any{"id": "node/" + n.name, "type": "node", "node": n.name, "level": "", "cgroup-mode": 2}
			if n.online {
				m["status"] = "online"
				m["uptime"] = n.uptime()
				m["cpu"] = 0.00336910406788121
				m["maxcpu"] = hostCPUs
				m["mem"] = c.memUsed(n)
				m["maxmem"] = hostMemory
				m["disk"] = int64(10486546432)
				m["maxdisk"] = int64(100861726720)
			} else {
				m["status"] = "offline"
			}
			out = append(out, m)
		}
	}
	if typ == "" || typ == "storage" {
		for _, n := range c.nodes {
			for _, def := range storages {
				st := c.storageJSON(n, def)
				status := "available"
				if !n.online {
					status = "unknown"
				}
				out = append(out, map[string]any{
					"id": "storage/" + n.name + "/" + def.name, "type": "storage", "storage": def.name,
					"node": n.name, "status": status, "plugintype": def.typ, "content": def.content,
					"shared": 0, "disk": st["used"], "maxdisk": def.total,
				})
			}
		}
	}
	return out, nil
}

func (s *Server) clusterStatus(*reqCtx) (any, error) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []map[string]any{}
	online := 0
	for _, n := range c.nodes {
		if n.online {
			online++
		}
	}
	if len(c.nodes) > 1 {
		quorate := 0
		if online*2 > len(c.nodes) {
			quorate = 1
		}
		out = append(out, map[string]any{
			"type": "cluster", "id": "cluster", "name": clusterName, "version": len(c.nodes) + 2,
			"quorate": quorate, "nodes": len(c.nodes),
		})
	}
	for _, n := range c.nodes {
		local, on := 0, 0
		if n.index == 1 {
			local = 1
		}
		if n.online {
			on = 1
		}
		nodeid := n.index
		if len(c.nodes) == 1 {
			nodeid = 0
		}
		out = append(out, map[string]any{
			"type": "node", "id": "node/" + n.name, "name": n.name, "ip": fmt.Sprintf("192.168.100.%d", n.index),
			"local": local, "nodeid": nodeid, "online": on, "level": "",
		})
	}
	return out, nil
}
