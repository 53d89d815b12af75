package proxmox

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/secret"
)

// answer is one canned API answer: a status line (reason phrases carry
// PVE's error text) and a body.
type answer struct {
	status int
	reason string
	body   []byte
}

// captureServer serves real PVE captures from ../shared/reference over
// HTTPS/1.1, writing arbitrary reason phrases the way pveproxy does.
type captureServer struct {
	srv    *httptest.Server
	mu     sync.Mutex
	routes map[string]answer // "GET /nodes/pve/lxc" (path relative to /api2/json, with query)
	hits   map[string]int
}

func newCaptureServer(t *testing.T, routes map[string]answer) *captureServer {
	t.Helper()
	cs := &captureServer{routes: routes, hits: map[string]int{}}
	cs.srv = httptest.NewUnstartedServer(http.HandlerFunc(cs.serve))
	cs.srv.TLS = &tls.Config{NextProtos: []string{"http/1.1"}}
	cs.srv.StartTLS()
	t.Cleanup(cs.srv.Close)
	return cs
}

func (cs *captureServer) serve(w http.ResponseWriter, r *http.Request) {
	key := r.Method + " " + strings.TrimPrefix(r.URL.Path, "/api2/json")
	if r.URL.RawQuery != "" {
		key += "?" + r.URL.RawQuery
	}
	cs.mu.Lock()
	a, ok := cs.routes[key]
	cs.hits[key]++
	cs.mu.Unlock()
	if !ok {
		a = answer{status: 501, reason: fmt.Sprintf("Method '%s' not implemented", key), body: []byte(`{"data":null}`)}
	}
	if a.status == 0 || a.status == 200 {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		_, _ = w.Write(a.body)
		return
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 %03d %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", a.status, a.reason, len(a.body))
	_, _ = buf.Write(a.body)
	_ = buf.Flush()
}

func (cs *captureServer) hitCount(key string) int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.hits[key]
}

func (cs *captureServer) fingerprint() string { return CertFingerprint(cs.srv.Certificate().Raw) }

func (cs *captureServer) client(t *testing.T, mod ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		APIURL:           cs.srv.URL + "/api2/json",
		TokenID:          "lxcbot@pve!bot",
		TokenSecret:      secret.String("0f5b0c1e-secret-token-value"),
		TLSFingerprint:   cs.fingerprint(),
		Timeout:          5 * time.Second,
		GetAttempts:      3,
		RetryBackoff:     time.Millisecond,
		TaskPollInterval: time.Millisecond,
	}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	return c
}

// derivedError reads an ERR_*.json sample: its status line and the body
// servers send since libpve-http-server-perl 5.2.0.
func derivedError(t *testing.T, name string) answer {
	t.Helper()
	var s struct {
		StatusLine string          `json:"http_status_line"`
		Body       json.RawMessage `json:"body"`
		BodyNew    json.RawMessage `json:"body_since_libpve-http-server-perl_5.2.0"`
	}
	require.NoError(t, json.Unmarshal(sample(t, "derived/"+name), &s))
	var code int
	var reason string
	_, err := fmt.Sscanf(s.StatusLine, "HTTP/1.1 %d", &code)
	require.NoError(t, err)
	reason = strings.SplitN(s.StatusLine, " ", 3)[2]
	body := []byte(s.BodyNew)
	if len(body) == 0 {
		body = s.Body
	}
	var str string
	if json.Unmarshal(body, &str) == nil {
		body = []byte(str) // an empty body is stored as ""
	}
	return answer{status: code, reason: reason, body: body}
}

func TestPinning(t *testing.T) {
	t.Parallel()
	cs := newCaptureServer(t, map[string]answer{"GET /version": {body: sample(t, "GET_version.json")}})

	t.Run("pinned certificate is accepted", func(t *testing.T) {
		v, err := cs.client(t).Version(t.Context())
		require.NoError(t, err)
		require.NotEmpty(t, v.Version)
	})
	t.Run("pin format does not matter", func(t *testing.T) {
		pin := strings.ToLower(strings.ReplaceAll(cs.fingerprint(), ":", ""))
		_, err := cs.client(t, func(c *Config) { c.TLSFingerprint = pin }).Version(t.Context())
		require.NoError(t, err)
	})
	t.Run("another certificate is refused", func(t *testing.T) {
		other := strings.Repeat("AB:", 31) + "AB"
		_, err := cs.client(t, func(c *Config) { c.TLSFingerprint = other; c.Node = "pve1" }).Version(t.Context())
		var mismatch *FingerprintMismatchError
		require.ErrorAs(t, err, &mismatch)
		require.Equal(t, other, mismatch.Want)
		require.Equal(t, cs.fingerprint(), mismatch.Got)
		require.NotErrorIs(t, err, provision.ErrUnavailable)
		var identity *provision.NodeIdentityError
		require.ErrorAs(t, err, &identity, "the domain sees a node identity problem")
		require.Equal(t, "pve1", identity.Node)
		require.Equal(t, provision.IdentityTLS, identity.What)
	})
	t.Run("no pin is reported with the certificate to confirm", func(t *testing.T) {
		before := cs.hitCount("GET /version")
		_, err := cs.client(t, func(c *Config) { c.TLSFingerprint = "" }).Version(t.Context())
		var unknown *UnknownFingerprintError
		require.ErrorAs(t, err, &unknown)
		require.Equal(t, cs.fingerprint(), unknown.Got)
		require.Equal(t, before, cs.hitCount("GET /version"), "no request got through, none retried")

		probed, err := ProbeFingerprint(t.Context(), cs.srv.URL+"/api2/json")
		require.NoError(t, err)
		require.Equal(t, cs.fingerprint(), probed)
	})
	t.Run("insecure without pin skips verification", func(t *testing.T) {
		_, err := cs.client(t, func(c *Config) { c.TLSFingerprint = ""; c.InsecureSkipVerify = true }).Version(t.Context())
		require.NoError(t, err)
	})
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	good := Config{APIURL: "https://pve:8006/api2/json", TokenID: "lxcbot@pve!bot", TokenSecret: "s"}
	_, err := New(good)
	require.NoError(t, err)
	for name, mod := range map[string]func(*Config){
		"http":         func(c *Config) { c.APIURL = "http://pve:8006/api2/json" },
		"no api2/json": func(c *Config) { c.APIURL = "https://pve:8006" },
		"token id":     func(c *Config) { c.TokenID = "lxcbot" },
		"no secret":    func(c *Config) { c.TokenSecret = "" },
	} {
		cfg := good
		mod(&cfg)
		_, err := New(cfg)
		require.Error(t, err, name)
	}
}

func TestDecodesRealCaptures(t *testing.T) {
	t.Parallel()
	// A container with cpulimit but no cores: cpus comes as a string and
	// breaks go-proxmox's node.Containers().
	lxc := strings.Replace(string(sample(t, "GET_nodes_node_lxc.json")), `"cpus": 1,`, `"cpus": "1.5",`, 1)
	require.Contains(t, lxc, `"cpus": "1.5"`)
	cs := newCaptureServer(t, map[string]answer{
		"GET /nodes":                                            {body: sample(t, "GET_nodes.json")},
		"GET /nodes/node1/lxc":                                  {body: []byte(lxc)},
		"GET /cluster/resources?type=vm":                        {body: sample(t, "GET_cluster_resources_type_vm.json")},
		"GET /cluster/nextid":                                   {body: sample(t, "derived/GET_cluster_nextid.json")},
		"GET /nodes/node1/lxc/101/status/current":               {body: sample(t, "GET_nodes_node_lxc_vmid_status_current.running.json")},
		"GET /nodes/node1/lxc/101/interfaces":                   {body: sample(t, "derived/GET_nodes_node_lxc_vmid_interfaces.pve84.json")},
		"GET /nodes/node1/lxc/102/interfaces":                   {body: sample(t, "derived/GET_nodes_node_lxc_vmid_interfaces.stopped.json")},
		"GET /nodes/node1/lxc/101/config":                       {body: sample(t, "GET_nodes_node_lxc_vmid_config.json")},
		"GET /nodes/node1/storage":                              {body: sample(t, "GET_nodes_node_storage.json")},
		"GET /nodes/node1/storage/local/content?content=vztmpl": {body: sample(t, "GET_nodes_node_storage_storage_content.json")},
	})
	c := cs.client(t)
	ctx := t.Context()

	nodes, err := c.Nodes(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, nodes)
	require.NotEmpty(t, nodes[0].Name)

	cts, err := c.ListContainers(ctx, "node1")
	require.NoError(t, err)
	require.NotEmpty(t, cts)
	require.Equal(t, 106, cts[len(cts)-1].VMID, "vmid sent as a string")
	var sawFraction bool
	for _, ct := range cts {
		sawFraction = sawFraction || ct.CPUs == 1.5
	}
	require.True(t, sawFraction)

	all, err := c.ClusterContainers(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, all)
	for _, ct := range all {
		require.NotZero(t, ct.VMID)
		require.NotEmpty(t, ct.Node)
	}
	exists, err := c.VMIDExists(ctx, all[0].VMID)
	require.NoError(t, err)
	require.True(t, exists)
	exists, err = c.VMIDExists(ctx, 987654)
	require.NoError(t, err)
	require.False(t, exists)

	id, err := c.NextID(ctx)
	require.NoError(t, err)
	require.Equal(t, 100, id, "nextid comes as a string")

	st, err := c.Status(ctx, "node1", 101)
	require.NoError(t, err)
	require.Equal(t, "running", st.Status)
	require.NotZero(t, st.MaxMem)

	ifs, err := c.Interfaces(ctx, "node1", 101)
	require.NoError(t, err)
	require.NotEmpty(t, ifs)
	ifs, err = c.Interfaces(ctx, "node1", 102)
	require.NoError(t, err)
	require.NotNil(t, ifs)
	require.Empty(t, ifs, "a stopped container answers null")

	conf, err := c.Config(ctx, "node1", 101)
	require.NoError(t, err)
	require.NotEmpty(t, conf["hostname"])
	require.NotEmpty(t, conf["memory"], "numbers keep their literal text")

	storages, err := c.NodeStorages(ctx, "node1")
	require.NoError(t, err)
	require.NotEmpty(t, storages)
	tmpls, err := c.OSTemplates(ctx, "node1")
	require.NoError(t, err)
	for _, tm := range tmpls {
		require.Contains(t, tm.VolID, ":vztmpl/")
	}
}

func TestErrorMapping(t *testing.T) {
	t.Parallel()
	failedStatus := sample(t, "derived/GET_nodes_node_tasks_upid_status.failed.json")
	const upid = "UPID:pve:0002A1F3:01B4C9D2:67F3A2B1:vzstart:101:root@pam:"
	var logLines []map[string]any
	for i := 1; i <= 30; i++ {
		logLines = append(logLines, map[string]any{"n": i, "t": fmt.Sprintf("line %d", i)})
	}
	logLines = append(logLines, map[string]any{"n": 31, "t": "TASK ERROR: startup for container '101' failed"})
	logBody, err := json.Marshal(map[string]any{"data": logLines, "total": len(logLines)})
	require.NoError(t, err)

	cs := newCaptureServer(t, map[string]answer{
		"POST /nodes/pve/lxc":                                     derivedError(t, "ERR_500_ct_exists.json"),
		"POST /nodes/pve/lxc/101/status/start":                    derivedError(t, "ERR_500_already_running.json"),
		"GET /nodes/pve/lxc/999/status/current":                   derivedError(t, "ERR_500_ct_missing.json"),
		"GET /nodes/pve2/lxc":                                     derivedError(t, "ERR_595_node_offline.json"),
		"POST /nodes/pve2/lxc/101/status/stop":                    derivedError(t, "ERR_595_node_offline.json"),
		"GET /version":                                            derivedError(t, "ERR_401_auth_failed.json"),
		"POST /nodes/pve/lxc/101/status/reboot":                   derivedError(t, "ERR_403_permission.json"),
		"GET /nodes/pve/tasks/" + upid + "/status":                {body: failedStatus},
		"GET /nodes/pve/tasks/" + upid + "/log?limit=500&start=0": {body: logBody},
	})
	c := cs.client(t)
	ctx := t.Context()

	_, err = c.CreateContainer(ctx, "pve", CreateSpec{VMID: 101, OSTemplate: "local:vztmpl/x.tar.zst", Storage: "local-lvm", DiskGiB: 8, Password: "pw-never-shown"})
	require.ErrorIs(t, err, ErrVMIDExists)
	require.ErrorIs(t, err, provision.ErrConflict)
	require.ErrorContains(t, err, "CT 101 already exists on node 'pve'")

	_, err = c.Start(ctx, "pve", 101)
	require.ErrorIs(t, err, ErrAlreadyRunning)
	require.EqualError(t, err, "starting CT 101 on pve: 500 CT 101 already running")
	require.NoError(t, c.EnsureRunning(ctx, "pve", 101), "already running counts as started")

	_, err = c.Status(ctx, "pve", 999)
	require.ErrorIs(t, err, provision.ErrNotFound)

	_, err = c.ListContainers(ctx, "pve2")
	require.ErrorIs(t, err, provision.ErrUnavailable)
	require.ErrorContains(t, err, "595 Connection refused")
	require.Equal(t, 3, cs.hitCount("GET /nodes/pve2/lxc"), "GETs are retried, bounded")

	_, err = c.Stop(ctx, "pve2", 101)
	require.ErrorIs(t, err, provision.ErrUnavailable)
	require.Equal(t, 1, cs.hitCount("POST /nodes/pve2/lxc/101/status/stop"), "POSTs are never retried")

	_, err = c.Version(ctx)
	var authErr *AuthError
	require.ErrorAs(t, err, &authErr)
	require.ErrorIs(t, err, ErrAuth)
	require.ErrorContains(t, err, "lxcbot@pve!bot")
	require.NotContains(t, err.Error(), "secret-token-value")
	require.Equal(t, 1, cs.hitCount("GET /version"), "auth failures are not retried")

	_, err = c.Reboot(ctx, "pve", 101)
	require.ErrorIs(t, err, ErrAuth)
	require.ErrorContains(t, err, "Permission check failed (/vms/101, VM.PowerMgmt)")

	err = c.WaitTask(ctx, "", upid)
	var taskErr *TaskError
	require.ErrorAs(t, err, &taskErr)
	require.Equal(t, "startup for container '101' failed", taskErr.ExitStatus)
	require.Equal(t, "vzstart", taskErr.Type)
	require.Len(t, taskErr.Log, taskLogTail)
	require.Equal(t, "TASK ERROR: startup for container '101' failed", taskErr.Log[len(taskErr.Log)-1])
	require.ErrorContains(t, err, "startup for container '101' failed")
}

func TestUnreachableAPIIsUnavailable(t *testing.T) {
	t.Parallel()
	cs := newCaptureServer(t, nil)
	c := cs.client(t, func(c *Config) { c.GetAttempts = 2 })
	cs.srv.Close()
	_, err := c.Version(t.Context())
	require.ErrorIs(t, err, provision.ErrUnavailable)
	require.ErrorContains(t, err, "reading proxmox version")
}

func TestCreateErrorNeverShowsPassword(t *testing.T) {
	t.Parallel()
	// PVE's parameter errors may quote the rejected value.
	cs := newCaptureServer(t, map[string]answer{
		"POST /nodes/pve/lxc": {status: 400, reason: "Parameter verification failed.",
			body: []byte(`{"data":null,"errors":{"password":"invalid format - 'pw-Never-Shown' contains a forbidden character"}}`)},
	})
	_, err := cs.client(t).CreateContainer(t.Context(), "pve", CreateSpec{
		VMID: 101, OSTemplate: "local:vztmpl/x.tar.zst", Storage: "local-lvm", DiskGiB: 8, Password: "pw-Never-Shown",
	})
	require.ErrorIs(t, err, provision.ErrInvalid)
	require.ErrorContains(t, err, "400 Parameter verification failed. (password: invalid format")
	require.NotContains(t, err.Error(), "pw-Never-Shown")
}
