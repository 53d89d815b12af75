package pvesim

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// shape is the merged structure of one or more captured JSON values: which
// JSON kinds were seen, and for objects which keys always/sometimes appear.
type shape struct {
	kinds    map[string]bool
	fields   map[string]*shape
	required map[string]bool
	elem     *shape
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64, json.Number:
		return "number"
	case bool:
		return "bool"
	}
	return fmt.Sprintf("%T", v)
}

func buildShape(values ...any) *shape {
	s := &shape{kinds: map[string]bool{}}
	var objects []map[string]any
	var elems []any
	for _, v := range values {
		s.kinds[kindOf(v)] = true
		switch v := v.(type) {
		case map[string]any:
			objects = append(objects, v)
		case []any:
			elems = append(elems, v...)
		}
	}
	if len(objects) > 0 {
		s.fields, s.required = map[string]*shape{}, map[string]bool{}
		byKey := map[string][]any{}
		count := map[string]int{}
		for _, o := range objects {
			for k, v := range o {
				byKey[k] = append(byKey[k], v)
				count[k]++
			}
		}
		for k, vs := range byKey {
			s.fields[k] = buildShape(vs...)
			s.required[k] = count[k] == len(objects)
		}
	}
	if len(elems) > 0 {
		s.elem = buildShape(elems...)
	}
	return s
}

// compareShape checks got against the captured shape. Differences whose
// path is in allow are accepted and marked used.
func compareShape(path string, want *shape, got any, allow map[string]string, used map[string]bool, errs *[]string) {
	k := kindOf(got)
	if !want.kinds[k] {
		if _, ok := allow[path]; ok {
			used[path] = true
			return
		}
		*errs = append(*errs, fmt.Sprintf("%s: simulator sends %s, capture has %v", path, k, sortedKinds(want.kinds)))
		return
	}
	switch g := got.(type) {
	case map[string]any:
		for key, req := range want.required {
			if _, ok := g[key]; !ok && req {
				p := path + "." + key
				if _, ok := allow[p]; ok {
					used[p] = true
					continue
				}
				*errs = append(*errs, p+": missing in simulator")
			}
		}
		for key, v := range g {
			p := path + "." + key
			ws, ok := want.fields[key]
			if !ok {
				if _, ok := allow[p]; ok {
					used[p] = true
					continue
				}
				*errs = append(*errs, p+": not in capture")
				continue
			}
			compareShape(p, ws, v, allow, used, errs)
		}
	case []any:
		if want.elem == nil {
			return
		}
		for _, v := range g {
			compareShape(path+"[]", want.elem, v, allow, used, errs)
		}
	}
}

func sortedKinds(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func loadJSON(t *testing.T, path string) any {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var v any
	require.NoError(t, json.Unmarshal(raw, &v))
	return v
}

// filterData keeps the elements of body.data whose key equals value.
func filterData(body any, key, value string) any {
	m := body.(map[string]any)
	var kept []any
	for _, e := range m["data"].([]any) {
		if e.(map[string]any)[key] == value {
			kept = append(kept, e)
		}
	}
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	out["data"] = kept
	return out
}

type shapeCase struct {
	sample string // file under pve-samples
	method string
	path   func(f *shapeFixture) string
	form   string
	// capture/sim narrow both bodies to one kind of element (e.g. type=lxc).
	captureFilter, simFilter func(any) any
	allow                    map[string]string
}

type shapeFixture struct {
	b, legacy  *testBundle
	createUPID string
}

func newShapeFixture(t *testing.T) *shapeFixture {
	t.Helper()
	f := &shapeFixture{b: setup(t, Options{Nodes: 2, Seed: 7}), legacy: setup(t, Options{Nodes: 1, Seed: 8, StringListVMID: true})}
	create := func(b *testBundle, form url.Values) string {
		res := b.do(t, "POST", "/nodes/pve1/lxc", "application/x-www-form-urlencoded", form.Encode(), token)
		require.Equal(t, 200, res.status, res.line)
		var env struct{ Data string }
		require.NoError(t, json.Unmarshal(res.body, &env))
		return env.Data
	}
	tmpl := "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
	for _, b := range []*testBundle{f.b, f.legacy} {
		upid := create(b, url.Values{
			"vmid": {"101"}, "ostemplate": {tmpl}, "hostname": {"test-container"}, "cores": {"2"},
			"memory": {"4096"}, "swap": {"512"}, "features": {"fuse=1,mknod=1,nesting=1"},
			"mp0": {"/mnt/foo/bar,mp=/storage"}, "net0": {"name=eth0,bridge=vmbr0,firewall=1,ip=dhcp"},
			"onboot": {"1"}, "tags": {"tag1;tag2"}, "rootfs": {"local-lvm:30"},
		})
		if b == f.b {
			f.createUPID = upid
		}
		create(b, url.Values{"vmid": {"102"}, "ostemplate": {tmpl}, "template": {"1"}, "tags": {"tag1;tag2"}})
		create(b, url.Values{"vmid": {"103"}, "ostemplate": {tmpl}, "tags": {"community-script;os"},
			"net0": {"name=eth0,bridge=vmbr0,ip=dhcp"}, "start": {"1"}})
	}
	return f
}

func TestCaptureShapes(t *testing.T) {
	t.Parallel()
	ref := referenceDir(t)
	f := newShapeFixture(t)
	static := func(p string) func(*shapeFixture) string { return func(*shapeFixture) string { return p } }
	taskAllow := map[string]string{
		".data.tokenid": "present when the task was started with an API token, as in these tests (PVE-QUIRKS 1.1)",
	}
	cases := []shapeCase{
		{sample: "GET_version.json", method: "GET", path: static("/version")},
		{sample: "GET_nodes.json", method: "GET", path: static("/nodes")},
		{sample: "GET_nodes_node_status.json", method: "GET", path: static("/nodes/pve1/status")},
		{sample: "GET_nodes_node_status.pve7.json", method: "GET", path: static("/nodes/pve1/status"), allow: map[string]string{
			".data.boot-info":      "added in PVE 8.1; the simulator speaks 8.4",
			".data.current-kernel": "added in PVE 8.1; the simulator speaks 8.4",
			".data.cpu":            "not a type difference: the 7.4 capture has a float, the simulator sends one too",
		}},
		{sample: "GET_nodes_node_lxc.json", method: "GET", path: static("/nodes/pve1/lxc"), allow: map[string]string{
			".data[].tags": "present only when a CT has tags (PVE-QUIRKS 1.2); none of the captured CTs had any",
		}},
		{sample: "GET_nodes_node_lxc_vmid_config.json", method: "GET", path: static("/nodes/pve1/lxc/101/config"), allow: map[string]string{
			".data.lxc": "raw lxc.* keys exist only when written into the config file by hand; the API cannot set them",
		}},
		{sample: "GET_nodes_node_lxc_vmid_interfaces.json", method: "GET", path: static("/nodes/pve1/lxc/103/interfaces"), allow: map[string]string{
			".data[].hardware-address": "added in PVE 8.4 (pve-container 5.2.6), see derived/…interfaces.pve84.json",
			".data[].ip-addresses":     "added in PVE 8.4 (pve-container 5.2.6), see derived/…interfaces.pve84.json",
		}},
		{sample: "GET_nodes_node_lxc_vmid_status_current.json", method: "GET", path: static("/nodes/pve1/lxc/102/status/current")},
		{sample: "GET_nodes_node_lxc_vmid_status_current.running.json", method: "GET", path: static("/nodes/pve1/lxc/103/status/current"), allow: map[string]string{
			".data.cpu": "not a type difference: both are JSON numbers (float vs integer)",
		}},
		{sample: "GET_nodes_node_storage.json", method: "GET", path: static("/nodes/pve1/storage")},
		{sample: "GET_nodes_node_storage_storage_content.json", method: "GET", path: static("/nodes/pve1/storage/local/content"),
			captureFilter: func(v any) any { return filterData(v, "content", "vztmpl") }},
		{sample: "GET_nodes_node_tasks.json", method: "GET", path: static("/nodes/pve1/tasks"), allow: map[string]string{
			".data[].tokenid": taskAllow[".data.tokenid"],
			".total":          "the real endpoint returns total; the capture came through a client that drops it (README)",
		}},
		{sample: "GET_nodes_node_tasks_upid_log.json", method: "GET", path: func(f *shapeFixture) string {
			return "/nodes/pve1/tasks/" + url.PathEscape(f.createUPID) + "/log"
		}},
		{sample: "GET_nodes_node_tasks_upid_status.json", method: "GET", path: func(f *shapeFixture) string {
			return "/nodes/pve1/tasks/" + url.PathEscape(f.createUPID) + "/status"
		}, allow: taskAllow},
		{sample: "GET_cluster_resources.json", method: "GET", path: static("/cluster/resources"),
			simFilter: func(v any) any { return dropData(v, "type", "lxc") }},
		{sample: "GET_cluster_resources_type_vm.json", method: "GET", path: static("/cluster/resources?type=vm"),
			captureFilter: func(v any) any { return filterData(v, "type", "lxc") }, allow: map[string]string{
				".data[].tags": "present when set, as on qemu/102 in GET_cluster_resources.json; these captured CTs had none",
			}},
		{sample: "GET_cluster_status.json", method: "GET", path: static("/cluster/status")},
		{sample: "POST_access_ticket.json", method: "POST", path: static("/access/ticket"), form: "username=root%40pam&password=pvesim", allow: map[string]string{
			".data.cap.mapping": "PVE 8.x adds the mapping privilege class; the capture predates it",
		}},
		{sample: "POST_nodes_node_lxc.json", method: "POST", path: static("/nodes/pve2/lxc"),
			form: "vmid=200&ostemplate=local%3Avztmpl%2Fdebian-12-standard_12.7-1_amd64.tar.zst"},
		{sample: "POST_nodes_node_lxc_vmid_status_start.json", method: "POST", path: static("/nodes/pve2/lxc/200/status/start")},
		{sample: "POST_nodes_node_lxc_vmid_status_reboot.json", method: "POST", path: static("/nodes/pve2/lxc/200/status/reboot")},
		{sample: "POST_nodes_node_lxc_vmid_status_stop.json", method: "POST", path: static("/nodes/pve2/lxc/200/status/stop")},
	}

	samples, err := filepath.Glob(filepath.Join(ref, "pve-samples", "*.json"))
	require.NoError(t, err)
	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.sample] = true
	}
	for _, s := range samples {
		require.True(t, covered[filepath.Base(s)], "no shape test for capture %s", filepath.Base(s))
	}

	// Cases run in order: the POSTs at the end depend on each other.
	for _, tc := range cases {
		b := f.b
		if tc.sample == "GET_nodes_node_lxc.json" {
			b = f.legacy
		}
		headers := token
		ctype := ""
		if tc.form != "" {
			ctype = "application/x-www-form-urlencoded"
		}
		if tc.sample == "POST_access_ticket.json" {
			headers = nil
		}
		res := b.do(t, tc.method, tc.path(f), ctype, tc.form, headers)
		require.Equal(t, 200, res.status, "%s: %s", tc.sample, res.line)
		var got any
		require.NoError(t, json.Unmarshal(res.body, &got))
		want := loadJSON(t, filepath.Join(ref, "pve-samples", tc.sample))
		if tc.captureFilter != nil {
			want = tc.captureFilter(want)
		}
		if tc.simFilter != nil {
			got = tc.simFilter(got)
		}
		var errs []string
		used := map[string]bool{}
		compareShape("", buildShape(want), got, tc.allow, used, &errs)
		require.Empty(t, errs, "%s", tc.sample)
		for p, reason := range tc.allow {
			if strings.HasPrefix(reason, "not a type difference") {
				continue
			}
			require.True(t, used[p], "%s: allow-list entry %s is not needed any more", tc.sample, p)
		}
	}
}

// dropData removes the elements of body.data whose key equals value.
func dropData(body any, key, value string) any {
	m := body.(map[string]any)
	var kept []any
	for _, e := range m["data"].([]any) {
		if e.(map[string]any)[key] != value {
			kept = append(kept, e)
		}
	}
	return map[string]any{"data": kept}
}

func TestDerivedShapes(t *testing.T) {
	t.Parallel()
	ref := referenceDir(t)
	f := newShapeFixture(t)
	b := f.b
	derived := func(name string) *shape {
		return buildShape(loadJSON(t, filepath.Join(ref, "pve-samples", "derived", name)))
	}
	check := func(name string, res rawResponse, allow map[string]string) {
		t.Helper()
		require.Equal(t, 200, res.status, "%s: %s", name, res.line)
		var got any
		require.NoError(t, json.Unmarshal(res.body, &got))
		var errs []string
		compareShape("", derived(name), got, allow, map[string]bool{}, &errs)
		require.Empty(t, errs, name)
	}
	check("GET_cluster_nextid.json", b.do(t, "GET", "/cluster/nextid", "", "", token), nil)
	check("GET_nodes_node_lxc_vmid_interfaces.stopped.json", b.do(t, "GET", "/nodes/pve1/lxc/101/interfaces", "", "", token), nil)
	check("GET_nodes_node_lxc_vmid_interfaces.pve84.json", b.do(t, "GET", "/nodes/pve1/lxc/103/interfaces", "", "", token), nil)
	check("PUT_nodes_node_lxc_vmid_config.json", b.do(t, "PUT", "/nodes/pve1/lxc/101/config", "application/json", `{"cores":4}`, token), nil)
	check("POST_nodes_node_lxc_vmid_status_shutdown.json", b.do(t, "POST", "/nodes/pve1/lxc/103/status/shutdown", "application/json", `{"forceStop":true,"timeout":10}`, token), nil)
	del := b.do(t, "DELETE", "/nodes/pve1/lxc/101?purge=1&destroy-unreferenced-disks=1", "", "", token)
	check("DELETE_nodes_node_lxc_vmid.json", del, nil)

	var upid struct{ Data string }
	require.NoError(t, json.Unmarshal(del.body, &upid))
	require.Len(t, strings.Split(upid.Data, ":"), 9, "UPIDs have 9 colon-separated fields")
	require.Regexp(t, `^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:vzdestroy:101:root@pam!lxcbot:$`, upid.Data)

	b.c.FailTask(TaskFault{Node: "pve1", Type: "vzstart", Message: "startup for container '102' failed"})
	// 102 is a template and cannot start; use a fresh container.
	res := b.do(t, "POST", "/nodes/pve1/lxc", "application/json", `{"vmid":104,"ostemplate":"local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"}`, token)
	require.Equal(t, 200, res.status, res.line)
	start := b.do(t, "POST", "/nodes/pve1/lxc/104/status/start", "", "", token)
	require.NoError(t, json.Unmarshal(start.body, &upid))
	taskAllow := map[string]string{".data.tokenid": "task started with an API token"}
	check("GET_nodes_node_tasks_upid_status.failed.json", b.do(t, "GET", "/nodes/pve1/tasks/"+url.PathEscape(upid.Data)+"/status", "", "", token), taskAllow)

	// A running task and its empty log, in asynchronous mode.
	slow := setup(t, Options{Nodes: 1, TaskDuration: 1 << 40})
	res = slow.do(t, "POST", "/nodes/pve1/lxc", "application/json", `{"vmid":100,"ostemplate":"local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"}`, token)
	require.NoError(t, json.Unmarshal(res.body, &upid))
	check("GET_nodes_node_tasks_upid_status.running.json", slow.do(t, "GET", "/nodes/pve1/tasks/"+url.PathEscape(upid.Data)+"/status", "", "", token), taskAllow)
	check("GET_nodes_node_tasks_upid_log.running.json", slow.do(t, "GET", "/nodes/pve1/tasks/"+url.PathEscape(upid.Data)+"/log", "", "", token), nil)
	info, ok := slow.c.Container("pve1", 100)
	require.True(t, ok, "a container being created already holds its vmid")
	require.Equal(t, "create", info.Locked)
	res = slow.do(t, "POST", "/nodes/pve1/lxc/100/status/start", "", "", token)
	require.Equal(t, "500 CT 100 is locked (create)", res.line)
}

func TestListVMIDType(t *testing.T) {
	t.Parallel()
	f := newShapeFixture(t)
	for _, tc := range []struct {
		b    *testBundle
		kind string
	}{{f.b, "number"}, {f.legacy, "string"}} {
		res := tc.b.do(t, "GET", "/nodes/pve1/lxc", "", "", token)
		var body struct{ Data []map[string]any }
		require.NoError(t, json.Unmarshal(res.body, &body))
		require.NotEmpty(t, body.Data)
		for _, ct := range body.Data {
			require.Equal(t, tc.kind, kindOf(ct["vmid"]))
		}
	}
	// The status of a single container always carries an integer vmid.
	res := f.legacy.do(t, "GET", "/nodes/pve1/lxc/101/status/current", "", "", token)
	var st struct{ Data map[string]any }
	require.NoError(t, json.Unmarshal(res.body, &st))
	require.Equal(t, "number", kindOf(st.Data["vmid"]))
	require.False(t, slices.Contains([]string{"", "null"}, kindOf(st.Data["ha"])))
}
