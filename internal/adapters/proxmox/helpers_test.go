package proxmox

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/pvesim"
	"github.com/lxcbot/lxcbot/internal/secret"
)

type testBundle struct {
	sim    *pvesim.Cluster
	srv    *pvesim.Server
	client *Client
	cfg    Config
}

// setup starts a simulated two-node cluster and a client pinned to its
// certificate. mod may adjust the client config before New.
func setup(t *testing.T, opts pvesim.Options, mod ...func(*Config)) *testBundle {
	t.Helper()
	sim := pvesim.New(opts)
	srv, err := pvesim.NewServer(sim)
	require.NoError(t, err)
	require.NoError(t, srv.Start("127.0.0.1:0"))
	t.Cleanup(func() { _ = srv.Close() })

	o := sim.Options()
	cfg := Config{
		APIURL:           srv.URL(),
		TokenID:          o.TokenID,
		TokenSecret:      secret.String(o.TokenSecret),
		TLSFingerprint:   srv.Fingerprint(),
		Timeout:          10 * time.Second,
		GetAttempts:      3,
		RetryBackoff:     time.Millisecond,
		TaskPollInterval: 5 * time.Millisecond,
	}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	return &testBundle{sim: sim, srv: srv, client: c, cfg: cfg}
}

// referenceDir finds ../shared/reference relative to the repository root.
func referenceDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "go.mod not found")
		dir = parent
	}
	ref := filepath.Join(dir, "..", "shared", "reference")
	_, err = os.Stat(ref)
	require.NoError(t, err, "shared reference data not found")
	return ref
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(referenceDir(t), "pve-samples", name))
	require.NoError(t, err)
	return b
}
