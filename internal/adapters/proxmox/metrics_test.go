package proxmox

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/metrics"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/pvesim"
)

func TestRouteTemplate(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]string{
		"/api2/json/version":                         "/version",
		"/api2/json/cluster/resources":               "/cluster/resources",
		"/api2/json/nodes/pve1/lxc/101/status/start": "/nodes/{node}/lxc/{vmid}/status/start",
		"/api2/json/nodes/pve1/lxc/101":              "/nodes/{node}/lxc/{vmid}",
		"/api2/json/nodes/pve1/tasks/UPID:pve1:0001:02:03:vzstart:101:root@pam:/status": "/nodes/{node}/tasks/{upid}/status",
		"/api2/json/nodes/pve1/storage/local/content":                                   "/nodes/{node}/storage/{storage}/content",
		"/api2/json/nodes/lxc/lxc/200/config":                                           "/nodes/{node}/lxc/{vmid}/config",
	} {
		require.Equal(t, want, RouteTemplate(path), path)
	}
}

func TestCallsAreTimedAndFailuresCountedByRouteTemplate(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	b := setup(t, pvesim.Options{Nodes: 2}, func(c *Config) { c.Metrics = m })
	ctx := t.Context()

	upid, err := b.client.CreateContainer(ctx, "pve1", CreateSpec{VMID: 170, OSTemplate: debianTemplate, Storage: "local-lvm", DiskGiB: 4})
	require.NoError(t, err)
	require.NoError(t, b.client.WaitTask(ctx, "pve1", upid))
	require.NoError(t, b.client.Domain().Start(ctx, "pve1", 170))

	const start = "POST /nodes/{node}/lxc/{vmid}/status/start"
	require.Equal(t, uint64(1), sampleCount(t, m, start))
	require.GreaterOrEqual(t, sampleCount(t, m, "GET /nodes/{node}/tasks/{upid}/status"), uint64(2))

	// Starting it again is refused (500 "already running"): an error of
	// the server class on the same route.
	err = b.client.Domain().Start(ctx, "pve1", 170)
	require.ErrorIs(t, err, provision.ErrConflict)
	require.Equal(t, uint64(2), sampleCount(t, m, start))
	require.Equal(t, 1.0, testutil.ToFloat64(m.ProxmoxErrors.WithLabelValues(start, "server")))
}

// sampleCount is how many requests the latency histogram holds for endpoint.
func sampleCount(t *testing.T, m *metrics.Metrics, endpoint string) uint64 {
	t.Helper()
	fams, err := m.Registry.Gather()
	require.NoError(t, err)
	for _, f := range fams {
		if f.GetName() != "lxcbot_proxmox_request_duration_seconds" {
			continue
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "endpoint" && l.GetValue() == endpoint {
					return s.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	return 0
}
