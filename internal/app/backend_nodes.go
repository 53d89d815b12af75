package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/store"
)

// ConfirmWindow is how long an admin has to repeat node add or edit to
// confirm the fingerprints the first attempt showed.
const ConfirmWindow = 10 * time.Minute

// PendingConfirmation is what a node presented when an admin was asked to
// confirm it, and where it was reached.
type PendingConfirmation struct {
	APIURL         string `json:"api_url"`
	SSHAddr        string `json:"ssh_addr"`
	TLSFingerprint string `json:"tls_fingerprint"`
	SSHHostKey     string `json:"ssh_host_key"`
}

// Confirmations remembers fingerprints shown to an admin, per admin and
// node, for ConfirmWindow. Take returns and forgets one (nil if none).
type Confirmations interface {
	Put(ctx context.Context, key string, p PendingConfirmation) error
	Take(ctx context.Context, key string) (*PendingConfirmation, error)
}

// redisConfirmations keeps pending confirmations in Redis, so the admin's
// second attempt may reach another replica.
type redisConfirmations struct {
	rdb redis.UniversalClient
	ttl time.Duration
}

func confirmKey(key string) string { return "lxcbot:node-confirm:" + key }

func (c redisConfirmations) Put(ctx context.Context, key string, p PendingConfirmation) error {
	raw, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("remembering fingerprints to confirm: %w", err)
	}
	if err := c.rdb.Set(ctx, confirmKey(key), raw, c.ttl).Err(); err != nil {
		return fmt.Errorf("remembering fingerprints to confirm: %w", err)
	}
	return nil
}

func (c redisConfirmations) Take(ctx context.Context, key string) (*PendingConfirmation, error) {
	raw, err := c.rdb.GetDel(ctx, confirmKey(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading fingerprints to confirm: %w", err)
	}
	var p PendingConfirmation
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, nil // unreadable: ask again
	}
	return &p, nil
}

// memConfirmations is the in-process fallback when no store is given.
type memConfirmations struct {
	mu sync.Mutex
	m  map[string]memPending
}

type memPending struct {
	p     PendingConfirmation
	until time.Time
}

func newMemConfirmations() *memConfirmations { return &memConfirmations{m: map[string]memPending{}} }

func (c *memConfirmations) Put(_ context.Context, key string, p PendingConfirmation) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = memPending{p: p, until: time.Now().Add(ConfirmWindow)}
	return nil
}

func (c *memConfirmations) Take(_ context.Context, key string) (*PendingConfirmation, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	delete(c.m, key)
	if !ok || time.Now().After(e.until) {
		return nil, nil
	}
	return &e.p, nil
}

// Nodes implements commands.Nodes.
func (b *Backend) Nodes(ctx context.Context) ([]commands.NodeStatus, error) {
	infos, err := b.nodes.List(ctx)
	if err != nil {
		return nil, err
	}
	cs, err := b.store.ListContainers(ctx, store.ContainerFilter{})
	if err != nil {
		return nil, fmt.Errorf("counting containers per node: %w", err)
	}
	count := map[string]int{}
	for _, c := range cs {
		count[c.NodeName]++
	}
	out := make([]commands.NodeStatus, len(infos))
	for i, in := range infos {
		out[i] = commands.NodeStatus{Node: in.Node, Online: in.Online, Version: in.Version,
			Containers: count[in.Node.Name], Problem: in.Problem}
	}
	return out, nil
}

// NodeChoices implements commands.Nodes.
func (b *Backend) NodeChoices(ctx context.Context, node string) (*commands.NodeChoices, error) {
	if b.choices == nil {
		return &commands.NodeChoices{}, nil
	}
	return b.choices.NodeChoices(ctx, node)
}

func specOf(n provision.Node) provision.NodeSpec {
	return provision.NodeSpec{
		Name: n.Name, APIURL: n.APIURL, TokenID: n.TokenID, TokenSecret: n.TokenSecret,
		InsecureSkipVerify: n.InsecureSkipVerify, SSHAddr: n.SSHAddr, SSHUser: n.SSHUser,
		SSHPassword: n.SSHPassword, SSHPrivateKey: n.SSHPrivateKey,
		TLSFingerprint: n.TLSFingerprint, SSHHostKey: n.SSHHostKey, Default: n.IsDefault,
	}
}

func testOf(r *provision.NodeTestResult) *commands.NodeTest {
	if r == nil {
		return &commands.NodeTest{}
	}
	t := &commands.NodeTest{APIVersion: r.APIVersion, TLSFingerprint: r.TLSFingerprint, SSHHostKey: r.SSHHostKey}
	if r.APIError != "" {
		t.Problems = append(t.Problems, "API: "+r.APIError)
	}
	if r.SSHError != "" {
		t.Problems = append(t.Problems, "SSH: "+r.SSHError)
	}
	return t
}

func pendingKey(p provision.Principal, node string) string {
	return string(p.Platform) + ":" + p.UserID + ":" + node
}

// AddNode implements commands.Nodes. A node whose certificate or host key is
// not pinned yet is not saved: the reply shows the fingerprints, and the
// admin confirms them by running the same command again within
// ConfirmWindow. The second attempt passes only if the node still presents
// exactly what was shown.
func (b *Backend) AddNode(ctx context.Context, p provision.Principal, n provision.Node) (*commands.NodeTest, error) {
	if n.SSHUser == "" {
		n.SSHUser = "root"
	}
	spec := specOf(n)
	key := pendingKey(p, n.Name)
	confirm, err := b.takeConfirm(ctx, key, spec.APIURL, spec.SSHAddr)
	if err != nil {
		return nil, err
	}
	res, err := b.nodes.Add(ctx, spec, confirm)
	if err != nil {
		return nil, b.askToConfirm(ctx, key, spec.APIURL, spec.SSHAddr, err, "node add")
	}
	return testOf(res), nil
}

// EditNode implements commands.Nodes, with the same confirmation round
// trip as AddNode when the node presents something new.
func (b *Backend) EditNode(ctx context.Context, p provision.Principal, name string, n provision.Node) (*commands.NodeTest, error) {
	spec := specOf(n)
	spec.Name = name
	key := pendingKey(p, name)
	confirm, err := b.takeConfirm(ctx, key, spec.APIURL, spec.SSHAddr)
	if err != nil {
		return nil, err
	}
	res, err := b.nodes.Edit(ctx, name, spec, confirm)
	if err != nil {
		return nil, b.askToConfirm(ctx, key, spec.APIURL, spec.SSHAddr, err, "node edit")
	}
	return testOf(res), nil
}

// takeConfirm returns the fingerprints the admin was shown for the same
// addresses, as their confirmation.
func (b *Backend) takeConfirm(ctx context.Context, key, apiURL, sshAddr string) (provision.Confirm, error) {
	pc, err := b.confirm.Take(ctx, key)
	if err != nil || pc == nil || pc.APIURL != apiURL || pc.SSHAddr != sshAddr {
		return provision.Confirm{}, err
	}
	return provision.Confirm{TLSFingerprint: pc.TLSFingerprint, SSHHostKey: pc.SSHHostKey}, nil
}

// askToConfirm turns NeedsConfirmation into a reply that shows what to
// check and how to confirm it, remembering what was shown.
func (b *Backend) askToConfirm(ctx context.Context, key, apiURL, sshAddr string, err error, command string) error {
	var need *provision.NeedsConfirmation
	if !errors.As(err, &need) {
		return err
	}
	if perr := b.confirm.Put(ctx, key, PendingConfirmation{APIURL: apiURL, SSHAddr: sshAddr,
		TLSFingerprint: need.TLSFingerprint, SSHHostKey: need.SSHHostKey}); perr != nil {
		return perr
	}
	var parts, checks []string
	if need.TLSFingerprint != "" {
		parts = append(parts, "TLS certificate "+need.TLSFingerprint)
		checks = append(checks, "`pvenode cert info` on the node")
	}
	if need.SSHHostKey != "" {
		parts = append(parts, "SSH host key "+need.SSHHostKey)
		checks = append(checks, "`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the node")
	}
	return provision.Userf(provision.ErrConflict,
		"node %s presents %s, not pinned yet; nothing was saved. Check them with %s and, if they match, run the same /lxc %s command again within %d minutes to confirm and pin them",
		need.Node, strings.Join(parts, " and "), strings.Join(checks, " and "), command, int(ConfirmWindow/time.Minute))
}

// TestNode implements commands.Nodes.
func (b *Backend) TestNode(ctx context.Context, name string) (*commands.NodeTest, error) {
	res, err := b.nodes.Test(ctx, name)
	if err != nil {
		return nil, err
	}
	return testOf(res), nil
}

// SetDefaultNode implements commands.Nodes.
func (b *Backend) SetDefaultNode(ctx context.Context, _ provision.Principal, name string) error {
	return b.nodes.SetDefault(ctx, name)
}

// RemoveNode implements commands.Nodes.
func (b *Backend) RemoveNode(ctx context.Context, _ provision.Principal, name string) error {
	return b.nodes.Remove(ctx, name)
}
