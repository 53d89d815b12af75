package reliability_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/pvesim"
	"github.com/lxcbot/lxcbot/internal/testkit/chattest"
)

// TestConcurrentDuplicateCreatesMakeOneContainer delivers the same Create
// (one plan, so one dedupe key) from many goroutines at once, as retried
// webhooks and double clicks on several replicas do.
func TestConcurrentDuplicateCreatesMakeOneContainer(t *testing.T) {
	h := newHarness(t)
	h.inProcessWorker()
	create := h.plan("nginx-web", "dup", "pve1")

	const n = 12
	ids := make([]string, n)
	resps := make([]commands.Response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			rq := h.u.Request(commands.KindAction)
			rq.Action = commands.ActionPayload{ID: create.ActionID, Value: create.Value}
			resps[i] = h.u.Router.Handle(context.Background(), rq)
			if resps[i].Watch != nil {
				ids[i] = resps[i].Watch.ContainerID
			}
		}()
	}
	close(start)
	wg.Wait()
	// Exactly one delivery gets the job card to follow; every other one is
	// told the container is already being created.
	var id string
	cards := 0
	for i, r := range resps {
		chattest.RequireOK(t, r)
		if ids[i] == "" {
			require.Contains(t, chattest.AllText(r), "already being created")
			continue
		}
		cards++
		if id == "" {
			id = ids[i]
		}
		require.Equal(t, id, ids[i], "every delivery names the same container")
	}
	require.Equal(t, 1, cards, "one job card for one container")
	c := h.waitState(id, provision.StateReady, provision.StateFailed)
	require.Equal(t, provision.StateReady, c.State, c.LastError)
	require.Len(t, h.containers(), 1)
	require.Equal(t, 1, h.simContainers())
	require.Equal(t, 1, sum(h.sim.Cluster.Counters().Created))
}

// TestConcurrentLifecycleActionsRunOnce sends the same action twice while
// the first is still running: one runs, the other is told who holds the
// container and since when.
func TestConcurrentLifecycleActionsRunOnce(t *testing.T) {
	h := newHarness(t)
	h.inProcessWorker()
	id := h.create("nginx-web", "busy", "pve1")
	h.waitState(id, provision.StateReady)
	stop := h.u.Command(t, "stop busy")
	chattest.RequireOK(t, stop)
	chattest.RequireOK(t, h.u.Press(t, chattest.Button(t, stop, commands.ActStop)))
	startsBefore := sum(h.sim.Cluster.Counters().Started)

	// Hold the first start on Proxmox until the second has been answered.
	fault := h.sim.Cluster.InjectFault(pvesim.Fault{Method: http.MethodPost,
		Path: "/nodes/{node}/lxc/{vmid}/status/start", Delay: 8 * time.Second})
	first := make(chan commands.Response, 1)
	go func() {
		rq := h.u.Request(commands.KindCommand)
		rq.Text = "start busy"
		first <- h.u.Router.Handle(context.Background(), rq)
	}()
	// The first holds the container's lock once it is in Redis.
	rdb := redis.NewClient(&redis.Options{Addr: h.redis.Addr, Dialer: (&net.Dialer{}).DialContext})
	defer rdb.Close()
	eventually(t, time.Minute, func() (bool, string) {
		n, err := rdb.Exists(context.Background(), "lxcbot:lock:"+provision.ContainerLockKey(id)).Result()
		return err == nil && n == 1, "first start not holding the lock yet"
	})
	second := h.u.Command(t, "start busy")
	h.sim.Cluster.RemoveFault(fault)
	text := chattest.AllText(second)
	t.Logf("second start answered: %s", text)
	require.Equal(t, commands.OutcomeUserError, second.Outcome, text)
	require.Contains(t, text, "busy: ", text)
	require.Contains(t, text, "starting it", "says what the holder is doing")
	require.Contains(t, strings.ToLower(text), "alice", "says who holds it")

	chattest.RequireOK(t, <-first)
	require.Equal(t, startsBefore+1, sum(h.sim.Cluster.Counters().Started), "started once")
}
