package pvesim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	proxmox "github.com/luthermonson/go-proxmox"
	"github.com/stretchr/testify/require"
)

type testBundle struct {
	c   *Cluster
	srv *Server
	url string
}

func setup(t *testing.T, opts Options) *testBundle {
	t.Helper()
	c := New(opts)
	srv, err := NewServer(c)
	require.NoError(t, err)
	require.NoError(t, srv.Start("127.0.0.1:0"))
	t.Cleanup(func() { _ = srv.Close() })
	return &testBundle{c: c, srv: srv, url: srv.URL()}
}

// pinnedClient is the kind of client the bot builds: certificate checks
// replaced by a comparison of the leaf's SHA-256 with the pinned value.
func pinnedClient(fingerprint string) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			InsecureSkipVerify: true, //nolint:gosec // pinned below.
			VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
				if len(raw) == 0 || Fingerprint(raw[0]) != fingerprint {
					return errors.New("fingerprint mismatch")
				}
				return nil
			},
		}},
	}
}

func (b *testBundle) tokenClient() *proxmox.Client {
	o := b.c.Options()
	return proxmox.NewClient(b.url,
		proxmox.WithAPIToken(o.TokenID, o.TokenSecret),
		proxmox.WithHTTPClient(pinnedClient(b.srv.Fingerprint())))
}

type rawResponse struct {
	status int
	line   string // "500 CT 101 already running"
	body   []byte
}

// do sends a raw API request. headers may contain "token" as a shortcut
// for the configured API token.
func (b *testBundle) do(t *testing.T, method, path, contentType, body string, headers map[string]string) rawResponse {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, b.url+path, rd)
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range headers {
		if k == "token" {
			o := b.c.Options()
			req.Header.Set("Authorization", "PVEAPIToken="+o.TokenID+"="+o.TokenSecret)
			continue
		}
		req.Header.Set(k, v)
	}
	res, err := b.srv.HTTPClient().Do(req)
	require.NoError(t, err)
	defer func() { _ = res.Body.Close() }()
	out, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return rawResponse{status: res.StatusCode, line: res.Status, body: out}
}

var token = map[string]string{"token": ""}

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
