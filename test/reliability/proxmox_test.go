package reliability_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/pvesim"
	"github.com/lxcbot/lxcbot/internal/testkit/chattest"
)

// TestProxmoxFaults injects the failures a Proxmox cluster produces and
// checks each ends as designed.
func TestProxmoxFaults(t *testing.T) {
	h := newHarness(t)
	h.inProcessWorker()
	h.reconciler(500 * time.Millisecond)
	ctx := context.Background()

	t.Run("5xx burst on GETs is retried", func(t *testing.T) {
		before := sum(h.sim.Cluster.Counters().Created)
		id := h.sim.Cluster.InjectFault(pvesim.Fault{Method: http.MethodGet, Path: "/nodes/*", Status: http.StatusServiceUnavailable, Count: 6})
		defer h.sim.Cluster.RemoveFault(id)
		ct := h.create("nginx-web", "burst", "pve1")
		c := h.waitState(ct, provision.StateReady, provision.StateFailed)
		require.Equal(t, provision.StateReady, c.State, c.LastError)
		require.Equal(t, before+1, sum(h.sim.Cluster.Counters().Created), "created once despite the errors")
	})

	t.Run("a create whose answer times out is not made twice", func(t *testing.T) {
		before := sum(h.sim.Cluster.Counters().Created)
		// Longer than the client's timeout: the create happens on Proxmox
		// but the bot never hears back.
		id := h.sim.Cluster.InjectFault(pvesim.Fault{Method: http.MethodPost, Path: "/nodes/{node}/lxc", Delay: 12 * time.Second})
		ct := h.create("nginx-web", "slowcreate", "pve2")
		updates, err := h.app.Router().Watch(ctx, ct)
		require.NoError(t, err)
		warned := ""
		for up := range updates {
			if up.Event.Type == provision.ProgressWarning || up.Event.Type == provision.ProgressFailed {
				warned = up.Event.Message
				break
			}
		}
		h.sim.Cluster.RemoveFault(id)
		require.NotEmpty(t, warned, "the timeout is reported")
		t.Logf("reported: %s", warned)
		c := h.waitState(ct, provision.StateReady, provision.StateFailed)
		require.Equal(t, provision.StateReady, c.State, c.LastError)
		require.Equal(t, before+1, sum(h.sim.Cluster.Counters().Created), "one create on Proxmox")
		require.Equal(t, 1, countHost(h, "slowcreate"), "one container named slowcreate on Proxmox")
	})

	t.Run("a failed task fails the job at create and Retry succeeds", func(t *testing.T) {
		h.sim.Cluster.FailTask(pvesim.TaskFault{Type: "vzcreate", Message: "unable to create CT - no space left on device"})
		ct := h.create("nginx-web", "taskfail", "pve1")
		c := h.waitState(ct, provision.StateReady, provision.StateFailed)
		require.Equal(t, provision.StateFailed, c.State)
		require.Equal(t, provision.PhaseCreate, c.FailedPhase)
		require.Contains(t, c.LastError, "no space left on device")
		show := h.u.Command(t, "show taskfail")
		require.Contains(t, chattest.AllText(show), "no space left on device")

		chattest.RequireOK(t, h.u.Press(t, commands.Button{ActionID: commands.ActJobRetry, Value: ct}))
		c = h.waitState(ct, provision.StateReady, provision.StateFailed)
		require.Equal(t, provision.StateReady, c.State, c.LastError)
		require.Equal(t, 1, countHost(h, "taskfail"))
	})

	t.Run("an offline node leaves the other node's containers listed", func(t *testing.T) {
		a := h.create("nginx-web", "on-one", "pve1")
		b := h.create("nginx-web", "on-two", "pve2")
		h.waitState(a, provision.StateReady)
		h.waitState(b, provision.StateReady)
		require.NoError(t, h.sim.Cluster.SetNodeOnline("pve2", false))
		defer func() { require.NoError(t, h.sim.Cluster.SetNodeOnline("pve2", true)) }()

		resp := h.u.Command(t, "list")
		chattest.RequireOK(t, resp)
		text := chattest.AllText(resp)
		t.Logf("list with pve2 offline:\n%s", text)
		require.Contains(t, text, "on-one")
		require.Contains(t, text, "on-two")
		line := lineWith(text, "on-two")
		require.Contains(t, strings.ToLower(line), "unknown", "pve2's container is marked unknown")
		require.NotContains(t, strings.ToLower(lineWith(text, "on-one")), "unknown")
	})
}

// countHost counts the containers named hostname on the simulated cluster.
func countHost(h *harness, hostname string) int {
	n := 0
	for _, node := range h.sim.Cluster.NodeNames() {
		for _, c := range h.sim.Cluster.Containers(node) {
			if c.Hostname == hostname {
				n++
			}
		}
	}
	return n
}

func lineWith(text, s string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}
