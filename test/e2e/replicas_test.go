package e2e_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/pvesim/simenv"
)

// roundRobin is a load balancer in front of serve replicas: request n goes
// to replica n mod len.
type roundRobin struct {
	proxies []*httputil.ReverseProxy
	n       atomic.Int64
}

func newRoundRobin(t *testing.T, bots ...*bot) *httptest.Server {
	t.Helper()
	rr := &roundRobin{}
	for _, b := range bots {
		u, err := url.Parse(b.URL)
		require.NoError(t, err)
		rr.proxies = append(rr.proxies, httputil.NewSingleHostReverseProxy(u))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(rr.n.Add(1)-1) % len(rr.proxies)
		rr.proxies[i].ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestTwoReplicasCreateOnce sends the deliveries of one Slack create flow
// to alternating serve replicas: the slash command to A, the Create button
// to B and the same button again to A. One container is created and its
// card is edited to ready.
func TestTwoReplicasCreateOnce(t *testing.T) {
	t.Parallel()
	s := newStack(t, simenv.Options{Nodes: 2})
	a := s.start(t, "serve A", "serve")
	b := s.start(t, "serve B", "serve", "--no-migrate")
	lb := newRoundRobin(t, a, b)

	trigger := "trig-replicas"
	status, ack := s.slash(t, lb.URL, "create nginx-web web1 --node pve1", trigger) // → A
	require.Equal(t, http.StatusOK, status, ack)
	btn := s.planButton(t, ack, trigger)
	status, body := s.press(t, lb.URL, btn.ActionID, btn.Value, "", true, "1700000200.000001") // → B
	require.Equal(t, http.StatusOK, status, body)
	status, body = s.press(t, lb.URL, btn.ActionID, btn.Value, "", true, "1700000200.000001") // → A, a redelivery
	require.Equal(t, http.StatusOK, status, body)

	card := s.jobCard(t, "web1")
	s.waitState(t, "web1", "ready")
	s.waitCard(t, card, "web1 is ready")
	require.Len(t, s.containers(t, "web1"), 1)
	k := s.sim.Cluster.Counters()
	require.Equal(t, 1, k.Created["pve1"]+k.Created["pve2"])
	require.Equal(t, 1, k.Started["pve1"]+k.Started["pve2"])
	var cards int
	for _, m := range s.slack.Messages(channel) {
		if m.ThreadTS == "" {
			cards++
		}
	}
	require.Equal(t, 1, cards, "one job card in the channel")
}
