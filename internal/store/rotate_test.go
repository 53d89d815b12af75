package store_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/secret"
)

const credPlain = "cred-value-9c1d-secret"

func TestRotateSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	old, b := setup(t)

	require.NoError(t, old.CreateNode(ctx, testNode("pve1")))
	n2 := testNode("pve2")
	n2.SSHPassword = "" // stays NULL; nothing to rotate
	require.NoError(t, old.CreateNode(ctx, n2))
	c := newContainer(t, old, "web01")
	require.NoError(t, old.ReplaceCredentials(ctx, c.ID, []provision.Credential{
		{Service: "app", Key: "A", Value: credPlain}, {Service: "app", Key: "B", Value: "b"},
	}))

	rawSecrets := func() [][]byte {
		t.Helper()
		var out [][]byte
		rows, err := b.raw.Query(ctx, `
			SELECT v FROM (SELECT token_secret AS v FROM nodes UNION ALL SELECT ssh_password FROM nodes
			               UNION ALL SELECT ssh_private_key FROM nodes UNION ALL SELECT value FROM credentials) s
			 WHERE v IS NOT NULL`)
		require.NoError(t, err)
		for rows.Next() {
			var v []byte
			require.NoError(t, rows.Scan(&v))
			out = append(out, v)
		}
		require.NoError(t, rows.Err())
		return out
	}
	before := rawSecrets()
	require.Len(t, before, 7)

	// A new primary key with the old one kept as secondary still reads.
	newKey := newKey(t)
	rotated := openWith(t, b.dsn, newKey, b.key)
	n, err := rotated.GetNode(ctx, "pve1")
	require.NoError(t, err)
	require.Equal(t, tokenPlain, n.TokenSecret.Reveal())

	count, err := rotated.RotateSecrets(ctx)
	require.NoError(t, err)
	require.Equal(t, 7, count)
	after := rawSecrets()
	for _, a := range after {
		for _, bb := range before {
			require.False(t, bytes.Equal(a, bb), "a value was not re-sealed")
		}
	}
	count, err = rotated.RotateSecrets(ctx)
	require.NoError(t, err)
	require.Zero(t, count, "nothing left to rotate")

	// Once rotated, the new key alone opens everything.
	only := openWith(t, b.dsn, newKey)
	nodes, err := only.ListNodes(ctx)
	require.NoError(t, err)
	require.Len(t, nodes, 2)
	require.Equal(t, passwordPlain, nodes[0].SSHPassword.Reveal())
	require.True(t, nodes[1].SSHPassword.IsZero())
	creds, err := only.ListCredentials(ctx, c.ID, "app")
	require.NoError(t, err)
	require.Equal(t, credPlain, creds[0].Value.Reveal())

	// The old key alone no longer does, and says so without leaking anything.
	for _, call := range []func() error{
		func() error { _, err := old.GetNode(ctx, "pve1"); return err },
		func() error { _, err := old.ListNodes(ctx); return err },
		func() error { _, err := old.ListCredentials(ctx, c.ID, ""); return err },
		func() error { _, err := old.RotateSecrets(ctx); return err },
	} {
		err := call()
		require.ErrorIs(t, err, secret.ErrUnknownKey)
		for _, plain := range []string{tokenPlain, passwordPlain, keyPlain, credPlain} {
			require.NotContains(t, err.Error(), plain)
		}
	}
}

func TestWrongKeyringFailsWithoutLeaking(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, b := setup(t)
	require.NoError(t, db.CreateNode(ctx, testNode("pve1")))

	stranger := openWith(t, b.dsn, newKey(t))
	_, err := stranger.GetNode(ctx, "pve1")
	require.ErrorIs(t, err, secret.ErrUnknownKey)
	require.ErrorContains(t, err, "pve1")
	for _, plain := range []string{tokenPlain, passwordPlain, keyPlain} {
		require.NotContains(t, err.Error(), plain)
	}
	_, err = stranger.DefaultNode(ctx)
	require.ErrorIs(t, err, provision.ErrNotFound)
}
