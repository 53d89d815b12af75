package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSecretsNeverShown sets every secret to a recognisable value and checks
// that no way of printing, marshalling or logging a Config discloses one.
func TestSecretsNeverShown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "key.pem", "-----BEGIN KEY-----\nLEAK-ssh-private-key\n-----END KEY-----\n")
	path := writeFile(t, dir, "c.yaml", `
nodes:
  - name: pve1
    api_url: https://10.0.0.5:8006/api2/json
    token_id: lxcbot@pve!bot
    token_secret: ${PVE_TOKEN}
    ssh: {addr: 10.0.0.5, password: ${PVE_SSH}, private_key_file: key.pem}
`)
	env := map[string]string{
		EnvConfigFile:         path,
		EnvDatabaseURL:        "postgres://lxcbot:LEAK-db-password@db/lxcbot",
		EnvRedisURL:           "redis://:LEAK-redis-password@redis:6379/0",
		EnvEncryptionKey:      strings.Repeat("ab", 32),
		EnvSlackBotToken:      "xoxb-LEAK-slack-bot",
		EnvSlackSigningSecret: "LEAK-slack-signing",
		EnvSlackAppToken:      "xapp-LEAK-slack-app",
		EnvDiscordBotToken:    "LEAK-discord-bot",
		EnvDiscordAppID:       "123",
		"PVE_TOKEN":           "LEAK-pve-token",
		"PVE_SSH":             "LEAK-pve-ssh",
	}
	c, err := Load(envOf(env))
	require.NoError(t, err)
	// The values really are loaded: the scan below would pass vacuously otherwise.
	require.Equal(t, "LEAK-pve-token", c.Nodes[0].TokenSecret.Reveal())
	require.Contains(t, c.Nodes[0].SSH.PrivateKey.Reveal(), "LEAK-ssh-private-key")

	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		outputs = append(outputs, fmt.Sprintf(verb, c), fmt.Sprintf(verb, *c))
	}
	for _, v := range []any{c, *c} {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		outputs = append(outputs, string(b))
	}
	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&logs, nil), slog.NewTextHandler(&logs, nil)} {
		log := slog.New(h)
		log.Info("config", "config", c, "value", *c, "nodes", c.Nodes, "slack", c.Slack)
		log.Info("config", slog.Any("config", c))
	}
	outputs = append(outputs, logs.String())

	secrets := []string{"LEAK", strings.Repeat("ab", 32)}
	for _, out := range outputs {
		for _, s := range secrets {
			require.NotContains(t, out, s)
		}
	}
	require.Contains(t, logs.String(), `"encryption_key":"set"`, "the summary says which secrets are set")
}

// TestErrorsNeverQuoteSecrets feeds malformed secrets; the errors name the
// setting but not the value.
func TestErrorsNeverQuoteSecrets(t *testing.T) {
	t.Parallel()
	for name, value := range map[string]string{
		EnvDatabaseURL:   "mysql://u:LEAK-pw@h/db",
		EnvRedisURL:      "http://:LEAK-pw@h",
		EnvEncryptionKey: "LEAK-not-hex-LEAK-not-hex-LEAK-not-hex-LEAK-not-hex-LEAK-not-hex",
		EnvSlackBotToken: "LEAK-no-prefix",
		EnvSlackAppToken: "LEAK-no-prefix",
	} {
		_, err := Load(envOf(map[string]string{name: value}))
		requireConfigError(t, err, name, "")
		require.NotContains(t, err.Error(), "LEAK")
	}
	// A URL that url.Parse rejects: its error would quote the whole URL.
	_, err := Load(envOf(map[string]string{EnvDatabaseURL: "postgres://u:LEAK-pw@h:port/db\x7f"}))
	requireConfigError(t, err, EnvDatabaseURL, "is not a valid URL")
	require.NotContains(t, err.Error(), "LEAK")

	// Secrets read through a file variable.
	p := filepath.Join(t.TempDir(), "tok")
	require.NoError(t, os.WriteFile(p, []byte("LEAK-file-token\n"), 0o600))
	_, err = Load(envOf(map[string]string{EnvSlackBotToken + "_FILE": p}))
	requireConfigError(t, err, EnvSlackBotToken, "xoxb-")
	require.NotContains(t, err.Error(), "LEAK")
}
