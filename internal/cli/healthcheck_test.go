package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHealthcheckExitsByStatus(t *testing.T) {
	t.Parallel()
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "/healthz", r.URL.Path)
		w.WriteHeader(status)
	}))
	defer srv.Close()

	res := run(t, map[string]string{"LXCBOT_HTTP_ADDR": strings.TrimPrefix(srv.URL, "http://")}, "healthcheck")
	require.Equal(t, ExitOK, res.code, res.stderr)
	require.Equal(t, "ok\n", res.stdout)

	status = http.StatusServiceUnavailable
	res = run(t, nil, "healthcheck", "--url", srv.URL+"/healthz")
	require.Equal(t, ExitFailure, res.code)
	require.Contains(t, res.stderr, "503")

	srv.Close()
	res = run(t, nil, "healthcheck", "--url", srv.URL+"/healthz")
	require.Equal(t, ExitFailure, res.code)
}
