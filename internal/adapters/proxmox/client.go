package proxmox

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	goproxmox "github.com/luthermonson/go-proxmox"

	"github.com/lxcbot/lxcbot/internal/metrics"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/secret"
)

// Defaults for Config fields left zero.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultGetAttempts      = 3
	DefaultRetryBackoff     = 500 * time.Millisecond
	DefaultTaskPollInterval = time.Second
)

// Config says how to reach a Proxmox VE API.
type Config struct {
	APIURL      string // https://host:8006/api2/json
	Node        string // names the node in errors (the API's host when empty)
	TokenID     string // user@realm!tokenid
	TokenSecret secret.String
	// TLSFingerprint is the pinned SHA-256 of the server's leaf certificate
	// ("AB:CD:..."; case and colons do not matter). Empty means not pinned
	// yet: every request fails with *UnknownFingerprintError, unless
	// InsecureSkipVerify is set. A set pin is checked even then.
	TLSFingerprint     string
	InsecureSkipVerify bool
	// Timeout bounds one HTTP request (connect, TLS, answer).
	Timeout time.Duration
	Logger  *slog.Logger

	// GetAttempts bounds how often a GET is tried when the node is
	// unreachable or answers 5xx. Other methods are never retried here.
	GetAttempts  int
	RetryBackoff time.Duration // first wait between GET attempts; doubles
	// TaskPollInterval is the longest wait between two status polls of
	// WaitTask, which starts at 100 ms and doubles up to it.
	TaskPollInterval time.Duration
	// Metrics receives request latency and errors by endpoint; nil = none.
	Metrics *metrics.Metrics
}

// Client talks to one Proxmox VE API endpoint (a node or a cluster). It is
// safe for concurrent use.
type Client struct {
	api  *goproxmox.Client
	http *http.Client
	cfg  Config
	log  *slog.Logger
}

// New checks cfg and builds a client. It does not connect.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.APIURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("proxmox config: API URL %q must look like https://host:8006/api2/json", cfg.APIURL)
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if !strings.HasSuffix(cfg.APIURL, "/api2/json") {
		return nil, fmt.Errorf("proxmox config: API URL %q must end in /api2/json", cfg.APIURL)
	}
	if !strings.Contains(cfg.TokenID, "!") || !strings.Contains(cfg.TokenID, "@") {
		return nil, fmt.Errorf("proxmox config: token id %q must look like user@realm!tokenname", cfg.TokenID)
	}
	if cfg.TokenSecret.IsZero() {
		return nil, fmt.Errorf("proxmox config: token secret for %s is empty", cfg.TokenID)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.GetAttempts <= 0 {
		cfg.GetAttempts = DefaultGetAttempts
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = DefaultRetryBackoff
	}
	if cfg.TaskPollInterval <= 0 {
		cfg.TaskPollInterval = DefaultTaskPollInterval
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("integration", "proxmox", "api", u.Host)

	httpClient := &http.Client{
		Timeout: cfg.Timeout,
		Transport: &statusTransport{
			base:    &metricsTransport{base: newTransport(cfg), m: cfg.Metrics},
			tokenID: cfg.TokenID,
			node:    nodeName(cfg),
		},
		// The API never redirects; following one could leak the token.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	api := goproxmox.NewClient(cfg.APIURL,
		goproxmox.WithAPIToken(cfg.TokenID, cfg.TokenSecret.Reveal()),
		goproxmox.WithHTTPClient(httpClient),
		goproxmox.WithUserAgent("lxcbot"),
		// go-proxmox logs request bodies (passwords) at debug level: give
		// it a logger that never does.
		goproxmox.WithLogger(quietLogger{log}),
	)
	return &Client{api: api, http: httpClient, cfg: cfg, log: log}, nil
}

// Close drops the client's idle connections. The client stays usable.
func (c *Client) Close() { c.http.CloseIdleConnections() }

func newTransport(cfg Config) *http.Transport {
	tlsCfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		// Pinning replaces chain verification: PVE nodes use self-signed
		// certificates. VerifyPeerCertificate still runs and checks the pin.
		InsecureSkipVerify: true, //nolint:gosec // verified by fingerprint below
	}
	if !(cfg.InsecureSkipVerify && cfg.TLSFingerprint == "") {
		tlsCfg.VerifyPeerCertificate = verifyPin(nodeName(cfg), cfg.TLSFingerprint)
	}
	d := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext:           d.DialContext,
		TLSClientConfig:       tlsCfg,
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		// pveproxy speaks HTTP/1.1 only, and its error text lives in the
		// reason phrase, which HTTP/2 does not have.
		ForceAttemptHTTP2: false,
		TLSNextProto:      map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
}

// CertFingerprint formats the SHA-256 of a DER certificate the way PVE shows
// it: "AB:CD:...".
func CertFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	var b strings.Builder
	for i, c := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", c)
	}
	return b.String()
}

func normalizeFingerprint(fp string) string {
	fp = strings.ToUpper(strings.TrimSpace(fp))
	fp = strings.TrimPrefix(fp, "SHA256:")
	return strings.NewReplacer(":", "", " ", "").Replace(fp)
}

// verifyPin checks the leaf certificate against pin. A refusal is a
// *provision.NodeIdentityError naming node, so the domain can tell a user
// which node to have checked.
func verifyPin(node, pin string) func([][]byte, [][]*x509.Certificate) error {
	want := normalizeFingerprint(pin)
	return func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return errors.New("proxmox TLS: server sent no certificate")
		}
		got := CertFingerprint(raw[0])
		if want == "" {
			return &provision.NodeIdentityError{Node: node, What: provision.IdentityTLS, Unpinned: true,
				Err: &UnknownFingerprintError{Got: got}}
		}
		if normalizeFingerprint(got) != want {
			return &provision.NodeIdentityError{Node: node, What: provision.IdentityTLS,
				Err: &FingerprintMismatchError{Want: pin, Got: got}}
		}
		return nil
	}
}

// ProbeFingerprint connects to the API's TLS port and returns the SHA-256
// fingerprint of its certificate ("AB:CD:..."), trusting nothing. It is the
// first step of the "confirm this certificate" flow.
func ProbeFingerprint(ctx context.Context, apiURL string) (string, error) {
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("probing TLS certificate: bad API URL %q: %w", apiURL, provision.ErrInvalid)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "8006")
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	d := tls.Dialer{Config: &tls.Config{
		InsecureSkipVerify: true, //nolint:gosec // only reading the certificate
		MinVersion:         tls.VersionTLS12,
		ServerName:         u.Hostname(),
	}}
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return "", fmt.Errorf("probing TLS certificate of %s: %w (%w)", host, err, provision.ErrUnavailable)
	}
	defer conn.Close()
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return "", fmt.Errorf("probing TLS certificate of %s: no certificate presented", host)
	}
	return CertFingerprint(certs[0].Raw), nil
}

// statusTransport turns every non-2xx answer into a typed error before
// go-proxmox sees it: go-proxmox keeps only the status line of 500s, turns
// 401/403 into a bare "not authorized" and fails to decode the empty body
// of a 595.
type statusTransport struct {
	base    http.RoundTripper
	tokenID string
	node    string
}

// nodeName names the node in errors: its name, else the API's host.
func nodeName(cfg Config) string {
	if cfg.Node != "" {
		return cfg.Node
	}
	if u, err := url.Parse(cfg.APIURL); err == nil {
		return u.Host
	}
	return cfg.APIURL
}

func (t *statusTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode < 400 {
		return res, nil
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	_ = res.Body.Close()
	reason := strings.TrimSpace(strings.TrimPrefix(res.Status, fmt.Sprint(res.StatusCode)))
	if res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden {
		return nil, &provision.NodeAccessError{Node: t.node, What: provision.AccessAPIToken,
			Err: &AuthError{TokenID: t.tokenID, StatusCode: res.StatusCode, Reason: reason}}
	}
	path := req.URL.Path
	if i := strings.Index(path, "/api2/json"); i >= 0 {
		path = path[i+len("/api2/json"):]
	}
	return nil, newAPIError(req.Method, path, res.StatusCode, reason, body)
}

// mapErr turns what go-proxmox and net/http return into the package's
// errors: typed answers unwrapped from *url.Error, transport failures marked
// provision.ErrUnavailable, ctx errors kept.
func mapErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var (
		apiErr   *APIError
		access   *provision.NodeAccessError
		authErr  *AuthError
		identity *provision.NodeIdentityError
	)
	switch {
	case errors.As(err, &apiErr):
		return apiErr
	case errors.As(err, &access):
		// Wraps *AuthError: the node refused the token.
		return access
	case errors.As(err, &authErr):
		return authErr
	case errors.As(err, &identity):
		// Wraps *FingerprintMismatchError or *UnknownFingerprintError.
		return identity
	case ctx.Err() != nil:
		return ctx.Err()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// Refused, reset, DNS, timeouts, TLS failures: the node cannot be
		// reached now.
		return fmt.Errorf("proxmox API unreachable: %w (%w)", ue.Err, provision.ErrUnavailable)
	}
	return err
}

// retryable reports whether a GET may be tried again.
func retryable(err error) bool {
	if errors.Is(err, provision.ErrUnavailable) {
		return true
	}
	var apiErr *APIError
	// A 500 without a known meaning may be transient (cluster filesystem
	// busy); 501 and the 500s that say something definite are not.
	return errors.As(err, &apiErr) && apiErr.StatusCode >= 500 && apiErr.StatusCode != 501 && apiErr.kind == nil
}

// get GETs path (with query q) into out, retrying bounded on transient
// failures.
func (c *Client) get(ctx context.Context, path string, q url.Values, out any) error {
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	backoff := c.cfg.RetryBackoff
	for attempt := 1; ; attempt++ {
		err := mapErr(ctx, c.api.Get(ctx, path, out))
		if err == nil || attempt >= c.cfg.GetAttempts || !retryable(err) {
			return err
		}
		c.log.DebugContext(ctx, "retrying GET", "path", path, "attempt", attempt, "err", err)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			// Keep the failure that led to the wait: it says why.
			return fmt.Errorf("%w (gave up: %w)", err, ctx.Err())
		case <-t.C:
		}
		backoff *= 2
	}
}

// post POSTs body (JSON) once; POSTs change state and are never retried.
func (c *Client) post(ctx context.Context, path string, body, out any) error {
	return mapErr(ctx, c.api.Post(ctx, path, body, out))
}

// del sends DELETE once with query q.
func (c *Client) del(ctx context.Context, path string, q url.Values, out any) error {
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return mapErr(ctx, c.api.Delete(ctx, path, out))
}

// quietLogger forwards go-proxmox's warnings and errors and drops its debug
// and info output, which includes request bodies.
type quietLogger struct{ log *slog.Logger }

func (quietLogger) Debugf(string, ...any)            {}
func (quietLogger) Infof(string, ...any)             {}
func (q quietLogger) Warnf(format string, v ...any)  { q.log.Warn(fmt.Sprintf(format, v...)) }
func (q quietLogger) Errorf(format string, v ...any) { q.log.Error(fmt.Sprintf(format, v...)) }

// ConfigFor builds the API part of a node record into a Config; the caller
// adds Logger and tuning.
func ConfigFor(n provision.Node) Config {
	return Config{APIURL: n.APIURL, Node: n.Name, TokenID: n.TokenID, TokenSecret: n.TokenSecret,
		TLSFingerprint: n.TLSFingerprint, InsecureSkipVerify: n.InsecureSkipVerify}
}
