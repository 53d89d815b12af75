package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
)

const fullFile = `
# every key of CONTRACT.md's example, plus settings that mirror variables
http_addr: 127.0.0.1:${HTTP_PORT:-8081}
log_level: warn
database_url: ${DB_URL}
redis_url_file: redis-url
admins: [slack:UADMIN, "discord:42"]
templates_dir: tpl
slack_bot_token: xoxb-from-file
nodes:
  - name: pve1
    api_url: https://10.0.0.5:8006/api2/json
    token_id: lxcbot@pve!bot
    token_secret: ${PVE1_TOKEN}          # ${VAR} is expanded from the environment
    tls_fingerprint: "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89"
    ssh: {addr: 10.0.0.5:22, user: root, password: ${PVE1_SSH}, host_key: "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"}
    default: true
  - name: pve2
    api_url: https://10.0.0.6:8006/api2/json
    token_id: lxcbot@pve!bot
    token_secret_file: pve2-token
    insecure_skip_verify: ${PVE2_INSECURE}
    ssh: {addr: 10.0.0.6, private_key_file: keys/pve2}
roles:
  admins: [slack:U0123]
  operators: [slack:U0456, discord:789]
  viewers: []
notifications:
  slack: {channel: C0123, events: [created, failed, deleted, lifecycle, drift, node]}
  discord: {channel: "1234567890"}
`

func TestFileIsReadAndExpanded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := writeFile(t, dir, "lxcbot.yaml", fullFile)
	writeFile(t, dir, "redis-url", "redis://cache:6379/1\n")
	writeFile(t, dir, "pve2-token", "pve2-secret\n")
	require.NoError(t, os.Mkdir(filepath.Join(dir, "keys"), 0o700))
	writeFile(t, dir, "keys/pve2", "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n")

	c, err := Load(envOf(map[string]string{
		EnvConfigFile:   path,
		"DB_URL":        "postgres://lxcbot:pw@db/lxcbot",
		"PVE1_TOKEN":    "pve1-secret",
		"PVE1_SSH":      "ssh-pw",
		"PVE2_INSECURE": "true",
	}))
	require.NoError(t, err)
	require.Equal(t, path, c.File)
	require.Equal(t, "127.0.0.1:8081", c.HTTPAddr, "${VAR:-default} takes the default")
	require.Equal(t, "postgres://lxcbot:pw@db/lxcbot", c.DatabaseURL.Reveal())
	require.Equal(t, "redis://cache:6379/1", c.RedisURL.Reveal(), "<key>_file is relative to the file")
	require.Equal(t, path, c.Source(EnvDatabaseURL))
	require.Equal(t, filepath.Join(dir, "tpl"), c.TemplatesDir)
	require.Equal(t, "xoxb-from-file", c.Slack.BotToken.Reveal())
	require.Len(t, c.Admins, 2)
	require.Equal(t, provision.Principal{Platform: provision.PlatformDiscord, UserID: "42"}, c.Admins[1])

	require.Len(t, c.Nodes, 2)
	n1, n2 := c.Nodes[0], c.Nodes[1]
	require.Equal(t, "pve1", n1.Name)
	require.Equal(t, "https://10.0.0.5:8006/api2/json", n1.APIURL)
	require.Equal(t, "lxcbot@pve!bot", n1.TokenID)
	require.Equal(t, "pve1-secret", n1.TokenSecret.Reveal())
	require.Equal(t, strings.Repeat("AB:CD:EF:01:23:45:67:89:", 4)[:95], n1.TLSFingerprint)
	require.Equal(t, SSH{Addr: "10.0.0.5:22", User: "root", Password: "ssh-pw", HostKey: "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"}, n1.SSH)
	require.True(t, n1.Default)
	require.Equal(t, "pve2-secret", n2.TokenSecret.Reveal())
	require.True(t, n2.InsecureSkipVerify, "an expanded plain scalar is typed afresh")
	require.Equal(t, "10.0.0.6:22", n2.SSH.Addr)
	require.Equal(t, "root", n2.SSH.User)
	require.Equal(t, filepath.Join(dir, "keys/pve2"), n2.SSH.PrivateKeyFile)
	require.Contains(t, n2.SSH.PrivateKey.Reveal(), "BEGIN OPENSSH PRIVATE KEY")

	def, ok := c.DefaultNode()
	require.True(t, ok)
	require.Equal(t, "pve1", def.Name)
	pn := n1.Provision()
	require.Equal(t, "10.0.0.5:22", pn.SSHAddr)
	require.True(t, pn.IsDefault)

	require.Equal(t, []provision.Principal{{Platform: provision.PlatformSlack, UserID: "U0123"}}, c.Roles.Admins)
	require.Len(t, c.Roles.Operators, 2)
	require.Empty(t, c.Roles.Viewers)
	require.Equal(t, &Notify{Channel: "C0123", Events: NotifyEvents()}, c.Notifications.Slack)
	require.Equal(t, &Notify{Channel: "1234567890", Events: NotifyEvents()}, c.Notifications.Discord, "no events means all")
}

func TestEnvironmentWinsOverFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := writeFile(t, dir, "c.yaml", "http_addr: :7000\nlog_format: text\ndatabase_url: postgres://file/db\nencryption_key: "+strings.Repeat("1", 64)+"\n")
	keyFile := writeFile(t, dir, "key", testKey)
	c, err := Load(envOf(map[string]string{
		EnvConfigFile:              path,
		EnvHTTPAddr:                ":9000",
		EnvDatabaseURL:             "postgres://env/db",
		EnvEncryptionKey + "_FILE": keyFile,
	}))
	require.NoError(t, err)
	require.Equal(t, ":9000", c.HTTPAddr)
	require.Equal(t, "postgres://env/db", c.DatabaseURL.Reveal())
	require.Equal(t, testKey, c.EncryptionKey.Reveal(), "NAME_FILE in the environment also beats the file")
	require.Equal(t, "text", string(c.LogFormat), "what the environment does not set comes from the file")
	require.Equal(t, "environment", c.Source(EnvHTTPAddr))
}

func TestEmptyFileSetsNothing(t *testing.T) {
	t.Parallel()
	for _, content := range []string{"", "# nothing\n", "---\n"} {
		path := writeFile(t, t.TempDir(), "c.yaml", content)
		c, err := Load(envOf(map[string]string{EnvConfigFile: path}))
		require.NoError(t, err, "%q", content)
		require.Equal(t, ":8080", c.HTTPAddr)
	}
}

func TestFileErrorsAreNamed(t *testing.T) {
	t.Parallel()
	const a = "nodes:\n  - {name: a, api_url: \"https://a:8006/api2/json\", token_id: u@pve!t, token_secret: s}\n"
	const b = `name: b, api_url: "https://b:8006/api2/json", token_id: u@pve!t, token_secret: s`
	node := func(fields string) string { return a + "  - {" + fields + "}\n" }
	cases := []struct {
		name, yaml, setting, want string
	}{
		{"syntax", "nodes: [\n", EnvConfigFile, "c.yaml: yaml: line"},
		{"not a mapping", "- a\n- b\n", EnvConfigFile, "must be a YAML mapping"},
		{"unknown top-level key", "databse_url: x\n", EnvConfigFile, `line 1: unknown key "databse_url"`},
		{"unknown nested key", "nodes:\n  - name: a\n    tokn_id: x\n", "nodes[0].tokn_id", "unknown key (line 3)"},
		{"unset variable", "database_url: ${NOPE}\n", EnvConfigFile, "line 1: ${NOPE}: environment variable NOPE is not set"},
		{"bad value from file", "slack_api_url: https://x/api\n", EnvSlackAPIURL, "must end with / (set as slack_api_url in "},
		{"list where a value belongs", "http_addr: [a]\n", EnvHTTPAddr, "must be a single value"},
		{"both inline and _file", "redis_url: redis://a\nredis_url_file: x\n", EnvRedisURL, "both redis_url and redis_url_file are set"},
		{"node api_url", node(strings.Replace(b, "https://b", "http://b", 1)), "nodes[1].api_url", "must be an https URL"},
		{"node name", "nodes:\n  - {name: \"pve 1\"}\n", "nodes[0].name", `"pve 1" is not a valid Proxmox node name`},
		{"node name missing", "nodes:\n  - {api_url: \"https://a\"}\n", "nodes[0].name", "is required"},
		{"duplicate node", node(strings.Replace(b, "name: b", "name: A", 1)), "nodes[1].name", `"A" is already the name of nodes[0]`},
		{"token id", node(strings.Replace(b, "u@pve!t", "root", 1)), "nodes[1].token_id", "user@pve!tokenname"},
		{"token secret missing", "nodes:\n  - {name: a, api_url: \"https://a\", token_id: u@pve!t}\n", "nodes[0].token_secret", "is required"},
		{"fingerprint", node(b + ", tls_fingerprint: AB:CD"), "nodes[1].tls_fingerprint", "32 hex bytes"},
		{"fingerprint and insecure", node(b + ", tls_fingerprint: AB:CD, insecure_skip_verify: true"), "nodes[1].insecure_skip_verify", "not both"},
		{"two defaults", strings.Replace(node(b+", default: true"), "token_secret: s}", "token_secret: s, default: true}", 1), "nodes[1].default", "nodes[0] already is"},
		{"ssh without auth", node(b + ", ssh: {addr: b}"), "nodes[1].ssh", "needs password, password_file or private_key_file"},
		{"ssh without addr", node(b + ", ssh: {password: p}"), "nodes[1].ssh.addr", "is required"},
		{"ssh bad addr", node(b + ", ssh: {addr: \"a b\", password: p}"), "nodes[1].ssh.addr", `"a b" is not host or host:port`},
		{"ssh host key", node(b + ", ssh: {addr: b, password: p, host_key: \"MD5:aa\"}"), "nodes[1].ssh.host_key", "SHA256:"},
		{"ssh key file missing", node(b + ", ssh: {addr: b, private_key_file: /nonexistent/key}"), "nodes[1].ssh.private_key_file", "no such file"},
		{"token secret file missing", "nodes:\n  - {name: a, api_url: \"https://a\", token_id: u@pve!t, token_secret_file: nope}\n", "nodes[0].token_secret_file", "no such file"},
		{"token secret twice", "nodes:\n  - {name: a, api_url: \"https://a\", token_id: u@pve!t, token_secret: s, token_secret_file: f}\n", "nodes[0].token_secret", "both token_secret and token_secret_file"},
		{"role", "roles:\n  operators: [slack:U1, U2]\n", "roles.operators[1]", `"U2" is not platform:userid`},
		{"event", "notifications:\n  slack: {channel: C1, events: [created, exploded]}\n", "notifications.slack.events[1]", `"exploded" is not one of created`},
		{"channel", "notifications:\n  slack: {events: [created]}\n", "notifications.slack.channel", "is required"},
		{"discord channel", "notifications:\n  discord: {channel: general}\n", "notifications.discord.channel", "not a Discord channel id"},
		{"type", "nodes:\n  - {name: a, default: maybe}\n", EnvConfigFile, "cannot unmarshal"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, t.TempDir(), "c.yaml", tc.yaml)
			_, err := Load(envOf(map[string]string{EnvConfigFile: path}))
			requireConfigError(t, err, tc.setting, tc.want)
		})
	}
}

func TestMissingConfigFileIsNamed(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "absent.yaml")
	_, err := Load(envOf(map[string]string{EnvConfigFile: path}))
	requireConfigError(t, err, EnvConfigFile, "reading "+path+": no such file or directory")
}
