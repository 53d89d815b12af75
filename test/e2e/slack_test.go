package e2e_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

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

// TestSlackModalRetriesAndRateLimits: /lxc create without arguments opens
// a modal from the trigger; a Slack retry of a slash command is answered
// once; 429s on chat.postMessage/chat.update still leave the card in its
// final state.
func TestSlackModalRetriesAndRateLimits(t *testing.T) {
	t.Parallel()
	s := newStack(t, simenv.Options{Nodes: 2})
	srv := s.start(t, "serve", "serve")

	status, body := s.slash(t, srv.URL, "create", "trig-modal")
	require.Equal(t, http.StatusOK, status, body)
	waitFor(t, "views.open with the trigger", func() bool {
		for _, c := range s.slack.Calls("views.open") {
			if c.Param("trigger_id") == "trig-modal" {
				return true
			}
		}
		return false
	})

	retry := s.slashRequest(srv.URL, "create nginx-web web9 --node pve1", "trig-retried")
	status, first := do(t, retry)
	require.Equal(t, http.StatusOK, status)
	again := s.slashRequest(srv.URL, "create nginx-web web9 --node pve1", "trig-retried")
	again.Header.Set("X-Slack-Retry-Num", "1")
	again.Header.Set("X-Slack-Retry-Reason", "http_timeout")
	status, second := do(t, again)
	require.Equal(t, http.StatusOK, status)
	require.NotEmpty(t, first)
	require.Empty(t, second, "a retried slash command is not answered twice")

	s.slack.SetRateLimit(2 * time.Second)
	card := s.createViaSlack(t, srv.URL, "postgres-db", "db1")
	s.waitState(t, "db1", "ready")
	s.waitCard(t, card, "db1 is ready")
	s.slack.SetRateLimit(0)

	// Nothing in the channel shows a password line.
	for _, c := range s.slack.Calls("chat.postMessage", "chat.update") {
		require.NotContains(t, strings.ToLower(callJSON(c)), "password:", "a credential reached a public message")
	}
}
