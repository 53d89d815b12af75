package provision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lxcbot/lxcbot/internal/secret"
)

// NodeSpec is what an admin gives to add or edit a node. On edit, empty
// fields keep the node's current values.
type NodeSpec struct {
	Name               string
	APIURL             string
	TokenID            string
	TokenSecret        secret.String
	InsecureSkipVerify bool
	SSHAddr            string
	SSHUser            string
	SSHPassword        secret.String
	SSHPrivateKey      secret.String
	// TLSFingerprint and SSHHostKey, when given (from configuration), are
	// the expected pins: a node presenting anything else is refused.
	TLSFingerprint string
	SSHHostKey     string
	Default        bool
}

// Confirm carries the fingerprints an admin confirmed after a
// NeedsConfirmation answer.
type Confirm struct {
	TLSFingerprint string
	SSHHostKey     string
}

// NeedsConfirmation is returned when a node presents a TLS certificate or SSH
// host key that is not pinned yet. Nothing is saved; an admin checks the
// fingerprints against the node and calls again with them in Confirm.
// An empty field needs no confirmation.
type NeedsConfirmation struct {
	Node           string
	TLSFingerprint string
	SSHHostKey     string
}

func (e *NeedsConfirmation) Error() string {
	var parts []string
	if e.TLSFingerprint != "" {
		parts = append(parts, "TLS certificate "+e.TLSFingerprint)
	}
	if e.SSHHostKey != "" {
		parts = append(parts, "SSH host key "+e.SSHHostKey)
	}
	return fmt.Sprintf("node %s presents %s, not pinned yet: an admin must check and confirm them", e.Node, strings.Join(parts, " and "))
}

// Unwrap makes NeedsConfirmation an ErrConflict.
func (e *NeedsConfirmation) Unwrap() error { return ErrConflict }

// NodeTestResult is the outcome of testing a node's API and SSH.
type NodeTestResult struct {
	Node           string
	APIVersion     string // Proxmox VE version, when the API answered
	TLSFingerprint string // the certificate seen ("" with insecure_skip_verify)
	SSHHostKey     string // the host key seen
	APIError       string // safe to show; "" when the API test passed
	SSHError       string // safe to show; "" when the SSH test passed
}

// OK reports whether both tests passed.
func (r *NodeTestResult) OK() bool { return r.APIError == "" && r.SSHError == "" }

// NodeProber checks nodes before they are saved.
type NodeProber interface {
	// ProbeTLS returns the SHA-256 fingerprint (AB:CD:...) of the leaf
	// certificate the API URL presents, trusting nothing.
	ProbeTLS(ctx context.Context, apiURL string) (string, error)
	// ProbeHostKey returns the SHA256:... fingerprint of the SSH host key.
	ProbeHostKey(ctx context.Context, addr string) (string, error)
	// CheckAPI calls GET /version with n's token and pinned certificate.
	CheckAPI(ctx context.Context, n Node) (version string, err error)
	// CheckSSH logs in with n's credentials and pinned host key and checks
	// that pct answers.
	CheckSSH(ctx context.Context, n Node) error
}

// NodeInvalidator drops cached clients of a node after it changed.
type NodeInvalidator interface {
	Invalidate(node string)
}

// NodeAdminStore is what node management needs from the system of record.
type NodeAdminStore interface {
	GetNode(ctx context.Context, name string) (Node, error)
	ListNodes(ctx context.Context) ([]Node, error)
	CreateNode(ctx context.Context, n *Node) error
	UpdateNode(ctx context.Context, n *Node) error
	DeleteNode(ctx context.Context, name string) error
	SetDefaultNode(ctx context.Context, name string) error
}

// NodeAdminDeps are NodeAdmin's collaborators.
type NodeAdminDeps struct {
	Store      NodeAdminStore
	Containers ContainerLister
	Prober     NodeProber
	Nodes      NodeAPIs        // for List's online status
	Pool       NodeInvalidator // nil = nothing cached
	Log        *slog.Logger
	// Timeout bounds each probe and test (default 15s).
	Timeout time.Duration
}

// NodeAdmin manages Proxmox nodes: add and edit (tested and pinned before
// saving), test, remove, default, list. It does not authorise.
type NodeAdmin struct {
	store   NodeAdminStore
	list    ContainerLister
	prober  NodeProber
	nodes   NodeAPIs
	pool    NodeInvalidator
	log     *slog.Logger
	timeout time.Duration
}

// NewNodeAdmin builds a NodeAdmin.
func NewNodeAdmin(d NodeAdminDeps) *NodeAdmin {
	a := &NodeAdmin{store: d.Store, list: d.Containers, prober: d.Prober, nodes: d.Nodes, pool: d.Pool,
		log: d.Log, timeout: d.Timeout}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.timeout <= 0 {
		a.timeout = 15 * time.Second
	}
	return a
}

// NormalizeTLSFingerprint writes a SHA-256 certificate fingerprint as
// upper-case hex pairs joined by colons, whatever separators it came with.
func NormalizeTLSFingerprint(fp string) string {
	hex := strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9', r >= 'A' && r <= 'F':
			return r
		case r >= 'a' && r <= 'f':
			return r - 'a' + 'A'
		}
		return -1
	}, fp)
	var b strings.Builder
	for i := 0; i+1 < len(hex); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(hex[i : i+2])
	}
	return b.String()
}

// NormalizeHostKey writes an SSH host key fingerprint as ssh-keygen prints
// it: "SHA256:" and unpadded base64.
func NormalizeHostKey(fp string) string {
	fp = strings.TrimSpace(fp)
	if fp == "" {
		return ""
	}
	if len(fp) >= 7 && strings.EqualFold(fp[:7], "SHA256:") {
		fp = fp[7:]
	}
	return "SHA256:" + strings.TrimRight(fp, "=")
}

func validateNodeSpec(n *Node) error {
	var problems []string
	if !hostnameRE.MatchString(n.Name) {
		problems = append(problems, "the name must be a hostname-like word (letters, digits, dashes)")
	}
	u, err := url.Parse(n.APIURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		problems = append(problems, "the API URL must look like https://host:8006/api2/json")
	}
	if !strings.Contains(n.TokenID, "!") || !strings.Contains(n.TokenID, "@") {
		problems = append(problems, "the token id must look like user@realm!tokenid")
	}
	if n.TokenSecret.IsZero() {
		problems = append(problems, "the token secret is missing")
	}
	if n.SSHAddr == "" {
		problems = append(problems, "the SSH address is missing")
	}
	if n.SSHUser == "" {
		problems = append(problems, "the SSH user is missing")
	}
	if n.SSHPassword.IsZero() && n.SSHPrivateKey.IsZero() {
		problems = append(problems, "give an SSH password or private key")
	}
	if len(problems) > 0 {
		return Userf(ErrInvalid, "node %s: %s", n.Name, strings.Join(problems, "; "))
	}
	return nil
}

// Add tests a new node's API and SSH and saves it. An unpinned certificate
// or host key makes it return *NeedsConfirmation (nothing saved); the admin
// confirms by calling again with Confirm filled. A fingerprint that differs
// from the one given or confirmed is refused. A failed test saves nothing
// and returns a UserError naming the problem.
func (a *NodeAdmin) Add(ctx context.Context, spec NodeSpec, confirm Confirm) (*NodeTestResult, error) {
	n := Node{
		Name: strings.TrimSpace(spec.Name), APIURL: strings.TrimSpace(spec.APIURL), TokenID: spec.TokenID,
		TokenSecret: spec.TokenSecret, InsecureSkipVerify: spec.InsecureSkipVerify,
		SSHAddr: spec.SSHAddr, SSHUser: spec.SSHUser, SSHPassword: spec.SSHPassword, SSHPrivateKey: spec.SSHPrivateKey,
		TLSFingerprint: spec.TLSFingerprint, SSHHostKey: spec.SSHHostKey, IsDefault: spec.Default,
	}
	if err := validateNodeSpec(&n); err != nil {
		return nil, err
	}
	if _, err := a.store.GetNode(ctx, n.Name); err == nil {
		return nil, Userf(ErrConflict, "a node named %s already exists: use node edit", n.Name)
	} else if !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("adding node %s: %w", n.Name, err)
	}
	res, err := a.pinAndTest(ctx, &n, confirm)
	if err != nil {
		return res, err
	}
	if err := a.store.CreateNode(ctx, &n); err != nil {
		if errors.Is(err, ErrConflict) {
			return res, Userf(ErrConflict, "a node named %s already exists: use node edit", n.Name)
		}
		return res, fmt.Errorf("saving node %s: %w", n.Name, err)
	}
	if n.IsDefault {
		if err := a.store.SetDefaultNode(ctx, n.Name); err != nil {
			return res, fmt.Errorf("making %s the default node: %w", n.Name, err)
		}
	}
	a.invalidate(n.Name)
	a.log.InfoContext(ctx, "node added", "node", n.Name, "api", n.APIURL, "ssh", n.SSHAddr)
	return res, nil
}

// Edit applies the non-empty fields of spec to the node, tests it and saves
// it. A node whose address changed presents its certificate and host key
// anew: they must match the pins, or be confirmed.
func (a *NodeAdmin) Edit(ctx context.Context, name string, spec NodeSpec, confirm Confirm) (*NodeTestResult, error) {
	n, err := a.store.GetNode(ctx, name)
	if err != nil {
		return nil, a.nodeNotFound(name, err)
	}
	set := func(dst *string, v string) {
		if v = strings.TrimSpace(v); v != "" {
			*dst = v
		}
	}
	setSecret := func(dst *secret.String, v secret.String) {
		if !v.IsZero() {
			*dst = v
		}
	}
	set(&n.APIURL, spec.APIURL)
	set(&n.TokenID, spec.TokenID)
	setSecret(&n.TokenSecret, spec.TokenSecret)
	set(&n.SSHAddr, spec.SSHAddr)
	set(&n.SSHUser, spec.SSHUser)
	setSecret(&n.SSHPassword, spec.SSHPassword)
	setSecret(&n.SSHPrivateKey, spec.SSHPrivateKey)
	set(&n.TLSFingerprint, spec.TLSFingerprint)
	set(&n.SSHHostKey, spec.SSHHostKey)
	n.InsecureSkipVerify = n.InsecureSkipVerify || spec.InsecureSkipVerify
	if err := validateNodeSpec(&n); err != nil {
		return nil, err
	}
	res, err := a.pinAndTest(ctx, &n, confirm)
	if err != nil {
		return res, err
	}
	if err := a.store.UpdateNode(ctx, &n); err != nil {
		return res, fmt.Errorf("saving node %s: %w", n.Name, err)
	}
	if spec.Default {
		if err := a.store.SetDefaultNode(ctx, n.Name); err != nil {
			return res, fmt.Errorf("making %s the default node: %w", n.Name, err)
		}
	}
	a.invalidate(n.Name)
	a.log.InfoContext(ctx, "node edited", "node", n.Name)
	return res, nil
}

// pinAndTest probes the node, settles the pins (n's own, confirmed or
// asked for) and tests API and SSH with them.
func (a *NodeAdmin) pinAndTest(ctx context.Context, n *Node, confirm Confirm) (*NodeTestResult, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	res := &NodeTestResult{Node: n.Name}
	need := &NeedsConfirmation{Node: n.Name}

	if !n.InsecureSkipVerify {
		seen, err := a.prober.ProbeTLS(ctx, n.APIURL)
		if err != nil {
			return res, Userf(ErrUnavailable, "node %s: cannot reach the API at %s: %v", n.Name, n.APIURL, err)
		}
		seen = NormalizeTLSFingerprint(seen)
		res.TLSFingerprint = seen
		pin, err := settlePin(n.Name, "TLS certificate", NormalizeTLSFingerprint(n.TLSFingerprint),
			NormalizeTLSFingerprint(confirm.TLSFingerprint), seen)
		if err != nil {
			return res, err
		}
		if pin == "" {
			need.TLSFingerprint = seen
		}
		n.TLSFingerprint = pin
	}
	seenKey, err := a.prober.ProbeHostKey(ctx, n.SSHAddr)
	if err != nil {
		return res, Userf(ErrUnavailable, "node %s: cannot reach SSH at %s: %v", n.Name, n.SSHAddr, err)
	}
	seenKey = NormalizeHostKey(seenKey)
	res.SSHHostKey = seenKey
	pin, err := settlePin(n.Name, "SSH host key", NormalizeHostKey(n.SSHHostKey), NormalizeHostKey(confirm.SSHHostKey), seenKey)
	if err != nil {
		return res, err
	}
	if pin == "" {
		need.SSHHostKey = seenKey
	}
	n.SSHHostKey = pin
	if need.TLSFingerprint != "" || need.SSHHostKey != "" {
		return res, need
	}

	a.test(ctx, n, res)
	if !res.OK() {
		var problems []string
		if res.APIError != "" {
			problems = append(problems, "API: "+res.APIError)
		}
		if res.SSHError != "" {
			problems = append(problems, "SSH: "+res.SSHError)
		}
		return res, Userf(ErrInvalid, "node %s failed its test, nothing was saved: %s", n.Name, strings.Join(problems, "; "))
	}
	return res, nil
}

// settlePin decides the pin: an existing pin must match what the node
// presents unless the admin explicitly confirmed the new value; a
// confirmation must match what is presented now. "" means the admin has to
// confirm.
func settlePin(node, what, pinned, confirmed, seen string) (string, error) {
	switch {
	case confirmed != "" && confirmed != seen:
		return "", Userf(ErrConflict, "node %s: the %s changed since it was shown (confirmed %s, now %s): refusing; check the node and confirm again",
			node, what, confirmed, seen)
	case confirmed != "":
		return confirmed, nil
	case pinned != "" && pinned != seen:
		return "", Userf(ErrConflict, "node %s presents %s %s but %s is pinned: refusing to connect; if the node was legitimately re-keyed, confirm the new value",
			node, what, seen, pinned)
	case pinned != "":
		return pinned, nil
	}
	return "", nil
}

// test runs the API and SSH checks with n's pins and fills res.
func (a *NodeAdmin) test(ctx context.Context, n *Node, res *NodeTestResult) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		v, err := a.prober.CheckAPI(ctx, *n)
		if err != nil {
			res.APIError = err.Error()
			return
		}
		res.APIVersion = v
	}()
	go func() {
		defer wg.Done()
		if err := a.prober.CheckSSH(ctx, *n); err != nil {
			res.SSHError = err.Error()
		}
	}()
	wg.Wait()
}

// Test probes and tests a saved node with its pins. A certificate or host
// key that differs from the pin is reported as a failed test.
func (a *NodeAdmin) Test(ctx context.Context, name string) (*NodeTestResult, error) {
	n, err := a.store.GetNode(ctx, name)
	if err != nil {
		return nil, a.nodeNotFound(name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	res := &NodeTestResult{Node: n.Name}
	if !n.InsecureSkipVerify {
		if seen, err := a.prober.ProbeTLS(ctx, n.APIURL); err == nil {
			res.TLSFingerprint = NormalizeTLSFingerprint(seen)
		}
	}
	if seen, err := a.prober.ProbeHostKey(ctx, n.SSHAddr); err == nil {
		res.SSHHostKey = NormalizeHostKey(seen)
	}
	a.test(ctx, &n, res)
	if res.TLSFingerprint != "" && n.TLSFingerprint != "" && res.TLSFingerprint != NormalizeTLSFingerprint(n.TLSFingerprint) {
		res.APIError = fmt.Sprintf("the node presents TLS certificate %s but %s is pinned: refusing to connect", res.TLSFingerprint, n.TLSFingerprint)
	}
	if res.SSHHostKey != "" && n.SSHHostKey != "" && res.SSHHostKey != NormalizeHostKey(n.SSHHostKey) {
		res.SSHError = fmt.Sprintf("the node presents SSH host key %s but %s is pinned: refusing to connect", res.SSHHostKey, n.SSHHostKey)
	}
	return res, nil
}

// Remove deletes a node. It refuses while containers the bot manages live
// there.
func (a *NodeAdmin) Remove(ctx context.Context, name string) error {
	if _, err := a.store.GetNode(ctx, name); err != nil {
		return a.nodeNotFound(name, err)
	}
	cs, err := a.list.ListContainers(ctx, ContainerQuery{Node: name})
	if err != nil {
		return fmt.Errorf("removing node %s: listing its containers: %w", name, err)
	}
	var live []string
	for _, c := range cs {
		if c.State != StateCancelled {
			live = append(live, c.Hostname)
		}
	}
	if len(live) > 0 {
		if len(live) > 5 {
			live = append(live[:5], fmt.Sprintf("and %d more", len(live)-5))
		}
		return Userf(ErrConflict, "node %s still has containers (%s): delete them first", name, strings.Join(live, ", "))
	}
	if err := a.store.DeleteNode(ctx, name); err != nil {
		if errors.Is(err, ErrConflict) {
			return Userf(ErrConflict, "node %s is still referenced by containers: delete them first", name)
		}
		return fmt.Errorf("removing node %s: %w", name, err)
	}
	a.invalidate(name)
	a.log.InfoContext(ctx, "node removed", "node", name)
	return nil
}

// SetDefault makes name the node creations use when none is chosen.
func (a *NodeAdmin) SetDefault(ctx context.Context, name string) error {
	if err := a.store.SetDefaultNode(ctx, name); err != nil {
		return a.nodeNotFound(name, err)
	}
	return nil
}

// NodeInfo is a node with whether it answers now.
type NodeInfo struct {
	Node    Node
	Online  bool
	Version string // Proxmox VE version when online
	Problem string // why it is offline; safe to show
}

// List returns every node with its online status, asked concurrently.
func (a *NodeAdmin) List(ctx context.Context) ([]NodeInfo, error) {
	ns, err := a.store.ListNodes(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing nodes: %w", err)
	}
	out := make([]NodeInfo, len(ns))
	var wg sync.WaitGroup
	for i, n := range ns {
		out[i].Node = n
		wg.Add(1)
		go func() {
			defer wg.Done()
			nctx, cancel := context.WithTimeout(ctx, a.timeout)
			defer cancel()
			api, err := a.nodes.NodeAPI(nctx, n.Name)
			if err == nil {
				out[i].Version, err = api.Version(nctx)
			}
			if err == nil {
				// A cluster's shared API answers for a node that is down:
				// ask about the node itself.
				_, err = api.NodeGuests(nctx, n.Name)
			}
			if err != nil {
				out[i].Problem = err.Error()
				return
			}
			out[i].Online = true
		}()
	}
	wg.Wait()
	slices.SortFunc(out, func(x, y NodeInfo) int { return strings.Compare(x.Node.Name, y.Node.Name) })
	return out, nil
}

func (a *NodeAdmin) invalidate(name string) {
	if a.pool != nil {
		a.pool.Invalidate(name)
	}
}

func (a *NodeAdmin) nodeNotFound(name string, err error) error {
	if errors.Is(err, ErrNotFound) {
		return Userf(ErrNotFound, "no node %q: see /lxc nodes", name)
	}
	return fmt.Errorf("reading node %s: %w", name, err)
}
