package config

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/logging"
	"github.com/lxcbot/lxcbot/internal/provision"
)

const testKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// requireConfigError asserts err is a *Error for setting whose message
// contains want.
func requireConfigError(t *testing.T, err error, setting, want string) {
	t.Helper()
	require.Error(t, err)
	var ce *Error
	require.ErrorAs(t, err, &ce)
	require.Equal(t, setting, ce.Setting, "error: %v", err)
	require.Contains(t, err.Error(), want)
	require.True(t, strings.HasPrefix(err.Error(), setting+": "), err.Error())
	require.NotContains(t, err.Error(), "\n")
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(envOf(nil))
	require.NoError(t, err)
	require.Equal(t, ":8080", c.HTTPAddr)
	require.Equal(t, slog.LevelInfo, c.LogLevel)
	require.Equal(t, logging.FormatJSON, c.LogFormat)
	require.Equal(t, "https://slack.com/api/", c.Slack.APIURL)
	require.Equal(t, "https://discord.com/api/v10/", c.Discord.APIURL)
	require.True(t, c.Discord.Gateway)
	require.False(t, c.SlackEnabled())
	require.False(t, c.DiscordEnabled())
	require.Empty(t, c.Nodes)
	require.Equal(t, "default", c.Source(EnvHTTPAddr))
	require.Equal(t, "", c.Source(EnvDatabaseURL))
	require.NoError(t, c.Require(EnvHTTPAddr, EnvLogLevel))
}

func TestRequireNamesTheMissingSetting(t *testing.T) {
	t.Parallel()
	full := map[string]string{
		EnvDatabaseURL:   "postgres://lxcbot@db/lxcbot",
		EnvRedisURL:      "redis://redis:6379/0",
		EnvEncryptionKey: testKey,
	}
	for _, missing := range []string{EnvDatabaseURL, EnvRedisURL, EnvEncryptionKey} {
		t.Run(missing, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			for k, v := range full {
				if k != missing {
					env[k] = v
				}
			}
			c, err := Load(envOf(env))
			require.NoError(t, err)
			err = c.Require(EnvDatabaseURL, EnvRedisURL, EnvEncryptionKey)
			requireConfigError(t, err, missing, "required but not set")
			require.True(t, IsConfigError(fmt.Errorf("starting: %w", err)))
		})
	}
	c, err := Load(envOf(full))
	require.NoError(t, err)
	require.NoError(t, c.Require(EnvDatabaseURL, EnvRedisURL, EnvEncryptionKey))
	k, err := c.Key()
	require.NoError(t, err)
	require.Equal(t, testKey, k.Hex().Reveal())
}

func TestEmptyVariableCountsAsUnset(t *testing.T) {
	t.Parallel()
	c, err := Load(envOf(map[string]string{EnvDatabaseURL: "", EnvHTTPAddr: ""}))
	require.NoError(t, err)
	require.Equal(t, ":8080", c.HTTPAddr)
	requireConfigError(t, c.Require(EnvDatabaseURL), EnvDatabaseURL, "required")
}

func TestBadValuesAreNamed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, value, want string
	}{
		{EnvEncryptionKey, "abc", "must be 64 hex characters"},
		{EnvEncryptionKey, strings.Repeat("zz", 32), "must be 64 hex characters"},
		{EnvAdmins, "slackU1", `"slackU1" is not platform:userid`},
		{EnvAdmins, "slack:U1, teams:U2", `"teams:U2": platform must be slack, discord or console`},
		{EnvSlackAPIURL, "https://slack.example/api", "must end with /"},
		{EnvSlackAPIURL, "slack.example/api/", "is not an absolute http(s) URL"},
		{EnvDiscordAPIURL, "http://127.0.0.1:1/api/v10", "must end with /"},
		{EnvLogLevel, "verbose", `"verbose" is not one of debug, info, warn, error`},
		{EnvLogFormat, "xml", `"xml" is not one of json, text`},
		{EnvHTTPAddr, "8080", `"8080" is not host:port`},
		{EnvHTTPAddr, ":http-alt", "has no valid port number"},
		{EnvDatabaseURL, "mysql://u:p@h/db", "must be a postgres:// or postgresql:// URL"},
		{EnvDatabaseURL, "just-a-word", "key=value connection string"},
		{EnvRedisURL, "http://redis:6379", "must be a redis://, rediss://, unix://, redis+sentinel:// or redis+cluster:// URL"},
		{EnvRedisURL, "redis+sentinel://s1:26379/0", "master_name"},
		{EnvRedisURL, "redis://", "has no host"},
		{EnvSlackBotToken, "xoxp-user-token", "must be a Slack bot token (starting with xoxb-)"},
		{EnvSlackAppToken, "xoxb-1", "must be a Slack app-level token (starting with xapp-)"},
		{EnvDiscordAppID, "my-app", `"my-app" is not a Discord id`},
		{EnvDiscordGuildID, "12ab", `"12ab" is not a Discord id`},
		{EnvDiscordGateway, "sometimes", `"sometimes" is not true or false`},
		{EnvDiscordPublicKey, "abcd", "64 hex characters"},
	}
	for _, tc := range cases {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			t.Parallel()
			_, err := Load(envOf(map[string]string{tc.name: tc.value}))
			requireConfigError(t, err, tc.name, tc.want)
		})
	}
}

func TestGoodValuesAreParsed(t *testing.T) {
	t.Parallel()
	c, err := Load(envOf(map[string]string{
		EnvAdmins:             " slack:U0123, discord:4567 ,",
		EnvLogLevel:           "DEBUG",
		EnvLogFormat:          "text",
		EnvHTTPAddr:           "127.0.0.1:9000",
		EnvDatabaseURL:        "host=/run/pg dbname=lxcbot",
		EnvRedisURL:           "unix:///run/redis.sock",
		EnvSlackBotToken:      "xoxb-1",
		EnvSlackSigningSecret: "s",
		EnvSlackAppToken:      "xapp-1",
		EnvSlackAPIURL:        "http://127.0.0.1:4000/api/",
		EnvDiscordBotToken:    "tok",
		EnvDiscordAppID:       "1234",
		EnvDiscordGateway:     "false",
		EnvDiscordPublicKey:   strings.Repeat("AB", 32),
		EnvDiscordGuildID:     "99",
		EnvTemplatesDir:       "templates",
	}))
	require.NoError(t, err)
	require.Equal(t, []provision.Principal{
		{Platform: provision.PlatformSlack, UserID: "U0123"},
		{Platform: provision.PlatformDiscord, UserID: "4567"},
	}, c.Admins)
	require.Equal(t, slog.LevelDebug, c.LogLevel)
	require.Equal(t, logging.FormatText, c.LogFormat)
	require.Equal(t, "127.0.0.1:9000", c.HTTPAddr)
	require.True(t, c.SlackEnabled())
	require.True(t, c.DiscordEnabled())
	require.False(t, c.Discord.Gateway)
	require.Equal(t, strings.Repeat("ab", 32), c.Discord.PublicKey)
	require.Equal(t, "templates", c.TemplatesDir, "relative paths from the environment are kept as given")
	require.Equal(t, "environment", c.Source(EnvSlackBotToken))
}

func TestPlatformSettingsThatNeedEachOther(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env           map[string]string
		setting, want string
	}{
		{map[string]string{EnvSlackSigningSecret: "s"}, EnvSlackSigningSecret, "SLACK_BOT_TOKEN is not"},
		{map[string]string{EnvSlackAppToken: "xapp-1"}, EnvSlackAppToken, "SLACK_BOT_TOKEN is not"},
		{map[string]string{EnvDiscordBotToken: "t"}, EnvDiscordBotToken, "DISCORD_APP_ID is not"},
		{map[string]string{EnvDiscordAppID: "1"}, EnvDiscordAppID, "DISCORD_BOT_TOKEN is not"},
	} {
		_, err := Load(envOf(tc.env))
		requireConfigError(t, err, tc.setting, tc.want)
	}
}

func TestSecretFromFileVariable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyFile := writeFile(t, dir, "key", testKey+"\n")
	tokFile := writeFile(t, dir, "tok", "xoxb-from-file\r\n")

	c, err := Load(envOf(map[string]string{
		EnvEncryptionKey + "_FILE": keyFile,
		EnvSlackBotToken + "_FILE": tokFile,
	}))
	require.NoError(t, err)
	require.Equal(t, testKey, c.EncryptionKey.Reveal())
	require.Equal(t, "xoxb-from-file", c.Slack.BotToken.Reveal())
	require.Equal(t, "LXCBOT_ENCRYPTION_KEY_FILE", c.Source(EnvEncryptionKey))

	t.Run("both set names both", func(t *testing.T) {
		t.Parallel()
		_, err := Load(envOf(map[string]string{EnvEncryptionKey: testKey, EnvEncryptionKey + "_FILE": keyFile}))
		requireConfigError(t, err, EnvEncryptionKey, "both LXCBOT_ENCRYPTION_KEY and LXCBOT_ENCRYPTION_KEY_FILE are set")
	})
	t.Run("unreadable names the _FILE variable", func(t *testing.T) {
		t.Parallel()
		missing := filepath.Join(dir, "missing")
		_, err := Load(envOf(map[string]string{EnvDatabaseURL + "_FILE": missing}))
		requireConfigError(t, err, "DATABASE_URL_FILE", "reading "+missing+": no such file or directory")
	})
	t.Run("empty file", func(t *testing.T) {
		t.Parallel()
		empty := writeFile(t, t.TempDir(), "empty", "\n")
		_, err := Load(envOf(map[string]string{EnvRedisURL + "_FILE": empty}))
		requireConfigError(t, err, "REDIS_URL_FILE", "is empty")
	})
	t.Run("bad content names the setting, not the content", func(t *testing.T) {
		t.Parallel()
		bad := writeFile(t, t.TempDir(), "key", "not-a-key-SECRETVALUE\n")
		_, err := Load(envOf(map[string]string{EnvEncryptionKey + "_FILE": bad}))
		requireConfigError(t, err, EnvEncryptionKey, "must be 64 hex characters")
		require.NotContains(t, err.Error(), "SECRETVALUE")
	})
	t.Run("non-secrets have no _FILE variant", func(t *testing.T) {
		t.Parallel()
		c, err := Load(envOf(map[string]string{EnvHTTPAddr + "_FILE": keyFile}))
		require.NoError(t, err)
		require.Equal(t, ":8080", c.HTTPAddr)
	})
}
