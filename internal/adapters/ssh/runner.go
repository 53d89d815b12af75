package ssh

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	xssh "golang.org/x/crypto/ssh"

	"github.com/lxcbot/lxcbot/internal/metrics"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/secret"
)

// Defaults for Config fields left zero.
const (
	DefaultTimeout      = 15 * time.Second
	DefaultMaxSessions  = 8 // sshd's MaxSessions defaults to 10 per connection
	DefaultDialAttempts = 3
	DefaultRetryBackoff = 500 * time.Millisecond

	// TailLimit bounds Result.Stdout and Result.Stderr: only the last
	// TailLimit bytes of each stream are kept.
	TailLimit = 64 << 10
	// maxLine bounds one streamed line; longer lines arrive in pieces.
	maxLine = 1 << 20
)

// ErrClosed is returned by a Runner after Close.
var ErrClosed = errors.New("ssh runner closed")

// ErrNotRunning is wrapped when pct refuses because the container is stopped.
var ErrNotRunning = errors.New("container is not running")

// Config says how to reach one node.
type Config struct {
	Addr       string        // host:port; port 22 when missing
	Node       string        // names the node in errors (Addr when empty)
	User       string        // usually root: pct needs it
	Password   secret.String // used when set
	PrivateKey secret.String // PEM, unencrypted; tried before the password
	// HostKey is the pinned SHA256:... fingerprint. Empty means not pinned
	// yet: every connection then fails with *UnknownHostKeyError.
	HostKey string
	// Timeout bounds dialling plus the SSH handshake, and opening a session.
	Timeout time.Duration
	Logger  *slog.Logger

	MaxSessions  int           // concurrent sessions on the connection
	DialAttempts int           // dial attempts per connect, including the first
	RetryBackoff time.Duration // wait before the second dial attempt; doubles

	// Metrics receives command durations and failures by kind (exec,
	// push, status); nil = none.
	Metrics *metrics.Metrics
}

// Stream names an output stream of a remote command.
type Stream int

// Streams.
const (
	Stdout Stream = iota + 1
	Stderr
)

func (s Stream) String() string {
	switch s {
	case Stdout:
		return "stdout"
	case Stderr:
		return "stderr"
	}
	return "stream(" + strconv.Itoa(int(s)) + ")"
}

// ExecOptions are the optional parts of a command.
type ExecOptions struct {
	// Stdin is copied to the command's standard input, then closed.
	Stdin io.Reader
	// OnLine is called for each output line while the command runs, without
	// the trailing newline. Calls are serialised; a slow OnLine slows the
	// command down rather than losing lines.
	OnLine func(stream Stream, line string)
	// Env is set for the command inside the container (via env(1)). Names
	// must be shell identifiers.
	Env map[string]string
}

// Result is how a command ended. A non-zero ExitCode is not a Go error: the
// caller decides what it means (Err classifies pct's own failures).
type Result struct {
	ExitCode int
	// Stdout and Stderr hold the last TailLimit bytes of each stream.
	Stdout, Stderr string
	// StdoutTruncated and StderrTruncated say whether earlier output was
	// dropped from Stdout or Stderr.
	StdoutTruncated, StderrTruncated bool
}

// Err returns nil for exit code 0 and a *CommandError otherwise, wrapping
// provision.ErrNotFound or ErrNotRunning when pct itself refused.
func (r Result) Err() error {
	if r.ExitCode == 0 {
		return nil
	}
	return newCommandError("command", r)
}

// CommandError is a remote command that exited non-zero (or, for pct push,
// printed an error). Stderr is the end of its standard error.
type CommandError struct {
	Op       string
	ExitCode int
	Stderr   string
	kind     error
}

func (e *CommandError) Error() string {
	msg := fmt.Sprintf("%s exited with status %d", e.Op, e.ExitCode)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

// Unwrap returns provision.ErrNotFound, ErrNotRunning or nil.
func (e *CommandError) Unwrap() error { return e.kind }

var (
	// pct's messages for a missing container and a stopped one.
	reMissingCT = regexp.MustCompile(`Configuration file '[^']*' does not exist|CT \d+ does not exist|no such container`)
	reStoppedCT = regexp.MustCompile(`container '\d+' not running|can only push files to a running CT|CT \d+ not running|is not running`)
)

func newCommandError(op string, r Result) *CommandError {
	stderr := strings.TrimSpace(r.Stderr)
	if len(stderr) > 1024 {
		stderr = "..." + stderr[len(stderr)-1024:]
	}
	e := &CommandError{Op: op, ExitCode: r.ExitCode, Stderr: stderr}
	switch {
	case reMissingCT.MatchString(stderr):
		e.kind = provision.ErrNotFound
	case reStoppedCT.MatchString(stderr):
		e.kind = ErrNotRunning
	}
	return e
}

// Runner runs commands on one node over a single, shared SSH connection that
// is dialled on first use and re-dialled after it breaks. It is safe for
// concurrent use.
type Runner struct {
	cfg       Config
	log       *slog.Logger
	clientCfg *xssh.ClientConfig
	sessions  chan struct{} // counting semaphore
	lock      chan struct{} // guards client and closed; a channel so waiting honours ctx
	client    *xssh.Client
	closed    bool
}

// New checks cfg and returns a Runner. It does not connect: the first command
// (or Connect) does.
func New(cfg Config) (*Runner, error) {
	if cfg.Addr == "" {
		return nil, errors.New("ssh config: address is empty")
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		cfg.Addr = net.JoinHostPort(strings.Trim(cfg.Addr, "[]"), "22")
	}
	if cfg.User == "" {
		return nil, fmt.Errorf("ssh config for %s: user is empty", cfg.Addr)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.DialAttempts <= 0 {
		cfg.DialAttempts = DefaultDialAttempts
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = DefaultRetryBackoff
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("integration", "ssh", "addr", cfg.Addr)

	var auth []xssh.AuthMethod
	if !cfg.PrivateKey.IsZero() {
		signer, err := xssh.ParsePrivateKey([]byte(cfg.PrivateKey.Reveal()))
		if err != nil {
			// The parser's errors describe the format, never the key bytes.
			return nil, fmt.Errorf("ssh config for %s: parsing private key: %w", cfg.Addr, err)
		}
		auth = append(auth, xssh.PublicKeys(signer))
	}
	if !cfg.Password.IsZero() {
		auth = append(auth, xssh.Password(cfg.Password.Reveal()))
	}
	if len(auth) == 0 {
		return nil, fmt.Errorf("ssh config for %s: neither password nor private key set", cfg.Addr)
	}

	r := &Runner{
		cfg: cfg,
		log: log,
		clientCfg: &xssh.ClientConfig{
			User:            cfg.User,
			Auth:            auth,
			HostKeyCallback: pinnedHostKey(cmp.Or(cfg.Node, cfg.Addr), cfg.HostKey),
			Timeout:         cfg.Timeout,
		},
		sessions: make(chan struct{}, cfg.MaxSessions),
		lock:     make(chan struct{}, 1),
	}
	return r, nil
}

// Addr is the node address this runner talks to.
func (r *Runner) Addr() string { return r.cfg.Addr }

// Close closes the connection. Running commands are cut off.
func (r *Runner) Close() error {
	r.lock <- struct{}{}
	defer func() { <-r.lock }()
	r.closed = true
	if r.client != nil {
		err := r.client.Close()
		r.client = nil
		return err
	}
	return nil
}

// Connect makes sure the connection is up: host key checked, authenticated.
// Adding a node calls it to test SSH before saving.
func (r *Runner) Connect(ctx context.Context) error {
	_, err := r.getClient(ctx)
	return err
}

// Exec runs argv inside container vmid (pct exec <vmid> -- argv), streaming
// its output to opts.OnLine. A non-zero exit is reported in Result.ExitCode,
// not as an error; errors mean the command could not be run or was cut off
// (ctx cancelled, connection lost).
func (r *Runner) Exec(ctx context.Context, vmid int, argv []string, opts ExecOptions) (_ Result, err error) {
	defer r.observe("exec", time.Now(), &err)
	if err := checkVMID(vmid); err != nil {
		return Result{}, err
	}
	if len(argv) == 0 {
		return Result{}, fmt.Errorf("exec in CT %d: empty command: %w", vmid, provision.ErrInvalid)
	}
	full, err := withEnv(argv, opts.Env)
	if err != nil {
		return Result{}, fmt.Errorf("exec %s in CT %d: %w", argv[0], vmid, err)
	}
	cmd := "pct exec " + strconv.Itoa(vmid) + " -- " + QuoteArgs(full)
	// Arguments may carry secrets: log the program name only.
	r.log.DebugContext(ctx, "pct exec", "vmid", vmid, "program", argv[0])
	res, err := r.run(ctx, cmd, opts.Stdin, opts.OnLine)
	if err != nil {
		return res, fmt.Errorf("running %s in CT %d on %s: %w", argv[0], vmid, r.cfg.Addr, err)
	}
	return res, nil
}

// RunScript runs script with bash -c inside container vmid.
func (r *Runner) RunScript(ctx context.Context, vmid int, script string, opts ExecOptions) (Result, error) {
	return r.Exec(ctx, vmid, []string{"bash", "-c", script}, opts)
}

// NodeExec runs argv on the node itself, e.g. pct status.
func (r *Runner) NodeExec(ctx context.Context, argv []string) (_ Result, err error) {
	defer r.observe("exec", time.Now(), &err)
	return r.nodeExec(ctx, argv)
}

func (r *Runner) nodeExec(ctx context.Context, argv []string) (Result, error) {
	if len(argv) == 0 {
		return Result{}, fmt.Errorf("exec on node %s: empty command: %w", r.cfg.Addr, provision.ErrInvalid)
	}
	r.log.DebugContext(ctx, "node exec", "program", argv[0])
	res, err := r.run(ctx, QuoteArgs(argv), nil, nil)
	if err != nil {
		return res, fmt.Errorf("running %s on node %s: %w", argv[0], r.cfg.Addr, err)
	}
	return res, nil
}

// Status returns the container's state as pct reports it ("running",
// "stopped"). A missing container wraps provision.ErrNotFound.
func (r *Runner) Status(ctx context.Context, vmid int) (_ string, err error) {
	defer r.observe("status", time.Now(), &err)
	if err := checkVMID(vmid); err != nil {
		return "", err
	}
	res, err := r.nodeExec(ctx, []string{"pct", "status", strconv.Itoa(vmid)})
	if err != nil {
		return "", fmt.Errorf("reading status of CT %d: %w", vmid, err)
	}
	if res.ExitCode != 0 {
		return "", fmt.Errorf("reading status of CT %d on %s: %w", vmid, r.cfg.Addr, newCommandError("pct status", res))
	}
	for _, line := range strings.Split(res.Stdout, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "status:"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("reading status of CT %d on %s: unexpected pct output %q", vmid, r.cfg.Addr, truncate(res.Stdout, 200))
}

// Push writes content to dest inside container vmid with the given
// permissions and, when not empty, owner and group (names or ids, resolved in
// the container). The file is staged on the node first, because pct push
// copies from the node's filesystem, and removed afterwards. Any stderr from
// pct push counts as failure: pct prints some copy errors and still exits 0.
func (r *Runner) Push(ctx context.Context, vmid int, content []byte, dest string, perms os.FileMode, owner, group string) (err error) {
	defer r.observe("push", time.Now(), &err)
	if err := checkVMID(vmid); err != nil {
		return err
	}
	if !strings.HasPrefix(dest, "/") {
		return fmt.Errorf("pushing to CT %d: destination %q is not an absolute path: %w", vmid, dest, provision.ErrInvalid)
	}
	staged, err := stagingPath()
	if err != nil {
		return fmt.Errorf("pushing %s to CT %d: %w", dest, vmid, err)
	}
	r.log.DebugContext(ctx, "pct push", "vmid", vmid, "dest", dest, "bytes", len(content))

	res, err := r.run(ctx, "mkdir -p -m0700 "+stagingDir+" && cat > "+Quote(staged), bytes.NewReader(content), nil)
	// Remove the staged copy whatever happened, even if ctx is already done:
	// it may hold secrets.
	defer r.removeStaged(ctx, staged)
	if err != nil {
		return fmt.Errorf("pushing %s to CT %d: staging file on %s: %w", dest, vmid, r.cfg.Addr, err)
	}
	if res.ExitCode != 0 || strings.TrimSpace(res.Stderr) != "" {
		return fmt.Errorf("pushing %s to CT %d: staging file on %s: %w", dest, vmid, r.cfg.Addr, newCommandError("cat", res))
	}

	argv := []string{"pct", "push", strconv.Itoa(vmid), staged, dest, "--perms", fmt.Sprintf("%04o", unixPerms(perms))}
	if owner != "" {
		argv = append(argv, "--user", owner)
	}
	if group != "" {
		argv = append(argv, "--group", group)
	}
	res, err = r.run(ctx, QuoteArgs(argv), nil, nil)
	if err != nil {
		return fmt.Errorf("pushing %s to CT %d on %s: %w", dest, vmid, r.cfg.Addr, err)
	}
	if res.ExitCode != 0 || strings.TrimSpace(res.Stderr) != "" {
		return fmt.Errorf("pushing %s to CT %d on %s: %w", dest, vmid, r.cfg.Addr, newCommandError("pct push", res))
	}
	return nil
}

// observe records one command of kind that started at start; *errp is its
// outcome.
func (r *Runner) observe(kind string, start time.Time, errp *error) {
	m := r.cfg.Metrics
	if m == nil {
		return
	}
	m.SSHDuration.WithLabelValues(kind).Observe(time.Since(start).Seconds())
	if *errp != nil {
		m.SSHFailures.WithLabelValues(kind).Inc()
	}
}

func (r *Runner) removeStaged(ctx context.Context, staged string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.Timeout)
	defer cancel()
	res, err := r.run(ctx, "rm -f "+Quote(staged), nil, nil)
	if err == nil {
		err = res.Err()
	}
	if err != nil {
		r.log.WarnContext(ctx, "removing staged file on node failed", "path", staged, "err", err)
	}
}

// run executes cmd (already quoted) through the node's shell.
func (r *Runner) run(ctx context.Context, cmd string, stdin io.Reader, onLine func(Stream, string)) (Result, error) {
	select {
	case r.sessions <- struct{}{}:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	defer func() { <-r.sessions }()

	sess, err := r.newSession(ctx)
	if err != nil {
		return Result{}, err
	}
	defer sess.Close()

	stdout, err := sess.StdoutPipe()
	if err != nil {
		return Result{}, fmt.Errorf("opening stdout: %w", err)
	}
	stderr, err := sess.StderrPipe()
	if err != nil {
		return Result{}, fmt.Errorf("opening stderr: %w", err)
	}
	sess.Stdin = stdin
	if err := sess.Start(cmd); err != nil {
		return Result{}, unavailable(fmt.Errorf("starting command: %w", err))
	}
	// Closing the session closes the channel, which makes sshd hang up on
	// the command: that is how a cancelled ctx stops the remote side.
	stop := context.AfterFunc(ctx, func() {
		_ = sess.Signal(xssh.SIGKILL)
		_ = sess.Close()
	})
	defer stop()

	var (
		emitMu sync.Mutex
		outT   = tail{limit: TailLimit}
		errT   = tail{limit: TailLimit}
		wg     sync.WaitGroup
	)
	read := func(s Stream, rd io.Reader, t *tail) {
		defer wg.Done()
		sc := bufio.NewScanner(rd)
		sc.Buffer(make([]byte, 0, 64<<10), maxLine)
		sc.Split(scanBoundedLines)
		for sc.Scan() {
			line := strings.TrimSuffix(sc.Text(), "\r")
			t.add(line)
			if onLine != nil {
				emitMu.Lock()
				onLine(s, line)
				emitMu.Unlock()
			}
		}
		// Keep draining so the remote side never blocks on a full window.
		_, _ = io.Copy(io.Discard, rd)
	}
	wg.Add(2)
	go read(Stdout, stdout, &outT)
	go read(Stderr, stderr, &errT)
	wg.Wait()
	waitErr := sess.Wait()

	outS, errS := outT.String(), errT.String()
	res := Result{
		Stdout: outS, StdoutTruncated: outT.truncated,
		Stderr: errS, StderrTruncated: errT.truncated,
	}
	if ctx.Err() != nil {
		res.ExitCode = -1
		return res, fmt.Errorf("command cancelled: %w", ctx.Err())
	}
	var exitErr *xssh.ExitError
	switch {
	case waitErr == nil:
		return res, nil
	case errors.As(waitErr, &exitErr):
		res.ExitCode = exitErr.ExitStatus()
		return res, nil
	default:
		// No exit status: the connection broke under the command. Whether
		// it ran is unknown, so it is not retried here.
		res.ExitCode = -1
		return res, unavailable(fmt.Errorf("connection lost while the command ran: %w", waitErr))
	}
}

// newSession opens a session, re-dialling once if the shared connection
// turns out to be dead.
func (r *Runner) newSession(ctx context.Context) (*xssh.Session, error) {
	var lastErr error
	for attempt := 0; attempt < 2; attempt++ {
		c, err := r.getClient(ctx)
		if err != nil {
			return nil, err
		}
		sess, err := r.openSession(ctx, c)
		if err == nil {
			return sess, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var openErr *xssh.OpenChannelError
		if errors.As(err, &openErr) {
			// The server is alive but refused (e.g. MaxSessions): keep the
			// connection, other sessions run on it.
			return nil, unavailable(fmt.Errorf("opening session: %w", err))
		}
		r.log.DebugContext(ctx, "ssh connection broken, re-dialling", "err", err)
		r.dropClient(c)
		lastErr = err
	}
	return nil, unavailable(fmt.Errorf("opening session: %w", lastErr))
}

// openSession is NewSession bounded by ctx and the configured timeout: on a
// half-open connection NewSession would otherwise wait for TCP to give up.
func (r *Runner) openSession(ctx context.Context, c *xssh.Client) (*xssh.Session, error) {
	type result struct {
		s   *xssh.Session
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := c.NewSession()
		ch <- result{s, err}
	}()
	timer := time.NewTimer(r.cfg.Timeout)
	defer timer.Stop()
	select {
	case res := <-ch:
		return res.s, res.err
	case <-ctx.Done():
	case <-timer.C:
	}
	// Give up on this connection; closing it unblocks NewSession.
	r.dropClient(c)
	if res := <-ch; res.s != nil {
		_ = res.s.Close()
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, errors.New("timed out opening a session")
}

// getClient returns the shared connection, dialling it when needed.
func (r *Runner) getClient(ctx context.Context) (*xssh.Client, error) {
	select {
	case r.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-r.lock }()
	if r.closed {
		return nil, ErrClosed
	}
	if r.client != nil {
		return r.client, nil
	}
	c, err := r.dialWithRetry(ctx)
	if err != nil {
		return nil, err
	}
	r.client = c
	go func() {
		// Forget the connection as soon as it dies so the next command
		// dials a fresh one instead of failing first.
		_ = c.Wait()
		r.lock <- struct{}{}
		if r.client == c {
			r.client = nil
		}
		<-r.lock
	}()
	return c, nil
}

func (r *Runner) dropClient(c *xssh.Client) {
	r.lock <- struct{}{}
	if r.client == c {
		r.client = nil
	}
	<-r.lock
	_ = c.Close()
}

func (r *Runner) dialWithRetry(ctx context.Context) (*xssh.Client, error) {
	backoff := r.cfg.RetryBackoff
	var err error
	for attempt := 1; ; attempt++ {
		var c *xssh.Client
		c, err = r.dial(ctx)
		if err == nil {
			return c, nil
		}
		if permanentDialError(err) || ctx.Err() != nil || attempt >= r.cfg.DialAttempts {
			break
		}
		r.log.DebugContext(ctx, "ssh dial failed, retrying", "attempt", attempt, "err", err)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("connecting to %s: %w", r.cfg.Addr, ctx.Err())
		case <-t.C:
		}
		backoff *= 2
	}
	if !permanentDialError(err) && ctx.Err() == nil {
		err = unavailable(err)
	}
	return nil, fmt.Errorf("connecting to %s as %s: %w", r.cfg.Addr, r.cfg.User, err)
}

func (r *Runner) dial(ctx context.Context) (*xssh.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", r.cfg.Addr)
	if err != nil {
		return nil, err
	}
	// Abort the handshake when ctx ends; the deadline covers a silent peer.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	cc, chans, reqs, err := xssh.NewClientConn(conn, r.cfg.Addr, r.clientCfg)
	if !stop() {
		if err == nil {
			_ = cc.Close()
		}
		return nil, ctx.Err()
	}
	if err != nil {
		_ = conn.Close()
		if strings.Contains(err.Error(), "unable to authenticate") {
			node := r.cfg.Node
			if node == "" {
				node = r.cfg.Addr
			}
			return nil, &provision.NodeAccessError{Node: node, What: provision.AccessSSHLogin,
				Err: fmt.Errorf("the node refused the SSH login of %s: %w", r.cfg.User, err)}
		}
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return xssh.NewClient(cc, chans, reqs), nil
}

// permanentDialError reports errors a new attempt cannot fix: the host key
// (wrapped in a *provision.NodeIdentityError) and refused credentials.
func permanentDialError(err error) bool {
	var unknown *UnknownHostKeyError
	var mismatch *HostKeyMismatchError
	var access *provision.NodeAccessError
	return errors.As(err, &unknown) || errors.As(err, &mismatch) || errors.As(err, &access) ||
		strings.Contains(err.Error(), "unable to authenticate")
}

// unavailable marks err as a transport failure worth retrying later.
func unavailable(err error) error {
	return fmt.Errorf("%w (%w)", err, provision.ErrUnavailable)
}

func checkVMID(vmid int) error {
	if vmid < 100 || vmid > 999999999 {
		return fmt.Errorf("VMID %d out of range 100-999999999: %w", vmid, provision.ErrInvalid)
	}
	return nil
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// withEnv prefixes argv with env(1) and the variables, sorted for a stable
// command line. No shell runs inside the container, so env(1) does the job.
func withEnv(argv []string, env map[string]string) ([]string, error) {
	if len(env) == 0 {
		return argv, nil
	}
	names := make([]string, 0, len(env))
	for k := range env {
		if !envName.MatchString(k) {
			return nil, fmt.Errorf("invalid environment variable name %q: %w", k, provision.ErrInvalid)
		}
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]string, 0, 1+len(env)+len(argv))
	out = append(out, "env")
	for _, k := range names {
		out = append(out, k+"="+env[k])
	}
	return append(out, argv...), nil
}

// stagingDir holds files on their way into a container. It is created
// root-only because pushed files can hold credentials; /tmp would leave them
// world-readable until removed.
const stagingDir = "/var/lib/lxcbot/staging"

func stagingPath() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("naming staging file: %w", err)
	}
	return stagingDir + "/lxcbot-" + hex.EncodeToString(b[:]), nil
}

// unixPerms turns Go's mode bits into the octal number pct expects.
func unixPerms(m os.FileMode) uint32 {
	p := uint32(m.Perm())
	if m&os.ModeSetuid != 0 {
		p |= 0o4000
	}
	if m&os.ModeSetgid != 0 {
		p |= 0o2000
	}
	if m&os.ModeSticky != 0 {
		p |= 0o1000
	}
	return p
}

// scanBoundedLines is bufio.ScanLines that hands out a full buffer as a line
// instead of failing with ErrTooLong.
func scanBoundedLines(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if len(data) >= maxLine {
		return maxLine, data[:maxLine], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// tail keeps the last limit bytes of newline-joined lines.
type tail struct {
	limit     int
	buf       []byte
	truncated bool
}

func (t *tail) add(line string) {
	t.buf = append(t.buf, line...)
	t.buf = append(t.buf, '\n')
	if len(t.buf) > 2*t.limit {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.limit:]...)
		t.truncated = true
	}
}

func (t *tail) String() string {
	b := t.buf
	if len(b) > t.limit {
		b = b[len(b)-t.limit:]
		t.truncated = true
	}
	return strings.TrimSuffix(string(b), "\n")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// ConfigFor builds the SSH part of a node record into a Config; the caller
// adds Logger and tuning.
func ConfigFor(n provision.Node) Config {
	return Config{Addr: n.SSHAddr, Node: n.Name, User: n.SSHUser, Password: n.SSHPassword, PrivateKey: n.SSHPrivateKey, HostKey: n.SSHHostKey}
}
