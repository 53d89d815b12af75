package ssh

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/secret"
)

type testBundle struct {
	srv    *testServer
	runner *Runner
}

func setup(t *testing.T, h handlerFunc, mod ...func(*Config)) *testBundle {
	t.Helper()
	srv := newTestServer(t, h)
	cfg := Config{
		Addr:         srv.addr,
		User:         "root",
		Password:     secret.String(srv.password),
		HostKey:      srv.fingerprint(),
		DialAttempts: 2,
		RetryBackoff: time.Millisecond,
	}
	for _, m := range mod {
		m(&cfg)
	}
	r, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return &testBundle{srv: srv, runner: r}
}

// shellArgs runs cmd through a real sh with pct replaced by a function that
// prints its arguments NUL-separated: what pct would receive as argv.
func shellArgs(t *testing.T, cmd string) []string {
	t.Helper()
	out, err := exec.Command("sh", "-c", `pct() { printf '%s\0' "$@"; }; `+cmd).Output()
	require.NoError(t, err)
	args := strings.Split(string(out), "\x00")
	return args[:len(args)-1]
}

func echoHandler(r execReq) uint32 {
	fmt.Fprintf(r.Stdout, "ran: %s\n", r.Cmd)
	return 0
}

func TestExecQuotesArgvForPct(t *testing.T) {
	t.Parallel()
	b := setup(t, echoHandler)
	argv := []string{"sh", "-c", `echo "$1" > /tmp/x; it's $(id)`, "--", "a b", "", "*"}
	res, err := b.runner.Exec(t.Context(), 104, argv, ExecOptions{})
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitCode)

	cmds := b.srv.received()
	require.Len(t, cmds, 1)
	require.True(t, strings.HasPrefix(cmds[0], "pct exec 104 -- "), cmds[0])
	require.Equal(t, append([]string{"exec", "104", "--"}, argv...), shellArgs(t, cmds[0]))
}

func TestRunScriptAndEnv(t *testing.T) {
	t.Parallel()
	b := setup(t, echoHandler)
	script := "set -e\nprintf '%s\\n' \"$GREETING\" | tee /tmp/out\n"
	_, err := b.runner.RunScript(t.Context(), 105, script, ExecOptions{Env: map[string]string{"GREETING": "hello 'world'", "A": "1"}})
	require.NoError(t, err)
	require.Equal(t, []string{"exec", "105", "--", "env", "A=1", "GREETING=hello 'world'", "bash", "-c", script},
		shellArgs(t, b.srv.received()[0]))

	_, err = b.runner.Exec(t.Context(), 105, []string{"true"}, ExecOptions{Env: map[string]string{"BAD NAME": "x"}})
	require.ErrorIs(t, err, provision.ErrInvalid)
	_, err = b.runner.Exec(t.Context(), 99, []string{"true"}, ExecOptions{})
	require.ErrorIs(t, err, provision.ErrInvalid)
}

func TestExecStreamsLinesWhileRunning(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	b := setup(t, func(r execReq) uint32 {
		fmt.Fprintln(r.Stdout, "first")
		fmt.Fprintln(r.Stderr, "warning: on stderr")
		<-release // only released once the test has seen "first"
		fmt.Fprint(r.Stdout, "second\r\nno newline at end")
		return 0
	})

	var (
		mu    sync.Mutex
		lines []string
	)
	res, err := b.runner.Exec(t.Context(), 104, []string{"long-job"}, ExecOptions{
		OnLine: func(s Stream, line string) {
			mu.Lock()
			lines = append(lines, s.String()+": "+line)
			mu.Unlock()
			if s == Stdout && line == "first" {
				close(release)
			}
		},
	})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"stdout: first", "stderr: warning: on stderr", "stdout: second", "stdout: no newline at end"}, lines)
	require.Equal(t, "first\nsecond\nno newline at end", res.Stdout)
	require.Equal(t, "warning: on stderr", res.Stderr)
}

func TestExecExitCodeIsNotAnError(t *testing.T) {
	t.Parallel()
	b := setup(t, func(r execReq) uint32 {
		fmt.Fprintln(r.Stderr, "grep: nothing")
		return 3
	})
	res, err := b.runner.Exec(t.Context(), 104, []string{"grep", "x"}, ExecOptions{})
	require.NoError(t, err)
	require.Equal(t, 3, res.ExitCode)
	require.Equal(t, "grep: nothing", res.Stderr)
	var cmdErr *CommandError
	require.ErrorAs(t, res.Err(), &cmdErr)
	require.Equal(t, 3, cmdErr.ExitCode)
	require.NotErrorIs(t, res.Err(), provision.ErrNotFound)
}

func TestExecStdinAndLongOutput(t *testing.T) {
	t.Parallel()
	b := setup(t, func(r execReq) uint32 {
		data, _ := io.ReadAll(r.Stdin)
		fmt.Fprintf(r.Stdout, "got %d bytes\n", len(data))
		// More than TailLimit of output, and one line longer than maxLine.
		big := strings.Repeat("x", maxLine+10)
		fmt.Fprintln(r.Stdout, big)
		for i := 0; i < 2000; i++ {
			fmt.Fprintf(r.Stdout, "line %04d %s\n", i, strings.Repeat("y", 60))
		}
		return 0
	})
	var n atomic.Int32
	res, err := b.runner.Exec(t.Context(), 104, []string{"cat"}, ExecOptions{
		Stdin:  strings.NewReader("hello"),
		OnLine: func(Stream, string) { n.Add(1) },
	})
	require.NoError(t, err)
	require.Equal(t, int32(1+2+2000), n.Load(), "the long line arrives in two pieces")
	require.True(t, res.StdoutTruncated)
	require.LessOrEqual(t, len(res.Stdout), TailLimit)
	require.True(t, strings.HasSuffix(res.Stdout, "line 1999 "+strings.Repeat("y", 60)))
}

func TestExecCancelClosesRemoteCommand(t *testing.T) {
	t.Parallel()
	remoteCancelled := make(chan struct{})
	b := setup(t, func(r execReq) uint32 {
		if r.Cmd == "true" {
			return 0
		}
		fmt.Fprintln(r.Stdout, "started")
		<-r.Ctx.Done()
		close(remoteCancelled)
		return 0
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	_, err := b.runner.Exec(ctx, 104, []string{"sleep", "infinity"}, ExecOptions{
		OnLine: func(_ Stream, line string) {
			if line == "started" {
				cancel()
			}
		},
	})
	require.ErrorIs(t, err, context.Canceled)
	<-remoteCancelled

	// The connection stays usable for the next command.
	_, err = b.runner.NodeExec(t.Context(), []string{"true"})
	require.NoError(t, err)
}

// pctNode emulates the parts of a node the runner uses: cat > staging file,
// pct push, pct status, rm -f.
type pctNode struct {
	mu         sync.Mutex
	staged     map[string][]byte
	pushed     map[string][]byte
	pushArgs   []string
	pushStderr string // printed by pct push, which still exits 0
	removed    []string
}

func (n *pctNode) handle(t *testing.T) handlerFunc {
	return func(r execReq) uint32 {
		n.mu.Lock()
		defer n.mu.Unlock()
		switch {
		case strings.HasPrefix(r.Cmd, "mkdir -p -m0700 /var/lib/lxcbot/staging && cat > "):
			data, _ := io.ReadAll(r.Stdin)
			n.staged[strings.TrimPrefix(r.Cmd, "mkdir -p -m0700 /var/lib/lxcbot/staging && cat > ")] = data
			return 0
		case strings.HasPrefix(r.Cmd, "rm -f "):
			p := strings.TrimPrefix(r.Cmd, "rm -f ")
			delete(n.staged, p)
			n.removed = append(n.removed, p)
			return 0
		case strings.HasPrefix(r.Cmd, "pct push "):
			args := shellArgs(t, r.Cmd)
			n.pushArgs = args
			if args[1] == "999" {
				fmt.Fprintln(r.Stderr, "Configuration file 'nodes/pve/lxc/999.conf' does not exist")
				return 255
			}
			if n.pushStderr != "" {
				fmt.Fprintln(r.Stderr, n.pushStderr)
				return 0
			}
			n.pushed[args[3]] = n.staged[args[2]]
			return 0
		case strings.HasPrefix(r.Cmd, "pct status "):
			switch strings.TrimPrefix(r.Cmd, "pct status ") {
			case "104":
				fmt.Fprintln(r.Stdout, "status: running")
				return 0
			default:
				fmt.Fprintf(r.Stderr, "Configuration file 'nodes/pve/lxc/%s.conf' does not exist\n", strings.TrimPrefix(r.Cmd, "pct status "))
				return 255
			}
		}
		fmt.Fprintf(r.Stderr, "unexpected command %q\n", r.Cmd)
		return 127
	}
}

func newPctNode() *pctNode {
	return &pctNode{staged: map[string][]byte{}, pushed: map[string][]byte{}}
}

func TestPush(t *testing.T) {
	t.Parallel()
	node := newPctNode()
	b := setup(t, node.handle(t))
	content := []byte("KEY='value'\nsecond line\n")
	require.NoError(t, b.runner.Push(t.Context(), 104, content, "/etc/my app/app.env", 0o640, "app", "app"))

	node.mu.Lock()
	defer node.mu.Unlock()
	require.Equal(t, content, node.pushed["/etc/my app/app.env"])
	args := node.pushArgs
	require.Equal(t, []string{"push", "104", args[2], "/etc/my app/app.env", "--perms", "0640", "--user", "app", "--group", "app"}, args)
	require.True(t, strings.HasPrefix(args[2], "/var/lib/lxcbot/staging/lxcbot-"), args[2])
	require.Equal(t, []string{args[2]}, node.removed, "the staged copy is removed")
	require.Empty(t, node.staged)
}

func TestPushStderrWithExitZeroFails(t *testing.T) {
	t.Parallel()
	node := newPctNode()
	node.pushStderr = "failed to open /nope/file for writing: No such file or directory"
	b := setup(t, node.handle(t))
	err := b.runner.Push(t.Context(), 104, []byte("x"), "/nope/file", 0o644, "", "")
	require.ErrorContains(t, err, "No such file or directory")
	require.ErrorContains(t, err, "CT 104")

	node.mu.Lock()
	defer node.mu.Unlock()
	require.Len(t, node.removed, 1, "the staged copy is removed after a failure too")
	require.NotContains(t, node.pushArgs, "--user")
}

func TestPushAndStatusOfMissingContainer(t *testing.T) {
	t.Parallel()
	node := newPctNode()
	b := setup(t, node.handle(t))

	err := b.runner.Push(t.Context(), 999, []byte("x"), "/etc/x", 0o600, "", "")
	require.ErrorIs(t, err, provision.ErrNotFound)

	status, err := b.runner.Status(t.Context(), 104)
	require.NoError(t, err)
	require.Equal(t, "running", status)

	_, err = b.runner.Status(t.Context(), 998)
	require.ErrorIs(t, err, provision.ErrNotFound)
	require.ErrorContains(t, err, "998.conf' does not exist")
	var cmdErr *CommandError
	require.ErrorAs(t, err, &cmdErr)
	require.Equal(t, 255, cmdErr.ExitCode)
}

func TestExecResultErrClassifiesPctFailures(t *testing.T) {
	t.Parallel()
	b := setup(t, func(r execReq) uint32 {
		fmt.Fprintln(r.Stderr, "container '104' not running!")
		return 255
	})
	res, err := b.runner.Exec(t.Context(), 104, []string{"true"}, ExecOptions{})
	require.NoError(t, err)
	require.Equal(t, 255, res.ExitCode)
	require.ErrorIs(t, res.Err(), ErrNotRunning)
}

func TestUnknownHostKeyIsReportedNotTrusted(t *testing.T) {
	t.Parallel()
	b := setup(t, echoHandler, func(c *Config) { c.HostKey = "" })

	err := b.runner.Connect(t.Context())
	var unknown *UnknownHostKeyError
	require.ErrorAs(t, err, &unknown)
	require.Equal(t, b.srv.fingerprint(), unknown.Fingerprint)
	require.NotNil(t, unknown.Key)
	require.Equal(t, int32(1), b.srv.accepted.Load(), "not retried")
	require.Empty(t, b.srv.received())

	probed, err := ProbeHostKey(t.Context(), b.srv.addr)
	require.NoError(t, err)
	require.Equal(t, b.srv.fingerprint(), probed)

	// After an admin confirms, the pin works (padding and prefix case do not matter).
	r, err := New(Config{Addr: b.srv.addr, User: "root", Password: secret.String(b.srv.password),
		HostKey: "sha256:" + strings.TrimPrefix(probed, "SHA256:") + "="})
	require.NoError(t, err)
	defer r.Close()
	require.NoError(t, r.Connect(t.Context()))
}

func TestHostKeyMismatchIsRefused(t *testing.T) {
	t.Parallel()
	other := newTestServer(t, echoHandler)
	b := setup(t, echoHandler, func(c *Config) { c.HostKey = other.fingerprint(); c.Node = "pve2"; c.DialAttempts = 3 })

	_, err := b.runner.NodeExec(t.Context(), []string{"true"})
	var mismatch *HostKeyMismatchError
	require.ErrorAs(t, err, &mismatch)
	require.Equal(t, other.fingerprint(), mismatch.Want)
	require.Equal(t, b.srv.fingerprint(), mismatch.Got)
	require.NotErrorIs(t, err, provision.ErrUnavailable)
	require.Empty(t, b.srv.received())
	require.Equal(t, int32(1), b.srv.accepted.Load(), "a mismatch is not retried")

	// The domain sees which node refused to prove itself.
	var identity *provision.NodeIdentityError
	require.ErrorAs(t, err, &identity)
	require.Equal(t, "pve2", identity.Node)
	require.Equal(t, provision.IdentitySSH, identity.What)
	require.False(t, identity.Unpinned)
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, echoHandler)
	keyPEM := srv.newUserKey(t)

	t.Run("public key", func(t *testing.T) {
		r, err := New(Config{Addr: srv.addr, User: "root", PrivateKey: secret.String(keyPEM), HostKey: srv.fingerprint()})
		require.NoError(t, err)
		defer r.Close()
		require.NoError(t, r.Connect(t.Context()))
	})
	t.Run("password", func(t *testing.T) {
		r, err := New(Config{Addr: srv.addr, User: "root", Password: secret.String(srv.password), HostKey: srv.fingerprint()})
		require.NoError(t, err)
		defer r.Close()
		require.NoError(t, r.Connect(t.Context()))
	})
	t.Run("wrong password is not retried and not revealed", func(t *testing.T) {
		before := srv.accepted.Load()
		r, err := New(Config{Addr: srv.addr, User: "root", Password: "hunter2-wrong", HostKey: srv.fingerprint(), DialAttempts: 3})
		require.NoError(t, err)
		defer r.Close()
		err = r.Connect(t.Context())
		require.ErrorContains(t, err, "unable to authenticate")
		require.NotContains(t, err.Error(), "hunter2")
		require.Equal(t, before+1, srv.accepted.Load())
		var access *provision.NodeAccessError
		require.ErrorAs(t, err, &access, "a refused login is the node's settings, not a transient failure")
		require.Equal(t, provision.AccessSSHLogin, access.What)
	})
	t.Run("bad key is rejected up front without echoing it", func(t *testing.T) {
		_, err := New(Config{Addr: srv.addr, User: "root", PrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END OPENSSH PRIVATE KEY-----\n"})
		require.Error(t, err)
		require.NotContains(t, err.Error(), "c2VjcmV0")
	})
	t.Run("no credentials", func(t *testing.T) {
		_, err := New(Config{Addr: srv.addr, User: "root"})
		require.Error(t, err)
	})
}

func TestReconnectAfterServerDropsConnection(t *testing.T) {
	t.Parallel()
	b := setup(t, echoHandler)
	_, err := b.runner.NodeExec(t.Context(), []string{"true"})
	require.NoError(t, err)
	require.Equal(t, int32(1), b.srv.accepted.Load())

	b.srv.dropAll()

	res, err := b.runner.NodeExec(t.Context(), []string{"pct", "status", "104"})
	require.NoError(t, err)
	require.Equal(t, "ran: pct status 104", res.Stdout)
	require.Equal(t, int32(2), b.srv.accepted.Load())
}

func TestUnreachableNodeIsUnavailable(t *testing.T) {
	t.Parallel()
	r, err := New(Config{Addr: "127.0.0.1:1", User: "root", Password: "pw", HostKey: "SHA256:x", DialAttempts: 2, RetryBackoff: time.Millisecond})
	require.NoError(t, err)
	_, err = r.Status(t.Context(), 104)
	require.ErrorIs(t, err, provision.ErrUnavailable)
	require.ErrorContains(t, err, "CT 104")

	require.NoError(t, r.Close())
	_, err = r.NodeExec(t.Context(), []string{"true"})
	require.ErrorIs(t, err, ErrClosed)
}

func TestConcurrentSessionsAreBounded(t *testing.T) {
	t.Parallel()
	var active, peak atomic.Int32
	started := make(chan struct{})
	release := make(chan struct{})
	b := setup(t, func(r execReq) uint32 {
		n := active.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		started <- struct{}{}
		<-release
		active.Add(-1)
		return 0
	}, func(c *Config) { c.MaxSessions = 2 })

	const jobs = 6
	errs := make(chan error, jobs)
	for i := 0; i < jobs; i++ {
		go func() {
			_, err := b.runner.Exec(context.Background(), 104, []string{"work"}, ExecOptions{})
			errs <- err
		}()
	}
	for i := 0; i < jobs; i++ {
		<-started
		release <- struct{}{}
	}
	for i := 0; i < jobs; i++ {
		require.NoError(t, <-errs)
	}
	require.LessOrEqual(t, peak.Load(), int32(2))
}

func TestStreamString(t *testing.T) {
	t.Parallel()
	require.Equal(t, "stdout", Stdout.String())
	require.Equal(t, "stderr", Stderr.String())
}
