package sshd

import (
	"context"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/lxcbot/lxcbot/internal/pvesim/guest"
)

// listHost is a mapHost that also lists its containers, locks included.
type listHost struct {
	mapHost
	locks map[int]string
}

func (h listHost) Containers() []NodeContainer {
	var out []NodeContainer
	for vmid, g := range h.mapHost {
		status := "stopped"
		if g.Running() {
			status = "running"
		}
		out = append(out, NodeContainer{VMID: vmid, Name: g.Hostname(), Status: status, Lock: h.locks[vmid]})
	}
	return out
}

// serve starts an SSH server for host and returns a logged-in client.
func serve(t *testing.T, host Host) *ssh.Client {
	t.Helper()
	srv, err := New(Config{Node: "pve2", Users: map[string]Credential{"root": {Password: "pw"}}, Host: host})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-served)
	})
	c, err := ssh.Dial("tcp", ln.Addr().String(), &ssh.ClientConfig{
		User: "root", Auth: []ssh.AuthMethod{ssh.Password("pw")}, HostKeyCallback: ssh.FixedHostKey(srv.HostKey()),
	})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestPveversion(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.dial(t, ssh.Password("secret"))
	out, errOut, code := run(t, c, "pveversion", "")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "pve-manager/8.4.14/b502d23c55afcba1 (running kernel: 6.8.12-15-pve)\n", out)

	// The containers share the node's kernel.
	out, _, code = run(t, c, "pct exec 101 -- uname -r", "")
	require.Equal(t, 0, code)
	require.Equal(t, "6.8.12-15-pve\n", out)

	_, errOut, code = run(t, c, "pveversion -v", "")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "lxcbot-sim: unsupported: pveversion -v")
}

func TestPctList(t *testing.T) {
	t.Parallel()
	web := guest.New(guest.Config{VMID: 101, Hostname: "web"})
	web.SetRunning(true)
	db := guest.New(guest.Config{VMID: 1002, Hostname: "db"})
	big := guest.New(guest.Config{VMID: 250, Hostname: "backup-target"})
	c := serve(t, listHost{mapHost: mapHost{101: web, 1002: db, 250: big}, locks: map[int]string{250: "backup"}})

	out, errOut, code := run(t, c, "pct list", "")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, ""+
		"VMID       Status     Lock         Name                \n"+
		"101        running                 web                 \n"+
		"250        stopped    backup       backup-target       \n"+
		"1002       stopped                 db                  \n", out)

	// A running container shows up as running, a stopped one as stopped.
	db.SetRunning(true)
	out, _, _ = run(t, c, "pct list", "")
	require.Contains(t, out, "1002       running                 db")

	_, errOut, code = run(t, c, "pct list 101", "")
	require.Equal(t, 255, code)
	require.Contains(t, errOut, "too many arguments")

	// pct verbs the simulated node does not implement say so.
	_, errOut, code = run(t, c, "pct config 101", "")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "lxcbot-sim: unsupported: pct config")
	_, errOut, code = run(t, c, "pct frobnicate 101", "")
	require.Equal(t, 255, code)
	require.Contains(t, errOut, "unknown command 'pct frobnicate'")
}

func TestPctListOnAnEmptyNodePrintsNothing(t *testing.T) {
	t.Parallel()
	c := serve(t, listHost{mapHost: mapHost{}})
	out, errOut, code := run(t, c, "pct list", "")
	require.Equal(t, 0, code, errOut)
	require.Empty(t, out)
}

func TestPctListNeedsAListingHost(t *testing.T) {
	t.Parallel()
	b := setup(t) // mapHost does not list its containers
	c := b.dial(t, ssh.Password("secret"))
	_, errOut, code := run(t, c, "pct list", "")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "lxcbot-sim: unsupported: pct list")
}
