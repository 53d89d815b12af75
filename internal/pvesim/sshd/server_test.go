package sshd

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/lxcbot/lxcbot/internal/pvesim/guest"
)

// Generous bounds for waiting on a condition; the tests never assert durations.
const (
	testTimeout = 10 * time.Second
	testTick    = 5 * time.Millisecond
)

// mapHost is the smallest Host: a fixed set of containers.
type mapHost map[int]*guest.Guest

func (h mapHost) Guest(vmid int) (*guest.Guest, bool) {
	g, ok := h[vmid]
	return g, ok
}

type testBundle struct {
	srv    *Server
	addr   string
	host   mapHost
	signer ssh.Signer
}

func setup(t *testing.T) testBundle {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	signer, err := ssh.NewSignerFromKey(priv)
	require.NoError(t, err)
	running := guest.New(guest.Config{VMID: 101, Hostname: "web", Options: guest.Options{SleepScale: 1}})
	running.SetRunning(true)
	stopped := guest.New(guest.Config{VMID: 102, Hostname: "db"})
	host := mapHost{101: running, 102: stopped}
	srv, err := New(Config{
		Node: "pve1",
		Users: map[string]Credential{
			"root": {Password: "secret", AuthorizedKeys: []ssh.PublicKey{signer.PublicKey()}},
		},
		Host: host,
	})
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
	return testBundle{srv: srv, addr: ln.Addr().String(), host: host, signer: signer}
}

func (b testBundle) dial(t *testing.T, auth ssh.AuthMethod) *ssh.Client {
	t.Helper()
	c, err := ssh.Dial("tcp", b.addr, &ssh.ClientConfig{
		User:            "root",
		Auth:            []ssh.AuthMethod{auth},
		HostKeyCallback: ssh.FixedHostKey(b.srv.HostKey()),
	})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// run executes one command and returns stdout, stderr and the exit status.
func run(t *testing.T, c *ssh.Client, cmd string, stdin string) (string, string, int) {
	t.Helper()
	sess, err := c.NewSession()
	require.NoError(t, err)
	defer sess.Close()
	var out, errb bytes.Buffer
	sess.Stdout, sess.Stderr = &out, &errb
	sess.Stdin = strings.NewReader(stdin)
	err = sess.Run(cmd)
	code := 0
	var ee *ssh.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitStatus()
	} else {
		require.NoError(t, err)
	}
	return out.String(), errb.String(), code
}

func TestHostKeyPinning(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.True(t, strings.HasPrefix(b.srv.HostKeyFingerprint(), "SHA256:"))
	_, other, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	otherSigner, err := ssh.NewSignerFromKey(other)
	require.NoError(t, err)
	_, err = ssh.Dial("tcp", b.addr, &ssh.ClientConfig{
		User:            "root",
		Auth:            []ssh.AuthMethod{ssh.Password("secret")},
		HostKeyCallback: ssh.FixedHostKey(otherSigner.PublicKey()),
	})
	require.Error(t, err, "a wrong host key pin must be refused")
	_, err = ssh.Dial("tcp", b.addr, &ssh.ClientConfig{
		User:            "root",
		Auth:            []ssh.AuthMethod{ssh.Password("wrong")},
		HostKeyCallback: ssh.FixedHostKey(b.srv.HostKey()),
	})
	require.Error(t, err, "a wrong password must be refused")
	c := b.dial(t, ssh.PublicKeys(b.signer))
	out, _, code := run(t, c, "pct status 101", "")
	require.Equal(t, 0, code)
	require.Equal(t, "status: running\n", out)
}

func TestExecStreamsBeforeExit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.dial(t, ssh.Password("secret"))
	sess, err := c.NewSession()
	require.NoError(t, err)
	defer sess.Close()
	stdout, err := sess.StdoutPipe()
	require.NoError(t, err)
	script := "echo first; sleep 0.2; echo second; exit 3"
	require.NoError(t, sess.Start("pct exec 101 -- bash -c "+guest.Quote(script)))

	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	exited := make(chan error, 1)
	go func() { exited <- sess.Wait() }()
	require.Equal(t, "first", <-lines)
	select {
	case err := <-exited:
		t.Fatalf("command had exited (%v) when its first line arrived; output was not streamed", err)
	default:
	}
	require.Equal(t, "second", <-lines)
	err = <-exited
	var ee *ssh.ExitError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, 3, ee.ExitStatus())
}

func TestPctErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.dial(t, ssh.Password("secret"))

	out, _, code := run(t, c, "pct status 102", "")
	require.Equal(t, 0, code)
	require.Equal(t, "status: stopped\n", out)

	_, errOut, code := run(t, c, "pct exec 102 -- true", "")
	require.Equal(t, 255, code)
	require.Contains(t, errOut, "CT 102 not running")

	_, errOut, code = run(t, c, "pct status 999", "")
	require.Equal(t, 255, code)
	require.Equal(t, "Configuration file 'nodes/pve1/lxc/999.conf' does not exist\n", errOut)

	_, errOut, code = run(t, c, "pct exec 101 --keep-env 0 --", "")
	require.Equal(t, 255, code)
	require.Contains(t, errOut, "missing command")

	_, errOut, code = run(t, c, "reboot", "")
	require.Equal(t, 127, code)
	require.Contains(t, errOut, "command not found")

	_, errOut, code = run(t, c, "pct exec 101 -- echo $(reboot)", "")
	require.Equal(t, 2, code, "unquoted expansions on the node are refused, not ignored")
	require.Contains(t, errOut, "lxcbot-sim: unsupported")

	recs := b.srv.Records()
	require.Equal(t, "pct status 102", recs[0].Command)
	require.Equal(t, 255, recs[1].ExitStatus)
}

func TestPushRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.dial(t, ssh.Password("secret"))
	g := b.host[101]
	_, errOut, code := run(t, c, "pct exec 101 -- useradd -m app", "")
	require.Equal(t, 0, code, errOut)

	_, errOut, code = run(t, c, "cat > /tmp/lxcbot-abc", "server {\n  listen 80;\n}\n")
	require.Equal(t, 0, code, errOut)
	_, errOut, code = run(t, c, "pct push 101 /tmp/lxcbot-abc /home/app/site.conf --perms 0640 --user app --group app && rm -f /tmp/lxcbot-abc", "")
	require.Equal(t, 0, code, errOut)
	require.Empty(t, errOut)

	data, err := g.ReadFile("/home/app/site.conf")
	require.NoError(t, err)
	require.Equal(t, "server {\n  listen 80;\n}\n", string(data))
	out, _, code := run(t, c, "pct exec 101 -- stat -c '%a %U:%G %s' /home/app/site.conf", "")
	require.Equal(t, 0, code)
	require.Equal(t, "640 app:app 24\n", out)
	_, ok := b.srv.StagedFile("/tmp/lxcbot-abc")
	require.False(t, ok, "the staged file was removed")

	// A push into a missing directory prints the failure but exits 0, as pct does.
	_, _, code = run(t, c, "cat > /tmp/lxcbot-x", "data")
	require.Equal(t, 0, code)
	_, errOut, code = run(t, c, "pct push 101 /tmp/lxcbot-x /no/such/dir/file", "")
	require.Equal(t, 0, code)
	require.Contains(t, errOut, "No such file or directory")
	require.False(t, g.Exists("/no/such/dir/file"))

	_, errOut, code = run(t, c, "pct push 102 /tmp/lxcbot-x /root/file", "")
	require.Equal(t, 255, code)
	require.Contains(t, errOut, "can only push files to a running CT")

	// stdin reaches the container through pct exec
	_, errOut, code = run(t, c, "pct exec 101 -- sh -c 'cat > /etc/motd'", "hello\n")
	require.Equal(t, 0, code, errOut)
	data, err = g.ReadFile("/etc/motd")
	require.NoError(t, err)
	require.Equal(t, "hello\n", string(data))
}

func TestQuotingArrivesLiterally(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.dial(t, ssh.Password("secret"))
	evil := []string{"x'; rm -rf / #", "$(reboot)", "`id`", `a"b\c`, "new\nline"}
	inner := "printf '%s\\n' " + strings.Join(quoteAll(evil), " ")
	cmd := "pct exec 101 --keep-env 0 -- bash -c " + guest.Quote(inner)
	out, errOut, code := run(t, c, cmd, "")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, strings.Join(evil, "\n")+"\n", out)

	// Direct argv: each quoted argument arrives as one literal argument.
	cmd = "pct exec 101 -- echo " + strings.Join(quoteAll(evil), " ")
	_, errOut, code = run(t, c, cmd, "")
	require.Equal(t, 0, code, errOut)
	recs := b.host[101].Commands()
	last := recs[len(recs)-1]
	require.True(t, last.Top)
	require.Equal(t, append([]string{"echo"}, evil...), last.Argv)
	require.True(t, b.host[101].Exists("/usr/bin/cat"))
}

func quoteAll(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = guest.Quote(x)
	}
	return out
}

func TestTemplateScriptOverSSH(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.dial(t, ssh.Password("secret"))
	lib := `log_info() { echo "[INFO] $*"; }
save_credential() {
  mkdir -p /etc/infrahaus/credentials
  echo "$2=$3" >> "/etc/infrahaus/credentials/$1"
  chmod 600 "/etc/infrahaus/credentials/$1"
}
`
	_, errOut, code := run(t, c, "cat > /var/lib/lxcbot/helpers.sh && pct push 101 /var/lib/lxcbot/helpers.sh /root/helpers.sh && rm -f /var/lib/lxcbot/helpers.sh", lib)
	require.Equal(t, 0, code, errOut)
	script := `set -euo pipefail
source /root/helpers.sh
DEBIAN_FRONTEND=noninteractive apt-get install -y nginx >/dev/null
log_info "installed"
save_credential nginx ADMIN_PASSWORD 's3cr3t'`
	out, errOut, code := run(t, c, "pct exec 101 --keep-env 0 -- bash -c "+guest.Quote(script), "")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "[INFO] installed\n", out)
	cred, err := b.host[101].ReadFile("/etc/infrahaus/credentials/nginx")
	require.NoError(t, err)
	require.Equal(t, "ADMIN_PASSWORD=s3cr3t\n", string(cred))

	out, _, code = run(t, c, "pct exec 101 -- systemctl list-units --type=service --state=running --no-legend --plain", "")
	require.Equal(t, 0, code)
	require.Regexp(t, `(?m)^nginx\.service\s+loaded active running`, out)
	out, _, code = run(t, c, "pct exec 101 -- ss -tlnpH", "")
	require.Equal(t, 0, code)
	require.Regexp(t, `(?m)0\.0\.0\.0:80\s.*"nginx"`, out)
	out, _, code = run(t, c, "pct exec 101 -- journalctl -u nginx -n 5 --no-pager", "")
	require.Equal(t, 0, code)
	require.Len(t, strings.Split(strings.TrimSpace(out), "\n"), 5)

	b.host[101].FailCommand("apt-get install", 100, "E: broken")
	_, errOut, code = run(t, c, "pct exec 101 -- bash -c "+guest.Quote("apt-get install -y redis-server"), "")
	require.Equal(t, 100, code)
	require.Contains(t, errOut, "E: broken")
}

func TestClosingSessionCancelsCommand(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.dial(t, ssh.Password("secret"))
	sess, err := c.NewSession()
	require.NoError(t, err)
	stdout, err := sess.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, sess.Start("pct exec 101 -- bash -c "+guest.Quote("echo started; sleep 3600")))
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "started\n", line)
	require.NoError(t, sess.Close())
	// The server records the exec once the cancelled command has returned.
	require.Eventually(t, func() bool { return len(b.srv.Records()) == 1 }, testTimeout, testTick)
}

func TestConcurrentSessions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.dial(t, ssh.Password("secret"))
	type result struct {
		out string
		err error
	}
	results := make(chan result, 8)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sess, err := c.NewSession()
			if err != nil {
				results <- result{err: err}
				return
			}
			defer sess.Close()
			out, err := sess.Output("pct exec 101 -- bash -c 'echo $((6*7))'")
			results <- result{out: string(out), err: err}
		}()
	}
	wg.Wait()
	close(results)
	for r := range results {
		require.NoError(t, r.err)
		require.Equal(t, "42\n", r.out)
	}
	require.Len(t, b.srv.Records(), 8)
}
