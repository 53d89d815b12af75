package ssh_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/adapters/proxmox"
	"github.com/lxcbot/lxcbot/internal/adapters/ssh"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/pvesim/simenv"
)

// TestAgainstSimulatedCluster creates and starts a container through the API
// adapter, then drives it over the simulated node's SSH server with pct, as
// the pipeline's deploy, packages and scripts phases do.
func TestAgainstSimulatedCluster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env, err := simenv.Start(ctx, simenv.Options{Nodes: 2})
	require.NoError(t, err)
	t.Cleanup(env.Close)

	var pve2 provision.Node
	for _, n := range env.Nodes() {
		if n.Name == "pve2" {
			pve2 = n
		}
	}
	api, err := proxmox.New(proxmox.ConfigFor(pve2))
	require.NoError(t, err)
	upid, err := api.CreateContainer(ctx, "pve2", proxmox.CreateSpec{
		VMID: 321, OSTemplate: "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
		Hostname: "web1", Storage: "local-lvm", DiskGiB: 8, Unprivileged: true,
	})
	require.NoError(t, err)
	require.NoError(t, api.WaitTask(ctx, "pve2", upid))

	cfg := ssh.ConfigFor(pve2)
	cfg.Timeout = 10 * time.Second
	r, err := ssh.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })

	status, err := r.Status(ctx, 321)
	require.NoError(t, err)
	require.Equal(t, "stopped", status)
	res, err := r.Exec(ctx, 321, []string{"true"}, ssh.ExecOptions{})
	require.NoError(t, err)
	require.ErrorIs(t, res.Err(), ssh.ErrNotRunning)
	require.ErrorIs(t, r.Push(ctx, 321, []byte("x"), "/root/x", 0o600, "", ""), ssh.ErrNotRunning)

	require.NoError(t, api.EnsureRunning(ctx, "pve2", 321))
	status, err = r.Status(ctx, 321)
	require.NoError(t, err)
	require.Equal(t, "running", status)

	// Hostile-looking input arrives as plain data.
	hostile := `it's "quoted" $(touch /pwned) ; rm -rf / # | &`
	content := []byte("GREETING=" + hostile + "\n")
	// pct push exits 0 when the directory is missing; only stderr tells.
	err = r.Push(ctx, 321, content, "/etc/app/app.env", 0o640, "root", "root")
	require.ErrorContains(t, err, "No such file or directory")
	res, err = r.Exec(ctx, 321, []string{"mkdir", "-p", "/etc/app"}, ssh.ExecOptions{})
	require.NoError(t, err)
	require.NoError(t, res.Err())
	require.NoError(t, r.Push(ctx, 321, content, "/etc/app/app.env", 0o640, "root", "root"))
	res, err = r.Exec(ctx, 321, []string{"stat", "-c", "%a", "/etc/app/app.env"}, ssh.ExecOptions{})
	require.NoError(t, err)
	require.Equal(t, "640", res.Stdout, res.Stderr)
	res, err = r.Exec(ctx, 321, []string{"cat", "/etc/app/app.env"}, ssh.ExecOptions{})
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitCode, res.Stderr)
	require.Equal(t, strings.TrimSuffix(string(content), "\n"), res.Stdout)

	var staged []string
	for _, rec := range env.SSH["pve2"].Records() {
		if p, ok := strings.CutPrefix(rec.Command, "rm -f "); ok {
			staged = append(staged, p)
		}
	}
	require.Len(t, staged, 3, "every push removes its staged copy, failed ones too")
	for _, p := range staged {
		_, ok := env.SSH["pve2"].StagedFile(p)
		require.False(t, ok, p)
	}

	var mu sync.Mutex
	var lines []string
	res, err = r.RunScript(ctx, 321, "echo start\nprintf '%s\\n' \"$MSG\"\necho oops >&2\nexit 7", ssh.ExecOptions{
		Env: map[string]string{"MSG": hostile},
		OnLine: func(s ssh.Stream, line string) {
			mu.Lock()
			lines = append(lines, s.String()+": "+line)
			mu.Unlock()
		},
	})
	require.NoError(t, err)
	require.Equal(t, 7, res.ExitCode)
	// Order is kept within a stream; the two streams interleave freely.
	require.ElementsMatch(t, []string{"stdout: start", "stdout: " + hostile, "stderr: oops"}, lines)
	require.Equal(t, "start\n"+hostile, res.Stdout)

	_, err = r.Status(ctx, 999)
	require.ErrorIs(t, err, provision.ErrNotFound)
	err = r.Push(ctx, 999, []byte("x"), "/root/x", 0o600, "", "")
	require.ErrorIs(t, err, provision.ErrNotFound)
}
