package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/config"
)

// TestPvesimWritesALoadableNodesConfig runs the simulator command and checks
// that the snippet it writes is configuration the bot accepts as it is.
func TestPvesimWritesALoadableNodesConfig(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "nodes.yaml")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"pvesim", "--nodes", "3", "--http", "127.0.0.1:0", "--ssh", "127.0.0.1:0",
			"--task-duration", "0", "--config-out", out}, strings.NewReader(""), &stdout, &stderr,
			func(string) (string, bool) { return "", false })
	}()
	var data []byte
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(out)
		if err != nil || !bytes.Contains(b, []byte("pve3")) {
			return false
		}
		data = b
		return true
	}, 30*time.Second, 20*time.Millisecond)
	cfg, err := config.Load(func(k string) (string, bool) {
		if k == config.EnvConfigFile {
			return out, true
		}
		return "", false
	})
	require.NoError(t, err)
	require.Len(t, cfg.Nodes, 3, string(data))
	for _, n := range cfg.Nodes {
		require.True(t, strings.HasPrefix(n.APIURL, "https://127.0.0.1:"), n.APIURL)
		require.Contains(t, n.APIURL, "/api2/json")
		require.NotEmpty(t, n.TLSFingerprint)
		require.True(t, strings.HasPrefix(n.SSH.HostKey, "SHA256:"))
		require.NotEmpty(t, n.SSH.Addr)
	}
	cancel()
	select {
	case code := <-done:
		require.Equal(t, ExitOK, code, stderr.String())
		require.Contains(t, stderr.String(), "TLS fingerprint")
	case <-time.After(30 * time.Second):
		t.Fatal("pvesim did not stop when its context ended")
	}
}
