package simenv_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/adapters/ssh"
	"github.com/lxcbot/lxcbot/internal/pvesim"
	"github.com/lxcbot/lxcbot/internal/pvesim/simenv"
	"github.com/lxcbot/lxcbot/internal/secret"
)

func post(t *testing.T, c *http.Client, env *simenv.Env, path string, form url.Values) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, env.APIURL()+path, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	n := env.Nodes()[0]
	req.Header.Set("Authorization", fmt.Sprintf("PVEAPIToken=%s=%s", n.TokenID, n.TokenSecret.Reveal()))
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Status)
	var body struct{ Data string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return body.Data
}

// TestContainerReachableOverSSHOnItsNodeOnly creates and starts a container
// through the API, then runs a command in it through its node's SSH server
// with the bot's SSH runner; the other node does not know it.
func TestContainerReachableOverSSHOnItsNodeOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env, err := simenv.Start(ctx, simenv.Options{Nodes: 2})
	require.NoError(t, err)
	t.Cleanup(env.Close)

	c := pvesim.PinnedHTTPClient(env.API.Fingerprint(), 10*time.Second)
	post(t, c, env, "/nodes/pve2/lxc", url.Values{
		"vmid": {"321"}, "hostname": {"web1"},
		"ostemplate": {"local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"},
		"rootfs":     {"local-lvm:8"}, "net0": {"name=eth0,bridge=vmbr0,ip=dhcp"},
	})
	post(t, c, env, "/nodes/pve2/lxc/321/status/start", nil)

	nodes := map[string]int{}
	for i, n := range env.Nodes() {
		nodes[n.Name] = i
	}
	runner := func(node string) *ssh.Runner {
		n := env.Nodes()[nodes[node]]
		r, err := ssh.New(ssh.Config{Addr: n.SSHAddr, User: n.SSHUser, Password: secret.String(n.SSHPassword.Reveal()),
			HostKey: n.SSHHostKey, Timeout: 5 * time.Second})
		require.NoError(t, err)
		t.Cleanup(func() { r.Close() })
		return r
	}
	res, err := runner("pve2").RunScript(ctx, 321, "hostname; echo hello", ssh.ExecOptions{})
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitCode)
	require.Equal(t, "web1\nhello", strings.TrimSpace(res.Stdout))

	res, err = runner("pve1").Exec(ctx, 321, []string{"true"}, ssh.ExecOptions{})
	require.NoError(t, err)
	require.Equal(t, 255, res.ExitCode, "a container on another node is unknown here")

	g, ok := env.Guest(321)
	require.True(t, ok)
	require.True(t, g.Running())
}
