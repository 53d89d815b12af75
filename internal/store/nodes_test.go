package store_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/secret"
)

const (
	tokenPlain    = "tok-3f8e-very-secret-token"
	passwordPlain = "ssh-pass-w0rd-never-shown"
	keyPlain      = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA-secret\n-----END OPENSSH PRIVATE KEY-----\n"
)

func testNode(name string) *provision.Node {
	return &provision.Node{
		Name:           name,
		APIURL:         "https://10.0.0.5:8006/api2/json",
		TokenID:        "bot@pve!lxcbot",
		TokenSecret:    tokenPlain,
		TLSFingerprint: "AB:CD",
		SSHAddr:        "10.0.0.5:22",
		SSHUser:        "root",
		SSHPassword:    passwordPlain,
		SSHPrivateKey:  keyPlain,
		SSHHostKey:     "SHA256:abc",
	}
}

func TestNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("CreateGetUpdateDelete", func(t *testing.T) {
		t.Parallel()
		db, _ := setup(t)
		n := testNode("pve1")
		require.NoError(t, db.CreateNode(ctx, n))
		require.NotZero(t, n.ID)

		got, err := db.GetNode(ctx, "pve1")
		require.NoError(t, err)
		require.Equal(t, tokenPlain, got.TokenSecret.Reveal())
		require.Equal(t, passwordPlain, got.SSHPassword.Reveal())
		require.Equal(t, keyPlain, got.SSHPrivateKey.Reveal())
		require.Equal(t, "SHA256:abc", got.SSHHostKey)
		require.Equal(t, "AB:CD", got.TLSFingerprint)

		require.ErrorIs(t, db.CreateNode(ctx, testNode("pve1")), provision.ErrConflict)

		got.SSHPassword = ""
		got.InsecureSkipVerify = true
		require.NoError(t, db.UpdateNode(ctx, &got))
		got2, err := db.GetNode(ctx, "pve1")
		require.NoError(t, err)
		require.True(t, got2.SSHPassword.IsZero())
		require.True(t, got2.InsecureSkipVerify)
		require.Equal(t, tokenPlain, got2.TokenSecret.Reveal())

		require.ErrorIs(t, db.UpdateNode(ctx, testNode("nope")), provision.ErrNotFound)
		_, err = db.GetNode(ctx, "nope")
		require.ErrorIs(t, err, provision.ErrNotFound)

		require.NoError(t, db.DeleteNode(ctx, "pve1"))
		require.ErrorIs(t, db.DeleteNode(ctx, "pve1"), provision.ErrNotFound)
		list, err := db.ListNodes(ctx)
		require.NoError(t, err)
		require.Empty(t, list)
	})

	t.Run("UpsertAppliesConfigFileNodes", func(t *testing.T) {
		t.Parallel()
		db, _ := setup(t)
		n := testNode("pve1")
		require.NoError(t, db.UpsertNode(ctx, n))
		n2 := testNode("pve1")
		n2.TokenSecret = "rotated-token"
		n2.SSHAddr = "10.0.0.6:22"
		require.NoError(t, db.UpsertNode(ctx, n2))
		require.Equal(t, n.ID, n2.ID)
		got, err := db.GetNode(ctx, "pve1")
		require.NoError(t, err)
		require.Equal(t, "rotated-token", got.TokenSecret.Reveal())
		require.Equal(t, "10.0.0.6:22", got.SSHAddr)
	})

	t.Run("ExactlyOneDefault", func(t *testing.T) {
		t.Parallel()
		db, b := setup(t)
		_, err := db.DefaultNode(ctx)
		require.ErrorIs(t, err, provision.ErrNotFound)

		a := testNode("a")
		a.IsDefault = true
		require.NoError(t, db.CreateNode(ctx, a))
		c := testNode("c")
		c.IsDefault = true
		require.NoError(t, db.CreateNode(ctx, c), "a new default replaces the old one")
		require.NoError(t, db.CreateNode(ctx, testNode("b")))

		def, err := db.DefaultNode(ctx)
		require.NoError(t, err)
		require.Equal(t, "c", def.Name)

		require.NoError(t, db.SetDefaultNode(ctx, "b"))
		require.ErrorIs(t, db.SetDefaultNode(ctx, "missing"), provision.ErrNotFound)
		def, err = db.DefaultNode(ctx)
		require.NoError(t, err)
		require.Equal(t, "b", def.Name, "a failed SetDefaultNode keeps the previous default")

		list, err := db.ListNodes(ctx)
		require.NoError(t, err)
		require.Len(t, list, 3)
		defaults := 0
		for _, n := range list {
			if n.IsDefault {
				defaults++
			}
			require.Equal(t, tokenPlain, n.TokenSecret.Reveal())
		}
		require.Equal(t, 1, defaults)
		require.Equal(t, []string{"a", "b", "c"}, []string{list[0].Name, list[1].Name, list[2].Name})

		// The schema itself refuses a second default.
		_, err = b.raw.Exec(ctx, `UPDATE nodes SET is_default = true`)
		require.ErrorContains(t, err, "nodes_one_default")
	})

	t.Run("DeleteRefusedWhileContainersLive", func(t *testing.T) {
		t.Parallel()
		db, _ := setup(t)
		require.NoError(t, db.CreateNode(ctx, testNode("pve1")))
		c := newContainer(t, db, "web01")
		require.NoError(t, db.SetContainerPlacement(ctx, c.ID, "pve1", 104))
		require.ErrorIs(t, db.DeleteNode(ctx, "pve1"), provision.ErrConflict)
		require.NoError(t, db.TransitionContainer(ctx, c.ID, []provision.State{provision.StatePending}, provision.StateCancelled))
		require.NoError(t, db.DeleteNode(ctx, "pve1"))
	})

	t.Run("SecretsSealedAtRest", func(t *testing.T) {
		t.Parallel()
		db, b := setup(t)
		require.NoError(t, db.CreateNode(ctx, testNode("pve1")))
		require.NoError(t, db.CreateNode(ctx, testNode("pve2")))
		var token, password, key []byte
		require.NoError(t, b.raw.QueryRow(ctx, `SELECT token_secret, ssh_password, ssh_private_key FROM nodes WHERE name = 'pve1'`).
			Scan(&token, &password, &key))
		for _, col := range [][]byte{token, password, key} {
			require.NotEmpty(t, col)
			for _, plain := range []string{tokenPlain, passwordPlain, keyPlain, "secret"} {
				require.False(t, bytes.Contains(col, []byte(plain)), "plaintext stored in a sealed column")
			}
		}

		// A ciphertext copied to another node (or field) does not open there.
		_, err := b.raw.Exec(ctx, `UPDATE nodes SET token_secret = $1 WHERE name = 'pve2'`, token)
		require.NoError(t, err)
		_, err = db.GetNode(ctx, "pve2")
		require.ErrorIs(t, err, secret.ErrCorrupt)
		_, err = b.raw.Exec(ctx, `UPDATE nodes SET ssh_password = $1 WHERE name = 'pve1'`, token)
		require.NoError(t, err)
		_, err = db.GetNode(ctx, "pve1")
		require.ErrorIs(t, err, secret.ErrCorrupt)
	})
}
