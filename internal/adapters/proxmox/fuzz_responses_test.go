package proxmox

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/secret"
)

// fuzzTokenSecret must never appear in an error, whatever the node sends.
const fuzzTokenSecret = "fuzz-token-secret-7c1d"

// fuzzStatuses are the answers a node gives: success, PVE's error codes
// and pveproxy's own 595/596. The fuzzed byte picks one.
var fuzzStatuses = []int{200, 400, 401, 403, 404, 500, 501, 503, 595, 596}

// FuzzAPIResponses serves arbitrary bytes, under each status a node uses,
// as the answer to every endpoint the client decodes (status/current, the
// container list, cluster/resources, task status and log, interfaces,
// config, version, nodes, storages, storage content, nextid, power
// actions) over a pinned TLS connection, through the real client. Nothing
// may panic; a call either succeeds with sane values or returns an error,
// and no error carries the token secret.
func FuzzAPIResponses(f *testing.F) {
	var (
		mu     sync.Mutex
		status = 200
		body   []byte
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		st, b := status, body
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(st)
		_, _ = w.Write(b)
	}))
	srv.TLS = &tls.Config{NextProtos: []string{"http/1.1"}}
	srv.StartTLS()
	f.Cleanup(srv.Close)
	c, err := New(Config{
		APIURL: srv.URL + "/api2/json", TokenID: "lxcbot@pve!fuzz", TokenSecret: secret.String(fuzzTokenSecret),
		TLSFingerprint: CertFingerprint(srv.Certificate().Raw), Timeout: 5 * time.Second,
		GetAttempts: 1, TaskPollInterval: time.Millisecond,
	})
	require.NoError(f, err)
	f.Cleanup(c.Close)
	d := c.Domain()

	f.Add(uint8(0), []byte(`{"data":{"status":"running","name":"web1","cpu":0.01,"cpus":"2","mem":1,"maxmem":2,"uptime":5,"tags":"a;b","vmid":"101"}}`))
	f.Add(uint8(0), []byte(`{"data":[{"vmid":101,"name":"web1","status":"stopped","type":"lxc","node":"pve1","maxcpu":2,"template":0}]}`))
	f.Add(uint8(0), []byte(`{"data":[{"type":"node","node":"pve1","status":"online"},{"type":"lxc","node":"pve1","vmid":"1e300","cpus":"NaN"}]}`))
	f.Add(uint8(0), []byte(`{"data":{"status":"stopped","exitstatus":"CT 101 already running","type":"vzstart"}}`))
	f.Add(uint8(0), []byte(`{"data":[{"n":1,"t":"TASK ERROR: CT 101 already running"}]}`))
	f.Add(uint8(0), []byte(`{"data":[{"name":"eth0","hwaddr":"aa:bb","inet":"10.0.0.5/24"},{"name":"lo"}]}`))
	f.Add(uint8(0), []byte(`{"data":{"hostname":"web1","cores":2,"memory":"512","description":"a\nb","net0":null}}`))
	f.Add(uint8(0), []byte(`{"data":{"version":"8.4.14","release":"8.4","repoid":"abc"}}`))
	f.Add(uint8(0), []byte(`{"data":[{"storage":"local","content":"vztmpl,iso","active":1,"enabled":"1","total":"x"}]}`))
	f.Add(uint8(0), []byte(`{"data":"NaN"}`))
	f.Add(uint8(0), []byte(`{"data":"1e30"}`))
	f.Add(uint8(0), []byte(`{"data":"UPID:pve1:0001:0002:0003:vzstart:101:root@pam:"}`))
	f.Add(uint8(0), []byte(`{"data":null}`))
	f.Add(uint8(0), []byte(``))
	f.Add(uint8(0), []byte(`[]`))
	f.Add(uint8(1), []byte(`{"data":null,"message":"CT 101 already exists\n","errors":{"vmid":"bad"}}`))
	f.Add(uint8(4), []byte(`{"data":null}`))
	f.Add(uint8(5), []byte(`{"message":"Configuration file 'nodes/pve1/lxc/101.conf' does not exist"}`))
	f.Add(uint8(8), []byte(``))
	f.Fuzz(func(t *testing.T, statusPick uint8, answer []byte) {
		mu.Lock()
		status, body = fuzzStatuses[int(statusPick)%len(fuzzStatuses)], answer
		mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		check := func(what string, err error) {
			if err != nil {
				require.NotContains(t, err.Error(), fuzzTokenSecret, what)
			}
		}

		v, err := c.Version(ctx)
		check("version", err)
		if err != nil {
			require.Zero(t, v)
		}
		_, err = c.Nodes(ctx)
		check("nodes", err)
		_, err = c.NodeStorages(ctx, "pve1")
		check("storages", err)
		_, err = c.OSTemplates(ctx, "pve1")
		check("os templates", err)
		_, err = d.RootStorages(ctx, "pve1")
		check("root storages", err)
		id, err := c.NextID(ctx)
		check("nextid", err)
		if err == nil {
			require.True(t, id >= 100 && id <= 999999999, "nextid %d accepted", id)
		}
		_, err = c.VMIDExists(ctx, 101)
		check("vmid exists", err)
		_, err = c.ClusterContainers(ctx)
		check("cluster containers", err)
		_, err = d.UsedVMIDs(ctx)
		check("used vmids", err)
		_, err = d.NodeGuests(ctx, "pve1")
		check("node guests", err)
		_, err = c.ListContainers(ctx, "pve1")
		check("list", err)
		st, err := c.Status(ctx, "pve1", 101)
		check("status", err)
		if err != nil {
			require.Zero(t, st.Status)
		}
		_, err = d.GuestStatus(ctx, "pve1", 101)
		check("guest status", err)
		ifs, err := c.Interfaces(ctx, "pve1", 101)
		check("interfaces", err)
		if err == nil {
			require.NotNil(t, ifs)
		}
		_, err = d.Interfaces(ctx, "pve1", 101)
		check("domain interfaces", err)
		_, err = c.Config(ctx, "pve1", 101)
		check("config", err)
		_, err = d.Description(ctx, "pve1", 101)
		check("description", err)
		_, err = c.Start(ctx, "pve1", 101)
		check("start", err)
		_, err = c.Delete(ctx, "pve1", 101)
		check("delete", err)

		// A task that says it runs is polled until the context ends.
		tctx, tcancel := context.WithTimeout(ctx, 20*time.Millisecond)
		err = c.WaitTask(tctx, "", "UPID:pve1:0001:0002:0003:vzstart:101:root@pam:")
		tcancel()
		check("task", err)
		var te *TaskError
		if errors.As(err, &te) {
			require.NotEmpty(t, te.Type)
			require.LessOrEqual(t, len(te.Log), taskLogTail)
			_ = te.Error()
		}
		lines := c.taskLogTail(ctx, "pve1", "UPID:pve1:0001:0002:0003:vzstart:101:root@pam:")
		require.LessOrEqual(t, len(lines), taskLogTail)
	})
}
