package pvesim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	proxmox "github.com/luthermonson/go-proxmox"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

const debianTemplate = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"

func TestFault5xxBurst(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Nodes: 1})
	ctx := context.Background()
	client := b.tokenClient()
	id := b.c.InjectFault(Fault{Method: "GET", Path: "/version", Status: 503, Message: "Service Unavailable burst", Count: 3})

	for range 3 {
		_, err := client.Version(ctx)
		require.Error(t, err)
	}
	_, err := client.Version(ctx)
	require.NoError(t, err, "the burst ends after Count requests")
	b.c.RemoveFault(id)

	b.c.InjectFault(Fault{Method: "POST", Path: "/nodes/{node}/lxc/{vmid}/status/start", Status: 500, Message: "got timeout"})
	node, err := client.Node(ctx, "pve1")
	require.NoError(t, err)
	task, err := node.NewContainer(ctx, 100, proxmox.ContainerOption{Name: "ostemplate", Value: debianTemplate})
	require.NoError(t, err)
	waitOK(ctx, t, task)
	ct, err := node.Container(ctx, 100)
	require.NoError(t, err)
	for range 2 {
		_, err = ct.Start(ctx)
		require.EqualError(t, err, "500 got timeout")
	}
	b.c.ClearFaults()
	task, err = ct.Start(ctx)
	require.NoError(t, err)
	waitOK(ctx, t, task)
	require.Equal(t, 1, b.c.Counters().Started["pve1"], "failed requests had no side effect")

	var statuses []int
	for _, r := range b.c.Requests() {
		if r.Template == "/nodes/{node}/lxc/{vmid}/status/start" {
			statuses = append(statuses, r.Status)
		}
	}
	require.Equal(t, []int{500, 500, 200}, statuses)
}

func TestFaultRateAndDelay(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Nodes: 1, Seed: 3})
	b.c.InjectFault(Fault{Path: "/nodes/pve1/*", Status: 500, Message: "flaky", Rate: 0.5})
	failed := 0
	for range 40 {
		if b.do(t, "GET", "/nodes/pve1/status", "", "", token).status == 500 {
			failed++
		}
	}
	require.Greater(t, failed, 0)
	require.Less(t, failed, 40)
	b.c.ClearFaults()

	// A slow endpoint: the request is held until the delay passes, which a
	// short client timeout observes as a failure.
	b.c.InjectFault(Fault{Path: "/version", Delay: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := b.tokenClient().Version(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestFailingTask(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Nodes: 2})
	ctx := context.Background()
	client := b.tokenClient()
	node, err := client.Node(ctx, "pve2")
	require.NoError(t, err)

	b.c.FailTask(TaskFault{Node: "pve2", Type: "vzcreate", Message: "unable to create CT 120 - no space left on device"})
	task, err := node.NewContainer(ctx, 120, proxmox.ContainerOption{Name: "ostemplate", Value: debianTemplate})
	require.NoError(t, err, "the API call itself succeeds")
	require.NoError(t, task.Wait(ctx, 10*time.Millisecond, 30*time.Second))
	require.True(t, task.IsFailed)
	require.Equal(t, "unable to create CT 120 - no space left on device", task.ExitStatus)
	info, ok := b.c.Task(string(task.UPID))
	require.True(t, ok)
	require.Equal(t, "TASK ERROR: unable to create CT 120 - no space left on device", info.Log[len(info.Log)-1])

	log, err := task.Log(ctx, 0, 50)
	require.NoError(t, err)
	require.Equal(t, "TASK ERROR: unable to create CT 120 - no space left on device", log[len(log)-1])

	_, ok = b.c.FindContainer(120)
	require.False(t, ok)
	k := b.c.Counters()
	require.Zero(t, k.Created["pve2"])
	require.Equal(t, 1, k.FailedTasks["vzcreate"])

	// The fault was used up: the retry succeeds.
	task, err = node.NewContainer(ctx, 120, proxmox.ContainerOption{Name: "ostemplate", Value: debianTemplate})
	require.NoError(t, err)
	waitOK(ctx, t, task)

	// A start that fails inside the task leaves the container stopped.
	b.c.FailTask(TaskFault{VMID: 120, Type: "vzstart", Message: "startup for container '120' failed"})
	ct, err := node.Container(ctx, 120)
	require.NoError(t, err)
	task, err = ct.Start(ctx)
	require.NoError(t, err)
	require.NoError(t, task.Wait(ctx, 10*time.Millisecond, 30*time.Second))
	require.True(t, task.IsFailed)
	require.NoError(t, ct.Ping(ctx))
	require.Equal(t, "stopped", ct.Status)

	// Task list: status holds the exit text, failed tasks can be filtered.
	res := b.do(t, "GET", "/nodes/pve2/tasks?errors=1", "", "", token)
	var list struct {
		Data  []map[string]any
		Total int
	}
	require.NoError(t, json.Unmarshal(res.body, &list))
	require.Equal(t, 2, list.Total)
	require.Equal(t, "startup for container '120' failed", list.Data[0]["status"])
}

func TestShutdownIgnoredFallsBackToStop(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Nodes: 1})
	ctx := context.Background()
	node, err := b.tokenClient().Node(ctx, "pve1")
	require.NoError(t, err)
	task, err := node.NewContainer(ctx, 100, proxmox.ContainerOption{Name: "ostemplate", Value: debianTemplate},
		proxmox.ContainerOption{Name: "start", Value: true})
	require.NoError(t, err)
	waitOK(ctx, t, task)
	require.NoError(t, b.c.SetIgnoreShutdown(100, true))
	ct, err := node.Container(ctx, 100)
	require.NoError(t, err)

	task, err = ct.Shutdown(ctx, false, 5)
	require.NoError(t, err)
	require.NoError(t, task.Wait(ctx, 10*time.Millisecond, 30*time.Second))
	require.True(t, task.IsFailed)
	require.Equal(t, "container did not stop", task.ExitStatus)
	require.NoError(t, ct.Ping(ctx))
	require.Equal(t, "running", ct.Status)

	task, err = ct.Shutdown(ctx, true, 5)
	require.NoError(t, err)
	waitOK(ctx, t, task)
	require.NoError(t, ct.Ping(ctx))
	require.Equal(t, "stopped", ct.Status)
}

func TestNodeOfflineAndBack(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Nodes: 2})
	ctx := context.Background()
	client := b.tokenClient()
	node, err := client.Node(ctx, "pve2")
	require.NoError(t, err)
	task, err := node.NewContainer(ctx, 100, proxmox.ContainerOption{Name: "ostemplate", Value: debianTemplate})
	require.NoError(t, err)
	waitOK(ctx, t, task)

	require.NoError(t, b.c.SetNodeOnline("pve2", false))
	res := b.do(t, "GET", "/nodes/pve2/lxc", "", "", token)
	require.Equal(t, "595 Connection refused", res.line)
	require.Empty(t, res.body)
	_, err = node.Container(ctx, 100)
	require.Error(t, err, "go-proxmox fails on the empty 595 body")
	require.Equal(t, "200 OK", b.do(t, "GET", "/nodes/pve1/lxc", "", "", token).line, "other nodes still answer")

	cl, err := client.Cluster(ctx)
	require.NoError(t, err)
	rs, err := cl.Resources(ctx)
	require.NoError(t, err)
	seen := map[string]string{}
	for _, r := range rs {
		seen[r.ID] = r.Status
	}
	require.Equal(t, "offline", seen["node/pve2"])
	require.Equal(t, "online", seen["node/pve1"])
	require.Equal(t, "unknown", seen["lxc/100"])
	nodes, err := client.Nodes(ctx)
	require.NoError(t, err)
	require.Equal(t, "offline", nodes[1].Status)

	require.NoError(t, b.c.SetNodeOnline("pve2", true))
	ct, err := node.Container(ctx, 100)
	require.NoError(t, err)
	require.Equal(t, "stopped", ct.Status)
	rs, err = cl.Resources(ctx, "node")
	require.NoError(t, err)
	for _, r := range rs {
		require.Equal(t, "online", r.Status)
	}
}

// TestManyContainers creates, starts and deletes 200 containers across four
// nodes with bounded concurrency, then checks every side effect happened once.
func TestManyContainers(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Nodes: 4, Seed: 9})
	ctx := context.Background()
	client := b.tokenClient()
	const total = 200
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	errs := make(chan error, total)
	for i := range total {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs <- lifecycle(ctx, client, fmt.Sprintf("pve%d", i%4+1), 1000+i)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	k := b.c.Counters()
	for _, n := range []string{"pve1", "pve2", "pve3", "pve4"} {
		require.Equal(t, total/4, k.Created[n], n)
		require.Equal(t, total/4, k.Started[n], n)
		require.Equal(t, total/4, k.Deleted[n], n)
	}
	require.Equal(t, total, k.Tasks["vzcreate"])
	require.Equal(t, total, k.Tasks["vzstart"])
	require.Equal(t, total, k.Tasks["vzdestroy"])
	require.Empty(t, b.c.Containers(""))
}

func lifecycle(ctx context.Context, client *proxmox.Client, nodeName string, vmid int) error {
	node, err := client.Node(ctx, nodeName)
	if err != nil {
		return err
	}
	wait := func(task *proxmox.Task, err error) error {
		if err != nil {
			return err
		}
		if err := task.Wait(ctx, 10*time.Millisecond, time.Minute); err != nil {
			return err
		}
		if !task.IsSuccessful {
			return fmt.Errorf("task %s failed: %s", task.UPID, task.ExitStatus)
		}
		return nil
	}
	if err := wait(node.NewContainer(ctx, vmid,
		proxmox.ContainerOption{Name: "ostemplate", Value: debianTemplate},
		proxmox.ContainerOption{Name: "net0", Value: "name=eth0,bridge=vmbr0,ip=dhcp"})); err != nil {
		return err
	}
	ct, err := node.Container(ctx, vmid)
	if err != nil {
		return err
	}
	if err := wait(ct.Start(ctx)); err != nil {
		return err
	}
	ifaces, err := ct.Interfaces(ctx)
	if err != nil {
		return err
	}
	if len(ifaces) != 2 || ifaces[1].Inet == "" {
		return fmt.Errorf("CT %d: no DHCP address: %+v", vmid, ifaces)
	}
	return wait(ct.Delete(ctx, &proxmox.ContainerDeleteOptions{Force: true, Purge: true}))
}

func TestNodesConfigSnippet(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Nodes: 2, TokenSecret: "secret-1"})
	nodes := b.srv.NodeConfigs(b.url, map[string]SSHConfig{
		"pve1": {Addr: "127.0.0.1:2222", User: "root", Password: "pw", HostKey: "SHA256:abc"},
	})
	var buf bytes.Buffer
	require.NoError(t, WriteNodesConfig(&buf, nodes))

	var parsed struct {
		Nodes []struct {
			Name           string `yaml:"name"`
			APIURL         string `yaml:"api_url"`
			TokenID        string `yaml:"token_id"`
			TokenSecret    string `yaml:"token_secret"`
			TLSFingerprint string `yaml:"tls_fingerprint"`
			SSH            *struct {
				Addr, User, Password string
				HostKey              string `yaml:"host_key"`
			} `yaml:"ssh"`
			Default bool `yaml:"default"`
		} `yaml:"nodes"`
	}
	require.NoError(t, yaml.Unmarshal(buf.Bytes(), &parsed))
	require.Len(t, parsed.Nodes, 2)
	n := parsed.Nodes[0]
	require.Equal(t, "pve1", n.Name)
	require.Equal(t, b.url, n.APIURL)
	require.Equal(t, "root@pam!lxcbot", n.TokenID)
	require.Equal(t, "secret-1", n.TokenSecret)
	require.Equal(t, b.srv.Fingerprint(), n.TLSFingerprint)
	require.True(t, n.Default)
	require.Equal(t, "127.0.0.1:2222", n.SSH.Addr)
	require.Equal(t, "SHA256:abc", n.SSH.HostKey)
	require.False(t, parsed.Nodes[1].Default)
	require.Nil(t, parsed.Nodes[1].SSH)
}

func TestRunServesUntilCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Options{Nodes: 1, Addr: "127.0.0.1:0", TokenSecret: "s"}, out) }()
	require.Eventually(t, func() bool { return bytes.Contains(out.Bytes(), []byte("tls_fingerprint: ")) }, 10*time.Second, 5*time.Millisecond)
	var printed struct {
		APIURL      string `yaml:"api_url"`
		TokenID     string `yaml:"token_id"`
		Fingerprint string `yaml:"tls_fingerprint"`
	}
	lines := bytes.SplitN(out.Bytes(), []byte("\n"), 2)
	require.NoError(t, yaml.Unmarshal(lines[1], &printed))
	client := proxmox.NewClient(printed.APIURL, proxmox.WithAPIToken(printed.TokenID, "s"),
		proxmox.WithHTTPClient(pinnedClient(printed.Fingerprint)))
	v, err := client.Version(ctx)
	require.NoError(t, err)
	require.Equal(t, "8.4.14", v.Version)
	cancel()
	require.NoError(t, <-done)
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.buf.Bytes()...)
}

type fakeRuntime struct {
	mu      sync.Mutex
	running bool
	ip      string
}

func (f *fakeRuntime) SetRunning(r bool) { f.mu.Lock(); f.running = r; f.mu.Unlock() }
func (f *fakeRuntime) SetIP(ip string)   { f.mu.Lock(); f.ip = ip; f.mu.Unlock() }

func TestRuntimeHook(t *testing.T) {
	t.Parallel()
	var made []string
	var mu sync.Mutex
	b := setup(t, Options{Nodes: 2, NewRuntime: func(node string, vmid int, hostname, ostemplate string) Runtime {
		mu.Lock()
		defer mu.Unlock()
		made = append(made, fmt.Sprintf("%s/%d/%s/%s", node, vmid, hostname, ostemplate))
		return &fakeRuntime{}
	}})
	ctx := context.Background()
	node, err := b.tokenClient().Node(ctx, "pve2")
	require.NoError(t, err)
	task, err := node.NewContainer(ctx, 300, proxmox.ContainerOption{Name: "ostemplate", Value: debianTemplate},
		proxmox.ContainerOption{Name: "hostname", Value: "db"},
		proxmox.ContainerOption{Name: "net0", Value: "name=eth0,bridge=vmbr0,ip=dhcp"},
		proxmox.ContainerOption{Name: "start", Value: true})
	require.NoError(t, err)
	waitOK(ctx, t, task)

	mu.Lock()
	require.Equal(t, []string{"pve2/300/db/" + debianTemplate}, made)
	mu.Unlock()
	n, ok := b.c.FindContainer(300)
	require.True(t, ok)
	require.Equal(t, "pve2", n)
	rt, ok := b.c.Runtime(300)
	require.True(t, ok)
	f := rt.(*fakeRuntime)
	f.mu.Lock()
	require.True(t, f.running)
	require.Equal(t, "10.10.2.2", f.ip)
	f.mu.Unlock()

	ct, err := node.Container(ctx, 300)
	require.NoError(t, err)
	task, err = ct.Stop(ctx)
	require.NoError(t, err)
	waitOK(ctx, t, task)
	f.mu.Lock()
	require.False(t, f.running)
	f.mu.Unlock()
	_, ok = b.c.Runtime(999)
	require.False(t, ok)
}
