package nodepool

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/secret"
)

// API is a node's REST API for lifecycle actions, live status and
// inventory: token authentication, TLS pinned by fingerprint, every task
// waited for and its exit status checked.
type API struct {
	base     string // .../api2/json, no trailing slash
	tokenID  string
	secret   secret.String
	http     *http.Client
	taskPoll time.Duration
}

var _ provision.NodeAPI = (*API)(nil)

// ErrFingerprintMismatch: the API presented a certificate other than the
// pinned one.
var ErrFingerprintMismatch = errors.New("the API's TLS certificate does not match the pinned fingerprint")

// certFingerprint formats the SHA-256 of a DER certificate as "AB:CD:...".
func certFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// pinnedHTTPClient accepts only a leaf certificate with the given
// fingerprint (or any, with insecure). An empty pin refuses every
// certificate: a node is never used before its certificate is confirmed.
func pinnedHTTPClient(pin string, insecure bool, timeout time.Duration) *http.Client {
	want := provision.NormalizeTLSFingerprint(pin)
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{
				InsecureSkipVerify: true, //nolint:gosec // verified by fingerprint below.
				MinVersion:         tls.VersionTLS12,
				VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
					if insecure {
						return nil
					}
					if len(raw) == 0 {
						return ErrFingerprintMismatch
					}
					if got := certFingerprint(raw[0]); want == "" || got != want {
						return fmt.Errorf("%w (presented %s)", ErrFingerprintMismatch, got)
					}
					return nil
				},
			},
			TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     90 * time.Second,
			// PVE's API server speaks HTTP/1.1.
			TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
		},
	}
}

func newAPI(n provision.Node, timeout, taskPoll time.Duration) *API {
	return &API{
		base:     strings.TrimRight(n.APIURL, "/"),
		tokenID:  n.TokenID,
		secret:   n.TokenSecret,
		http:     pinnedHTTPClient(n.TLSFingerprint, n.InsecureSkipVerify, timeout),
		taskPoll: taskPoll,
	}
}

func (a *API) close() { a.http.CloseIdleConnections() }

// reMissing matches PVE's reason phrases for a container that does not exist.
var reMissing = regexp.MustCompile(`does not exist|no such (container|vm)|not found`)

// apiError is a non-2xx answer; Reason is PVE's reason phrase (it carries
// the actual message for 500s).
type apiError struct {
	Method, Path string
	Status       int
	Reason       string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, e.Reason)
}

func (e *apiError) Unwrap() error {
	switch {
	case e.Status == http.StatusNotFound, reMissing.MatchString(e.Reason):
		return provision.ErrNotFound
	case e.Status == 595, e.Status == http.StatusBadGateway, e.Status == http.StatusServiceUnavailable,
		e.Status == http.StatusGatewayTimeout:
		return provision.ErrUnavailable
	case e.Status == http.StatusUnauthorized, e.Status == http.StatusForbidden:
		return provision.ErrForbidden
	}
	return nil
}

// do calls the API and decodes "data" into out (if not nil).
func (a *API) do(ctx context.Context, method, path string, params url.Values, out any) error {
	u := a.base + path
	var body io.Reader
	if method == http.MethodGet || method == http.MethodDelete {
		if len(params) > 0 {
			u += "?" + params.Encode()
		}
	} else if len(params) > 0 {
		body = strings.NewReader(params.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "PVEAPIToken="+a.tokenID+"="+a.secret.Reveal())
	resp, err := a.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s %s: %w", method, path, ctx.Err())
		}
		// url.Error names the URL only; no header (and so no token) leaks.
		return fmt.Errorf("%s %s: %w (%w)", method, path, err, provision.ErrUnavailable)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s %s: reading answer: %w (%w)", method, path, err, provision.ErrUnavailable)
	}
	if resp.StatusCode/100 != 2 {
		reason := strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode)))
		return &apiError{Method: method, Path: path, Status: resp.StatusCode, Reason: reason}
	}
	if out == nil {
		return nil
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("%s %s: decoding answer: %w", method, path, err)
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return fmt.Errorf("%s %s: decoding data: %w", method, path, err)
	}
	return nil
}

// num decodes PVE numbers, which some endpoints send as strings.
type num float64

func (n *num) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("decoding number %q: %w", s, err)
	}
	*n = num(f)
	return nil
}

type guestJSON struct {
	Type    string `json:"type"`
	VMID    num    `json:"vmid"`
	Node    string `json:"node"`
	Name    string `json:"name"`
	Status  string `json:"status"`
	CPU     num    `json:"cpu"`
	CPUs    num    `json:"cpus"`
	MaxCPU  num    `json:"maxcpu"`
	Mem     num    `json:"mem"`
	MaxMem  num    `json:"maxmem"`
	Disk    num    `json:"disk"`
	MaxDisk num    `json:"maxdisk"`
	Uptime  num    `json:"uptime"`
	Tags    string `json:"tags"`
	Lock    string `json:"lock"`
}

func (g guestJSON) status(node string) provision.GuestStatus {
	cpus := int(g.CPUs)
	if cpus == 0 {
		cpus = int(g.MaxCPU)
	}
	if g.Node != "" {
		node = g.Node
	}
	var tags []string
	for _, t := range strings.FieldsFunc(g.Tags, func(r rune) bool { return r == ';' || r == ',' || r == ' ' }) {
		tags = append(tags, t)
	}
	return provision.GuestStatus{
		VMID: int(g.VMID), Node: node, Name: g.Name, Status: g.Status, CPU: float64(g.CPU), CPUs: cpus,
		MemUsed: uint64(g.Mem), MemTotal: uint64(g.MaxMem), DiskUsed: uint64(g.Disk), DiskTotal: uint64(g.MaxDisk),
		Uptime: time.Duration(g.Uptime) * time.Second, Tags: tags, Lock: g.Lock,
	}
}

func ctPath(node string, vmid int) string {
	return "/nodes/" + url.PathEscape(node) + "/lxc/" + strconv.Itoa(vmid)
}

// GuestStatus reads GET .../status/current.
func (a *API) GuestStatus(ctx context.Context, node string, vmid int) (provision.GuestStatus, error) {
	var g guestJSON
	if err := a.do(ctx, http.MethodGet, ctPath(node, vmid)+"/status/current", nil, &g); err != nil {
		return provision.GuestStatus{}, fmt.Errorf("reading status of CT %d on %s: %w", vmid, node, err)
	}
	g.VMID = num(vmid)
	return g.status(node), nil
}

// power posts a status action and waits for its task.
func (a *API) power(ctx context.Context, node string, vmid int, action string, params url.Values) error {
	var upid string
	if err := a.do(ctx, http.MethodPost, ctPath(node, vmid)+"/status/"+action, params, &upid); err != nil {
		return fmt.Errorf("%s CT %d on %s: %w", action, vmid, node, err)
	}
	if err := a.WaitTask(ctx, node, upid); err != nil {
		return fmt.Errorf("%s CT %d on %s: %w", action, vmid, node, err)
	}
	return nil
}

// Start starts the container.
func (a *API) Start(ctx context.Context, node string, vmid int) error {
	return a.power(ctx, node, vmid, "start", nil)
}

// Stop stops the container at once.
func (a *API) Stop(ctx context.Context, node string, vmid int) error {
	return a.power(ctx, node, vmid, "stop", nil)
}

// Shutdown asks the container to shut down within timeout.
func (a *API) Shutdown(ctx context.Context, node string, vmid int, timeout time.Duration, force bool) error {
	secs := max(int(timeout.Round(time.Second)/time.Second), 1)
	p := url.Values{"timeout": {strconv.Itoa(secs)}}
	if force {
		p.Set("forceStop", "1")
	}
	return a.power(ctx, node, vmid, "shutdown", p)
}

// Reboot reboots the container.
func (a *API) Reboot(ctx context.Context, node string, vmid int) error {
	return a.power(ctx, node, vmid, "reboot", nil)
}

// Delete destroys a stopped container, purging it from related
// configuration and destroying unreferenced disks.
func (a *API) Delete(ctx context.Context, node string, vmid int) error {
	var upid string
	p := url.Values{"purge": {"1"}, "destroy-unreferenced-disks": {"1"}}
	if err := a.do(ctx, http.MethodDelete, ctPath(node, vmid), p, &upid); err != nil {
		return fmt.Errorf("deleting CT %d on %s: %w", vmid, node, err)
	}
	if err := a.WaitTask(ctx, node, upid); err != nil {
		return fmt.Errorf("deleting CT %d on %s: %w", vmid, node, err)
	}
	return nil
}

// ErrTaskFailed is wrapped by WaitTask when a task ends with an exit status
// other than OK.
var ErrTaskFailed = errors.New("task failed")

// WaitTask polls the task until it stops and fails unless it exited OK.
func (a *API) WaitTask(ctx context.Context, node, upid string) error {
	if upid == "" {
		return fmt.Errorf("waiting for task: no task id: %w", provision.ErrInvalid)
	}
	path := "/nodes/" + url.PathEscape(node) + "/tasks/" + url.PathEscape(upid) + "/status"
	for {
		var st struct {
			Status     string `json:"status"`
			ExitStatus string `json:"exitstatus"`
		}
		if err := a.do(ctx, http.MethodGet, path, nil, &st); err != nil {
			return fmt.Errorf("waiting for task: %w", err)
		}
		if st.Status == "stopped" {
			if st.ExitStatus != "OK" && !strings.HasPrefix(st.ExitStatus, "WARNINGS") {
				return fmt.Errorf("%w: %s", ErrTaskFailed, st.ExitStatus)
			}
			return nil
		}
		t := time.NewTimer(a.taskPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for task: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// NodeGuests reads GET /cluster/resources once and keeps node's containers.
// A node the cluster reports offline is an error wrapping ErrUnavailable.
func (a *API) NodeGuests(ctx context.Context, node string) ([]provision.GuestStatus, error) {
	var items []guestJSON
	if err := a.do(ctx, http.MethodGet, "/cluster/resources", nil, &items); err != nil {
		return nil, fmt.Errorf("listing guests of %s: %w", node, err)
	}
	var out []provision.GuestStatus
	seen := false
	for _, it := range items {
		if it.Node != node {
			continue
		}
		switch it.Type {
		case "node":
			seen = true
			if it.Status != "online" {
				return nil, fmt.Errorf("listing guests of %s: the cluster reports it %s: %w", node, it.Status, provision.ErrUnavailable)
			}
		case "lxc":
			out = append(out, it.status(node))
		}
	}
	if !seen {
		return nil, fmt.Errorf("listing guests of %s: the cluster does not know this node: %w", node, provision.ErrNotFound)
	}
	return out, nil
}

// Version reads GET /version.
func (a *API) Version(ctx context.Context) (string, error) {
	var v struct {
		Version string `json:"version"`
		Release string `json:"release"`
	}
	if err := a.do(ctx, http.MethodGet, "/version", nil, &v); err != nil {
		return "", fmt.Errorf("reading version: %w", err)
	}
	return v.Version, nil
}

// Interfaces reads GET .../interfaces (empty while stopped).
func (a *API) Interfaces(ctx context.Context, node string, vmid int) ([]provision.NetInterface, error) {
	var items []struct {
		Name string `json:"name"`
		Inet string `json:"inet"`
	}
	if err := a.do(ctx, http.MethodGet, ctPath(node, vmid)+"/interfaces", nil, &items); err != nil {
		return nil, fmt.Errorf("reading interfaces of CT %d on %s: %w", vmid, node, err)
	}
	out := make([]provision.NetInterface, 0, len(items))
	for _, it := range items {
		ni := provision.NetInterface{Name: it.Name}
		if it.Inet != "" {
			ni.IPv4 = []string{it.Inet}
		}
		out = append(out, ni)
	}
	return out, nil
}

// Description reads the container's description from its config.
func (a *API) Description(ctx context.Context, node string, vmid int) (string, error) {
	var conf struct {
		Description string `json:"description"`
	}
	if err := a.do(ctx, http.MethodGet, ctPath(node, vmid)+"/config", nil, &conf); err != nil {
		return "", fmt.Errorf("reading config of CT %d on %s: %w", vmid, node, err)
	}
	return conf.Description, nil
}
