package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/provision/catalog"
	"github.com/lxcbot/lxcbot/internal/secret"
	"github.com/lxcbot/lxcbot/internal/store"
	"github.com/lxcbot/lxcbot/internal/testenv"
)

func TestTemplatesSyncAndExportRoundTrip(t *testing.T) {
	t.Parallel()
	env := map[string]string{config.EnvDatabaseURL: testenv.PostgresDSN(t), config.EnvEncryptionKey: testKey}
	examples := filepath.Join("..", "..", "examples", "templates")

	res := run(t, env, "templates", "sync", examples)
	require.Equal(t, ExitOK, res.code, res.stderr)
	for _, name := range []string{"code-server", "nginx-web", "postgres-db"} {
		require.Contains(t, res.stdout, "imported "+name)
	}
	require.Contains(t, res.stdout, "3 imported, 0 failed")

	// Idempotent: a second sync changes nothing and still succeeds.
	again := run(t, env, "templates", "sync", examples)
	require.Equal(t, ExitOK, again.code, again.stderr)

	out := t.TempDir()
	res = run(t, env, "templates", "export", "postgres-db", out)
	require.Equal(t, ExitOK, res.code, res.stderr)
	orig, err := catalog.LoadDir(filepath.Join(examples, "postgres-db"))
	require.NoError(t, err)
	back, err := catalog.LoadDir(filepath.Join(out, "postgres-db"))
	require.NoError(t, err)
	require.Equal(t, orig.Template.Cores, back.Template.Cores)
	require.Equal(t, orig.Template.Unprivileged, back.Template.Unprivileged)
	require.Len(t, back.Template.Scripts, len(orig.Template.Scripts))
	require.Equal(t, orig.Template.Scripts[0].Body, back.Template.Scripts[0].Body)

	res = run(t, env, "templates", "export", "no-such-template", out)
	require.Equal(t, ExitFailure, res.code)
	require.Contains(t, res.stderr, "no-such-template")

	res = run(t, env, "templates", "frobnicate")
	require.Equal(t, ExitUsage, res.code)
}

func TestKeysRotateReSealsWithTheNewKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testenv.PostgresDSN(t)
	oldKey, err := secret.ParseKey(testKey)
	require.NoError(t, err)
	oldRing, err := secret.NewKeyring(oldKey)
	require.NoError(t, err)
	db, err := store.Open(ctx, dsn, oldRing, nil)
	require.NoError(t, err)
	require.NoError(t, db.CreateNode(ctx, &provision.Node{Name: "pve1", APIURL: "https://10.0.0.5:8006/api2/json",
		TokenID: "lxcbot@pve!bot", TokenSecret: "token-secret-value", SSHAddr: "10.0.0.5:22", SSHUser: "root",
		SSHPassword: "ssh-password-value"}))
	db.Close()

	newKey, err := secret.GenerateKey()
	require.NoError(t, err)
	env := map[string]string{config.EnvDatabaseURL: dsn, config.EnvEncryptionKey: newKey.Hex().Reveal(),
		config.EnvPreviousKeys: testKey}
	res := run(t, env, "keys", "rotate")
	require.Equal(t, ExitOK, res.code, res.stderr)
	require.Contains(t, res.stdout, "re-sealed")
	require.False(t, strings.Contains(res.stdout+res.stderr, "token-secret-value"))

	// The new key alone now opens everything.
	newRing, err := secret.NewKeyring(newKey)
	require.NoError(t, err)
	db, err = store.Open(ctx, dsn, newRing, nil)
	require.NoError(t, err)
	defer db.Close()
	n, err := db.GetNode(ctx, "pve1")
	require.NoError(t, err)
	require.Equal(t, "token-secret-value", n.TokenSecret.Reveal())
	require.Equal(t, "ssh-password-value", n.SSHPassword.Reveal())
}
