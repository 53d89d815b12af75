package e2e_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/pvesim/simenv"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := httpClient.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// TestReadinessFollowsRedis stops and restarts redis-server under a
// running serve: /readyz turns 503 naming redis, then 200 again, and the
// bot answers a slash command afterwards without being restarted.
func TestReadinessFollowsRedis(t *testing.T) {
	t.Parallel()
	s := newStack(t, simenv.Options{Nodes: 2})
	srv := s.start(t, "serve", "serve", "--no-worker")

	status, body := get(t, srv.URL+"/readyz")
	require.Equal(t, http.StatusOK, status, body)
	status, body = get(t, srv.URL+"/healthz")
	require.Equal(t, http.StatusOK, status, body)

	s.redis.Stop()
	var down string
	waitFor(t, "/readyz to report redis down", func() bool {
		status, down = get(t, srv.URL+"/readyz")
		return status == http.StatusServiceUnavailable
	})
	var report struct {
		Status  string
		Failing map[string]string
	}
	require.NoError(t, json.Unmarshal([]byte(down), &report), down)
	require.Contains(t, report.Status, "redis")
	require.Contains(t, report.Failing, "redis")
	require.NotContains(t, report.Failing, "postgres")
	status, _ = get(t, srv.URL+"/healthz")
	require.Equal(t, http.StatusOK, status, "liveness does not depend on redis")

	s.redis.Restart(t)
	waitFor(t, "/readyz to recover", func() bool {
		status, _ = get(t, srv.URL+"/readyz")
		return status == http.StatusOK
	})
	// The bot's own Redis client reconnected too: a command is deduplicated
	// through Redis and answered.
	n := 0
	waitFor(t, "a slash command to be answered after the restart", func() bool {
		n++
		status, ack := s.slash(t, srv.URL, "help", fmt.Sprintf("trig-help-after-restart-%d", n))
		return status == http.StatusOK && ack != "" && !strings.Contains(ack, "unavailable")
	})
}
