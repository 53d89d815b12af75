package app

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/secret"
	"github.com/lxcbot/lxcbot/internal/store"
	"github.com/lxcbot/lxcbot/internal/testenv"
)

// TestBotReadsSecretsSealedWithAPreviousKey: after a key rotation the running
// bot (not only `lxcbot keys rotate`) opens values sealed with the old key.
func TestBotReadsSecretsSealedWithAPreviousKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testenv.PostgresDSN(t)
	oldKey, err := secret.GenerateKey()
	require.NoError(t, err)
	oldRing, err := secret.NewKeyring(oldKey)
	require.NoError(t, err)
	db, err := store.Open(ctx, dsn, oldRing, nil)
	require.NoError(t, err)
	require.NoError(t, db.CreateNode(ctx, &provision.Node{Name: "old", APIURL: "https://10.0.0.9:8006/api2/json",
		TokenID: "lxcbot@pve!bot", TokenSecret: "sealed-with-the-old-key"}))
	db.Close()

	newKey, err := secret.GenerateKey()
	require.NoError(t, err)
	env := map[string]string{config.EnvDatabaseURL: dsn, config.EnvRedisURL: "redis://" + testenv.RedisAddr(t),
		config.EnvEncryptionKey: newKey.Hex().Reveal(), config.EnvPreviousKeys: oldKey.Hex().Reveal()}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)
	a, err := New(ctx, Options{Config: cfg, Fast: true, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	defer a.Close()
	n, err := a.Store().GetNode(ctx, "old")
	require.NoError(t, err)
	require.Equal(t, "sealed-with-the-old-key", n.TokenSecret.Reveal())
}
