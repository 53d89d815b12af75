package provision_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
)

func (b *simBundle) nodeAdmin() *provision.NodeAdmin {
	return provision.NewNodeAdmin(provision.NodeAdminDeps{Store: b.db, Containers: containerLister(b.db),
		Prober: b.pool, Nodes: b.pool, Pool: b.pool})
}

func specOf(n provision.Node, name string) provision.NodeSpec {
	return provision.NodeSpec{Name: name, APIURL: n.APIURL, TokenID: n.TokenID, TokenSecret: n.TokenSecret,
		SSHAddr: n.SSHAddr, SSHUser: n.SSHUser, SSHPassword: n.SSHPassword}
}

func TestNodeAddNeedsConfirmationThenSaves(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newSimBundle(t)
	a := b.nodeAdmin()
	rec := b.nodeRecord("pve1")
	spec := specOf(rec, "pve9")

	_, err := a.Add(ctx, spec, provision.Confirm{})
	var need *provision.NeedsConfirmation
	require.ErrorAs(t, err, &need)
	require.Equal(t, b.srv.Fingerprint(), need.TLSFingerprint)
	require.Equal(t, b.sshd["pve1"].HostKeyFingerprint(), need.SSHHostKey)
	_, err = b.db.GetNode(ctx, "pve9")
	require.ErrorIs(t, err, provision.ErrNotFound, "nothing saved before confirmation")

	res, err := a.Add(ctx, spec, provision.Confirm{TLSFingerprint: need.TLSFingerprint, SSHHostKey: need.SSHHostKey})
	require.NoError(t, err)
	require.True(t, res.OK())
	require.NotEmpty(t, res.APIVersion)
	saved, err := b.db.GetNode(ctx, "pve9")
	require.NoError(t, err)
	require.Equal(t, b.srv.Fingerprint(), saved.TLSFingerprint)
	require.Equal(t, b.sshd["pve1"].HostKeyFingerprint(), saved.SSHHostKey)

	// The token secret and SSH password never show in what admins see.
	require.NotContains(t, err2s(err), rec.TokenSecret.Reveal())

	list, err := a.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 3)
	for _, n := range list {
		if n.Node.Name == "pve9" {
			// The cluster behind the URL has no node of that name.
			require.False(t, n.Online)
			require.Contains(t, n.Problem, "does not know")
			continue
		}
		require.True(t, n.Online, n.Node.Name)
	}
}

func TestNodeMismatchedPinsAreRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newSimBundle(t)
	a := b.nodeAdmin()
	rec := b.nodeRecord("pve1")

	spec := specOf(rec, "pve7")
	spec.TLSFingerprint = "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"
	_, err := a.Add(ctx, spec, provision.Confirm{})
	var ue *provision.UserError
	require.ErrorAs(t, err, &ue)
	require.Contains(t, ue.Msg, "TLS certificate")
	require.Contains(t, ue.Msg, "refusing")

	spec = specOf(rec, "pve7")
	spec.SSHHostKey = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	_, err = a.Add(ctx, spec, provision.Confirm{TLSFingerprint: b.srv.Fingerprint()})
	require.ErrorAs(t, err, &ue)
	require.Contains(t, ue.Msg, "SSH host key")
	require.Contains(t, ue.Msg, "refusing")

	// A confirmation that does not match what the node presents now.
	_, err = a.Add(ctx, specOf(rec, "pve7"), provision.Confirm{TLSFingerprint: b.srv.Fingerprint(),
		SSHHostKey: b.sshd["pve2"].HostKeyFingerprint()})
	require.ErrorAs(t, err, &ue)
	require.Contains(t, ue.Msg, "changed since it was shown")

	// A saved node whose SSH address now answers with another key fails its
	// test, and the pool refuses to run commands there.
	n, err := b.db.GetNode(ctx, "pve1")
	require.NoError(t, err)
	n.SSHAddr = b.sshAt["pve2"]
	require.NoError(t, b.db.UpdateNode(ctx, &n))
	b.pool.Invalidate("pve1")
	res, err := a.Test(ctx, "pve1")
	require.NoError(t, err)
	require.Contains(t, res.SSHError, "refusing")
	host, err := b.pool.Host(ctx, "pve1")
	require.NoError(t, err)
	_, err = host.Exec(ctx, 100, []string{"true"}, provision.ExecOptions{})
	require.ErrorContains(t, err, "host key mismatch")

	// A pinned certificate that differs fails API calls.
	n.TLSFingerprint = "00:11"
	require.NoError(t, b.db.UpdateNode(ctx, &n))
	b.pool.Invalidate("pve1")
	api, err := b.pool.NodeAPI(ctx, "pve1")
	require.NoError(t, err)
	_, err = api.Version(ctx)
	require.ErrorContains(t, err, "does not match the pinned fingerprint")
}

func TestNodeRemoveRefusesWithContainers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newSimBundle(t)
	a := b.nodeAdmin()
	b.readyContainer(t, "pve2", 401, "resident")

	err := a.Remove(ctx, "pve2")
	var ue *provision.UserError
	require.ErrorAs(t, err, &ue)
	require.Contains(t, ue.Msg, "resident")

	_, err = b.lifecycle(0).Do(ctx, bob, "resident", provision.ActionDelete)
	require.NoError(t, err)
	require.NoError(t, a.SetDefault(ctx, "pve2"))
	def, err := b.db.DefaultNode(ctx)
	require.NoError(t, err)
	require.Equal(t, "pve2", def.Name)
	require.NoError(t, a.SetDefault(ctx, "pve1"))
	err = a.Remove(ctx, "pve2")
	if err != nil {
		// Deleted records may still reference the node.
		require.ErrorAs(t, err, &ue)
		return
	}
	_, err = b.db.GetNode(ctx, "pve2")
	require.ErrorIs(t, err, provision.ErrNotFound)
}

func err2s(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
