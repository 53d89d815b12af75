package config

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/secret"
)

func TestKeyringOpensWithPreviousKeysAndSealsWithTheNewOne(t *testing.T) {
	t.Parallel()
	oldKey, _ := secret.GenerateKey()
	other, _ := secret.GenerateKey()
	newKey, _ := secret.GenerateKey()
	oldRing, err := secret.NewKeyring(oldKey)
	require.NoError(t, err)
	sealed, err := oldRing.SealString("s3cret", "ctx")
	require.NoError(t, err)

	c, err := Load(envOf(map[string]string{
		EnvEncryptionKey: newKey.Hex().Reveal(),
		EnvPreviousKeys:  other.Hex().Reveal() + "," + oldKey.Hex().Reveal(),
	}))
	require.NoError(t, err)
	kr, err := c.Keyring()
	require.NoError(t, err)
	got, err := kr.OpenString(sealed, "ctx")
	require.NoError(t, err)
	require.Equal(t, "s3cret", got.Reveal())
	fresh, err := kr.SealString("s3cret", "ctx")
	require.NoError(t, err)
	require.False(t, kr.NeedsRotation(fresh))
	require.True(t, kr.NeedsRotation(sealed))

	_, err = Load(envOf(map[string]string{EnvEncryptionKey: newKey.Hex().Reveal(), EnvPreviousKeys: "nothex"}))
	require.ErrorContains(t, err, EnvPreviousKeys)
	require.NotContains(t, err.Error(), newKey.Hex().Reveal())
}
