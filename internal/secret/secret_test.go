package secret_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/secret"
)

const plain = "hunter2-very-secret"

func TestStringNeverPrintsItsValue(t *testing.T) {
	t.Parallel()
	s := secret.String(plain)
	type wrapper struct {
		Token secret.String
		Name  string
	}
	w := wrapper{Token: s, Name: "x"}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%10s"} {
		outputs = append(outputs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, w), fmt.Sprintf(verb, &w))
	}
	outputs = append(outputs, s.String(), fmt.Sprint(s), fmt.Sprintln(s))
	j, err := json.Marshal(w)
	require.NoError(t, err)
	outputs = append(outputs, string(j))
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "token", s, "w", w)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("m", "token", s, "w", w)
	outputs = append(outputs, buf.String())
	for _, o := range outputs {
		require.NotContains(t, o, plain)
	}
	require.Contains(t, fmt.Sprint(s), secret.Redacted)
	require.Equal(t, plain, s.Reveal())
	require.Equal(t, "", secret.String("").String())
}

func mustKey(t *testing.T) secret.Key {
	t.Helper()
	k, err := secret.GenerateKey()
	require.NoError(t, err)
	return k
}

func TestKeyringRoundTrip(t *testing.T) {
	t.Parallel()
	kr, err := secret.NewKeyring(mustKey(t))
	require.NoError(t, err)
	sealed, err := kr.SealString(plain, "node:pve1:token")
	require.NoError(t, err)
	require.False(t, bytes.Contains(sealed, []byte(plain)))
	got, err := kr.OpenString(sealed, "node:pve1:token")
	require.NoError(t, err)
	require.Equal(t, plain, got.Reveal())

	again, err := kr.SealString(plain, "node:pve1:token")
	require.NoError(t, err)
	require.NotEqual(t, sealed, again, "a fresh nonce every time")
}

func TestKeyringRejectsTamperingAndWrongContext(t *testing.T) {
	t.Parallel()
	kr, err := secret.NewKeyring(mustKey(t))
	require.NoError(t, err)
	sealed, err := kr.SealString(plain, "ctx")
	require.NoError(t, err)
	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x01
		_, err := kr.Open(bad, []byte("ctx"))
		require.Error(t, err, "byte %d flipped", i)
		require.NotContains(t, err.Error(), plain)
	}
	_, err = kr.Open(sealed, []byte("other ctx"))
	require.ErrorIs(t, err, secret.ErrCorrupt)
	_, err = kr.Open(sealed[:10], []byte("ctx"))
	require.ErrorIs(t, err, secret.ErrCorrupt)
}

func TestKeyringRejectsWrongKey(t *testing.T) {
	t.Parallel()
	a, err := secret.NewKeyring(mustKey(t))
	require.NoError(t, err)
	b, err := secret.NewKeyring(mustKey(t))
	require.NoError(t, err)
	sealed, err := a.SealString(plain, "ctx")
	require.NoError(t, err)
	_, err = b.OpenString(sealed, "ctx")
	require.True(t, errors.Is(err, secret.ErrUnknownKey))
	require.NotContains(t, err.Error(), plain)
}

func TestKeyringRotation(t *testing.T) {
	t.Parallel()
	oldKey, newKey := mustKey(t), mustKey(t)
	oldRing, err := secret.NewKeyring(oldKey)
	require.NoError(t, err)
	sealedOld, err := oldRing.SealString(plain, "ctx")
	require.NoError(t, err)

	rotated, err := secret.NewKeyring(newKey, oldKey)
	require.NoError(t, err)
	require.True(t, rotated.NeedsRotation(sealedOld))
	got, err := rotated.OpenString(sealedOld, "ctx")
	require.NoError(t, err, "old key still decrypts")
	require.Equal(t, plain, got.Reveal())

	sealedNew, err := rotated.SealString(plain, "ctx")
	require.NoError(t, err)
	require.False(t, rotated.NeedsRotation(sealedNew), "new writes use the new key")
	_, err = oldRing.OpenString(sealedNew, "ctx")
	require.ErrorIs(t, err, secret.ErrUnknownKey)
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	k := mustKey(t)
	parsed, err := secret.ParseKey(k.Hex().Reveal())
	require.NoError(t, err)
	require.Equal(t, k, parsed)
	require.Equal(t, k.ID(), parsed.ID())
	for _, bad := range []string{"", "abc", strings.Repeat("z", 64), strings.Repeat("a", 63)} {
		_, err := secret.ParseKey(bad)
		require.Error(t, err)
	}
	require.NotContains(t, fmt.Sprintf("%v %+v %#v %s", k, k, k, k), k.Hex().Reveal())
}
