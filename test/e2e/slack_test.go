package e2e_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/pvesim/simenv"
)

// TestSlackCreateToReady creates a container through signed Slack
// deliveries to a real serve process and follows its card to ready.
func TestSlackCreateToReady(t *testing.T) {
	t.Parallel()
	s := newStack(t, simenv.Options{Nodes: 2})
	srv := s.start(t, "serve", "serve")
	card := s.createViaSlack(t, srv.URL, "nginx-web", "web1")
	s.waitCard(t, card, "web1 is ready")
	s.waitState(t, "web1", "ready")
	k := s.sim.Cluster.Counters()
	require.Equal(t, 1, k.Created["pve1"])
	require.Equal(t, 1, k.Started["pve1"])
}
