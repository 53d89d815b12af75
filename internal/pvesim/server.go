package pvesim

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

const apiPrefix = "/api2/json"

// maxInflight bounds the requests handled at once; more wait their turn.
const maxInflight = 256

// maxBody bounds request bodies (PVE itself caps POST data well below this).
const maxBody = 1 << 20

// Server serves the Proxmox VE HTTPS API for a Cluster.
type Server struct {
	c           *Cluster
	schema      *apiSchema
	cert        tls.Certificate
	fingerprint string
	ticketKey   []byte
	log         *slog.Logger
	routes      map[string]handlerFunc
	inflight    chan struct{}

	mu       sync.Mutex
	httpSrv  *http.Server
	listener net.Listener
}

type authInfo struct {
	kind      string // "token" or "ticket"
	user      string // user@realm
	tokenName string
}

type reqCtx struct {
	r        *http.Request
	method   string
	path     string
	template string
	vars     map[string]string
	params   map[string]string
	auth     authInfo
	schema   *schemaMethod
	node     *simNode
}

type handlerFunc func(*reqCtx) (any, error)

// withTotal is a response with a "total" sibling of "data".
type withTotal struct {
	Data  any `json:"data"`
	Total int `json:"total"`
}

// NewServer prepares the API server for c. It loads the API schema and
// generates a certificate unless one was given in the options.
func NewServer(c *Cluster) (*Server, error) {
	opts := c.Options()
	schema, err := loadSchema(opts.SchemaPath)
	if err != nil {
		return nil, err
	}
	s := &Server{c: c, schema: schema, log: c.log.With("component", "pvesim-api")}
	if opts.Certificate != nil {
		s.cert = *opts.Certificate
	} else if s.cert, err = selfSignedCert(); err != nil {
		return nil, err
	}
	leaf := s.cert.Certificate[0]
	s.fingerprint = Fingerprint(leaf)
	s.ticketKey = make([]byte, 32)
	if _, err := rand.Read(s.ticketKey); err != nil {
		return nil, fmt.Errorf("generating ticket key: %w", err)
	}
	s.routes = s.buildRoutes()
	s.inflight = make(chan struct{}, maxInflight)
	return s, nil
}

// Cluster returns the simulated cluster behind the server.
func (s *Server) Cluster() *Cluster { return s.c }

// Fingerprint returns the SHA-256 fingerprint of the served certificate in
// PVE's "AB:CD:..." form.
func (s *Server) Fingerprint() string { return s.fingerprint }

// Fingerprint formats the SHA-256 of a DER certificate as "AB:CD:...".
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// TLSConfig returns a server TLS configuration serving the certificate over
// HTTP/1.1 only.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{s.cert},
		NextProtos:   []string{"http/1.1"},
		MinVersion:   tls.VersionTLS12,
	}
}

// HTTPClient returns a client that trusts exactly the server's certificate
// (by fingerprint), for tests and tools.
func (s *Server) HTTPClient() *http.Client {
	return PinnedHTTPClient(s.fingerprint, 30*time.Second)
}

// PinnedHTTPClient returns an HTTP/1.1 client that accepts only a server
// certificate whose SHA-256 fingerprint equals fingerprint.
func PinnedHTTPClient(fingerprint string, timeout time.Duration) *http.Client {
	want := strings.ToUpper(fingerprint)
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{
				InsecureSkipVerify: true, //nolint:gosec // verified by fingerprint below.
				MinVersion:         tls.VersionTLS12,
				VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
					if len(raw) == 0 || Fingerprint(raw[0]) != want {
						return errors.New("server certificate does not match the pinned fingerprint")
					}
					return nil
				},
			},
			TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
		},
	}
}

// NewHTTPServer returns an http.Server for the API with HTTP/2 disabled.
func (s *Server) NewHTTPServer() *http.Server {
	return &http.Server{
		Handler:           s,
		TLSConfig:         s.TLSConfig(),
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

// Start listens on addr (e.g. "127.0.0.1:0") and serves HTTPS in the
// background until Close.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := s.NewHTTPServer()
	s.mu.Lock()
	s.httpSrv, s.listener = srv, ln
	s.mu.Unlock()
	go func() {
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("api server stopped", "error", err)
		}
	}()
	return nil
}

// URL returns the API base URL (ending in /api2/json) after Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener == nil {
		return ""
	}
	return "https://" + s.listener.Addr().String() + apiPrefix
}

// Close stops the listener started by Start and the cluster's timers.
func (s *Server) Close() error {
	s.mu.Lock()
	srv := s.httpSrv
	s.mu.Unlock()
	s.c.Close()
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(ctx)
}

func selfSignedCert() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generating key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generating serial: %w", err)
	}
	names := []string{"localhost", "pve1"}
	if h, err := os.Hostname(); err == nil && h != "" {
		names = append(names, h)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "pvesim", Organization: []string{"PVE Cluster Node"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     names,
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("creating certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// ServeHTTP handles one API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case s.inflight <- struct{}{}:
		defer func() { <-s.inflight }()
	case <-r.Context().Done():
		return
	}
	rec := Request{Time: time.Now(), Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, apiPrefix)}
	recorded := false
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic in api handler", "panic", p, "method", r.Method, "path", r.URL.Path)
			rec.Status, rec.Reason = 500, "internal error"
			if !recorded {
				s.c.record(rec)
			}
			writeStatus(w, 500, "internal error", errorBody("internal error", nil))
		}
	}()
	status, reason, body := s.serve(r, &rec)
	rec.Status, rec.Reason = status, reason
	// Record before answering: a client that has its answer finds the
	// request in the record.
	s.c.record(rec)
	recorded = true
	writeStatus(w, status, reason, body)
}

// serve runs the request through routing, auth, faults, validation and the
// handler, and returns the status line and body to send.
func (s *Server) serve(r *http.Request, rec *Request) (int, string, []byte) {
	fail := func(err error) (int, string, []byte) {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = errf(500, "%v", err)
		}
		if ae.emptyBody {
			return ae.status, ae.reason, nil
		}
		return ae.status, ae.reason, errorBody(ae.reason, ae.errors)
	}
	if err := sleepCtx(r.Context(), s.c.opts.Latency); err != nil {
		return fail(errf(500, "request cancelled"))
	}
	if !strings.HasPrefix(r.URL.Path, apiPrefix+"/") {
		return fail(errf(501, "Method '%s %s' not implemented", r.Method, r.URL.Path))
	}
	rel := rec.Path
	template, vars, ok := s.match(rel)
	notImpl := errf(501, "Method '%s %s' not implemented", r.Method, rel)
	if !ok {
		return fail(notImpl)
	}
	rec.Template = template
	sm, ok := s.schema.method(template, r.Method)
	handler, implemented := s.routes[r.Method+" "+template]
	if !ok || !implemented {
		return fail(notImpl)
	}
	isLogin := template == "/access/ticket" && r.Method == http.MethodPost

	auth, err := s.authenticate(r, isLogin)
	if err != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxBody))
		return fail(err)
	}
	rec.Auth = auth.kind
	if auth.kind == "token" && sm.AllowToken.String() != "1" {
		return fail(errf(403, "Permission check failed (URI '%s' not available with API token, need proper ticket.", rel))
	}

	params, err := readParams(r)
	if err != nil {
		return fail(err)
	}
	for k, v := range vars {
		params[k] = v
	}
	rec.Params = redact(params)

	delay, fstatus, freason := s.c.matchFault(r.Method, template, rel)
	if err := sleepCtx(r.Context(), delay); err != nil {
		return fail(errf(500, "request cancelled"))
	}
	if fstatus != 0 {
		if freason == "" {
			freason = http.StatusText(fstatus)
		}
		return fail(&apiError{status: fstatus, reason: freason, emptyBody: fstatus >= 502})
	}

	rc := &reqCtx{r: r, method: r.Method, path: rel, template: template, vars: vars, params: params, auth: auth, schema: sm}
	if name, ok := vars["node"]; ok {
		if err := s.checkNode(rc, name); err != nil {
			return fail(err)
		}
	}
	if errs := sm.validate(params); len(errs) > 0 {
		return fail(paramError(errs))
	}
	data, err := handler(rc)
	if err != nil {
		return fail(err)
	}
	var body []byte
	if wt, ok := data.(withTotal); ok {
		body, err = json.Marshal(wt)
	} else {
		body, err = json.Marshal(map[string]any{"data": data})
	}
	if err != nil {
		return fail(err)
	}
	return 200, "OK", body
}

// checkNode resolves the {node} path variable: unknown names fail like a
// failed hostname lookup, offline nodes like a refused proxy connection.
func (s *Server) checkNode(rc *reqCtx, name string) error {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	n, ok := s.c.byName[name]
	if !ok {
		if !nodeNameRe.MatchString(name) {
			return nil // left to parameter validation
		}
		return errf(500, "hostname lookup '%s' failed - failed to get address info for: %s: Name or service not known", name, name)
	}
	if !n.online && rc.schema.ProxyTo == "node" {
		return &apiError{status: 595, reason: "Connection refused", emptyBody: true}
	}
	rc.node = n
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func redact(params map[string]string) map[string]string {
	out := make(map[string]string, len(params))
	for k, v := range params {
		if k == "password" {
			v = "<redacted>"
		}
		out[k] = v
	}
	return out
}

// match finds the schema path template for a concrete path.
func (s *Server) match(p string) (string, map[string]string, bool) {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for _, t := range s.schema.templates() {
		tsegs := strings.Split(strings.Trim(t, "/"), "/")
		if len(tsegs) != len(segs) {
			continue
		}
		vars := map[string]string{}
		ok := true
		for i, ts := range tsegs {
			if strings.HasPrefix(ts, "{") {
				if segs[i] == "" {
					ok = false
					break
				}
				vars[strings.Trim(ts, "{}")] = segs[i]
				continue
			}
			if ts != segs[i] {
				ok = false
				break
			}
		}
		if ok {
			return t, vars, true
		}
	}
	return "", nil, false
}

// readParams merges body parameters (form or JSON, POST/PUT only) with
// query parameters; the query wins, as in pve-http-server.
func readParams(r *http.Request) (map[string]string, error) {
	params := map[string]string{}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return nil, errf(400, "reading request body: %v", err)
	}
	switch r.Method {
	case http.MethodGet, http.MethodDelete, http.MethodHead:
		if len(strings.TrimSpace(string(body))) > 0 {
			return nil, errf(501, "Unexpected content for method '%s'", r.Method)
		}
	default:
		if len(body) > 0 {
			ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if ct == "application/json" {
				var m map[string]any
				dec := json.NewDecoder(strings.NewReader(string(body)))
				dec.UseNumber()
				if err := dec.Decode(&m); err != nil {
					return nil, errf(400, "Parameter verification failed.")
				}
				for k, v := range m {
					switch v := v.(type) {
					case nil:
					case bool:
						params[k] = map[bool]string{true: "1", false: "0"}[v]
					case json.Number:
						params[k] = v.String()
					case string:
						params[k] = v
					default:
						b, _ := json.Marshal(v)
						params[k] = string(b)
					}
				}
			} else {
				form, err := url.ParseQuery(string(body))
				if err != nil {
					return nil, errf(400, "Parameter verification failed.")
				}
				for k, v := range form {
					params[k] = v[len(v)-1]
				}
			}
		}
	}
	for k, v := range r.URL.Query() {
		params[k] = v[len(v)-1]
	}
	return params, nil
}

// errorBody is the JSON body of an error (libpve-http-server-perl >= 5.2.0).
func errorBody(msg string, errs map[string]string) []byte {
	m := map[string]any{"data": nil, "message": msg + "\n"}
	if errs != nil {
		m["errors"] = errs
	}
	b, _ := json.Marshal(m)
	return b
}

// writeStatus writes a response whose reason phrase may be arbitrary text.
// net/http always sends the standard reason phrase, so non-200 answers
// hijack the connection and write the status line themselves.
func writeStatus(w http.ResponseWriter, status int, reason string, body []byte) {
	if status == http.StatusOK {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write(body)
		return
	}
	reason = sanitizeReason(reason)
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		if len(body) > 0 {
			w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
		return
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(buf, "HTTP/1.1 %03d %s\r\n", status, reason)
	fmt.Fprintf(buf, "Date: %s\r\n", time.Now().UTC().Format(http.TimeFormat))
	buf.WriteString("Server: pve-api-daemon/3.0\r\nCache-Control: max-age=0\r\nConnection: close\r\n")
	if len(body) > 0 {
		buf.WriteString("Content-Type: application/json;charset=UTF-8\r\n")
	}
	fmt.Fprintf(buf, "Content-Length: %d\r\n\r\n", len(body))
	_, _ = buf.Write(body)
	_ = buf.Flush()
}

func sanitizeReason(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if s == "" {
		return "error"
	}
	return s
}
