package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

const testKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

type result struct {
	code           int
	stdout, stderr string
}

// run runs the binary in-process with exactly the environment in env.
func run(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(""), &stdout, &stderr, func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	return result{code, stdout.String(), stderr.String()}
}

func TestVersionPrintsVersionCommitAndGo(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := run(t, nil, args...)
		require.Equal(t, ExitOK, r.code, r.stderr)
		require.Contains(t, r.stdout, "version: dev\n")
		require.Regexp(t, `(?m)^commit:  \S+$`, r.stdout)
		require.Contains(t, r.stdout, "go:      "+runtime.Version()+"\n")
		require.Empty(t, r.stderr)
	}
}

func TestVersionIgnoresBrokenConfiguration(t *testing.T) {
	t.Parallel()
	r := run(t, map[string]string{config.EnvEncryptionKey: "short", config.EnvConfigFile: "/nonexistent.yaml"}, "version")
	require.Equal(t, ExitOK, r.code, r.stderr)
}

func TestUsageErrorsExit2(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		want string
	}{
		{nil, "usage: lxcbot <command>"},
		{[]string{"frobnicate"}, `lxcbot: unknown command "frobnicate"`},
		{[]string{"version", "--bogus"}, "lxcbot version: flag provided but not defined: -bogus"},
		{[]string{"version", "extra"}, "lxcbot version: version takes no arguments"},
		{[]string{"help", "frobnicate"}, `lxcbot help: unknown command "frobnicate"`},
		{[]string{"migrate", "sideways"}, `lxcbot migrate: unknown action "sideways"`},
		{[]string{"migrate", "up", "--to", "0"}, "--to only applies to down"},
		{[]string{"migrate", "--to", "x"}, `invalid value "x" for flag -to`},
		{[]string{"migrate", "up", "down"}, "expected one action, got 2 arguments"},
	}
	env := map[string]string{config.EnvDatabaseURL: "postgres://127.0.0.1:1/x"}
	for _, tc := range cases {
		r := run(t, env, tc.args...)
		require.Equal(t, ExitUsage, r.code, "%v: %s", tc.args, r.stderr)
		require.Contains(t, r.stderr, tc.want, tc.args)
		require.Contains(t, r.stderr, "usage: lxcbot", tc.args)
		require.Empty(t, r.stdout, tc.args)
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	r := run(t, nil, "help")
	require.Equal(t, ExitOK, r.code)
	for _, c := range commands() {
		require.Contains(t, r.stdout, "  "+c.Name+" ")
	}
	for _, args := range [][]string{{"help", "migrate"}, {"migrate", "-h"}, {"migrate", "--help"}} {
		r = run(t, nil, args...)
		require.Equal(t, ExitOK, r.code, args)
		require.Contains(t, r.stdout, "usage: lxcbot migrate [up|down|status]", args)
		require.Contains(t, r.stdout, "-to int", args)
		require.Contains(t, r.stdout, "needs: DATABASE_URL", args)
	}
}

// A complete environment for every setting any command needs.
func fullEnv() map[string]string {
	return map[string]string{
		config.EnvDatabaseURL:     "postgres://lxcbot@127.0.0.1:1/lxcbot",
		config.EnvRedisURL:        "redis://127.0.0.1:1/0",
		config.EnvEncryptionKey:   testKey,
		config.EnvDiscordBotToken: "discord-bot-token-for-tests",
		config.EnvDiscordAppID:    "123456789012345678",
	}
}

// TestEachMissingSettingExits2 walks the command table, so commands added
// later are covered too.
func TestEachMissingSettingExits2(t *testing.T) {
	t.Parallel()
	checked := 0
	for _, cmd := range commands() {
		for _, need := range cmd.Needs {
			env := fullEnv()
			_, known := env[need]
			require.True(t, known, "fullEnv lacks %s, needed by %s", need, cmd.Name)
			delete(env, need)
			if need == config.EnvDiscordBotToken {
				delete(env, config.EnvDiscordAppID) // they are set together or not at all
			}
			r := run(t, env, cmd.Name)
			require.Equal(t, ExitUsage, r.code, "%s without %s: %s", cmd.Name, need, r.stderr)
			require.Equal(t, "lxcbot: configuration: "+need+": required but not set", firstClause(r.stderr), cmd.Name)
			require.Equal(t, 1, strings.Count(r.stderr, "\n"), "exactly one line: %q", r.stderr)
			require.Empty(t, r.stdout)
			checked++
		}
	}
	require.Positive(t, checked)
}

func firstClause(s string) string {
	before, _, _ := strings.Cut(s, " (")
	return strings.TrimSpace(before)
}

func TestBadConfigurationExits2WithOneLine(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		config.EnvEncryptionKey: "lxcbot: configuration: LXCBOT_ENCRYPTION_KEY: must be 64 hex characters",
		config.EnvAdmins:        `lxcbot: configuration: LXCBOT_ADMINS: "slackU1" is not platform:userid`,
		config.EnvSlackAPIURL:   "lxcbot: configuration: SLACK_API_URL: must end with /",
		config.EnvLogLevel:      `lxcbot: configuration: LXCBOT_LOG_LEVEL: "slackU1" is not one of`,
	} {
		env := fullEnv()
		env[name] = "slackU1"
		if name == config.EnvSlackAPIURL {
			env[name] = "https://slack.example/api"
		}
		r := run(t, env, "migrate", "status")
		require.Equal(t, ExitUsage, r.code, r.stderr)
		require.True(t, strings.HasPrefix(r.stderr, want), "%q", r.stderr)
		require.Equal(t, 1, strings.Count(r.stderr, "\n"), "%q", r.stderr)
	}
}

func TestMigrateUpStatusDown(t *testing.T) {
	t.Parallel()
	env := map[string]string{config.EnvDatabaseURL: testenv.EmptyPostgresDSN(t)}

	r := run(t, env, "migrate", "status")
	require.Equal(t, ExitOK, r.code, r.stderr)
	require.Regexp(t, `(?m)^00001\s+pending\s+00001_init\.sql$`, r.stdout)

	r = run(t, env, "migrate", "up")
	require.Equal(t, ExitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, "migrate up: done")

	r = run(t, env, "migrate", "status")
	require.Equal(t, ExitOK, r.code, r.stderr)
	require.Regexp(t, `(?m)^00001\s+applied \d{4}-\d\d-\d\dT\S+Z\s+00001_init\.sql$`, r.stdout)
	require.NotContains(t, r.stdout, "pending")

	r = run(t, env, "migrate") // up is the default and is idempotent
	require.Equal(t, ExitOK, r.code, r.stderr)

	r = run(t, env, "migrate", "down", "--to", "0")
	require.Equal(t, ExitOK, r.code, r.stderr)
	r = run(t, env, "migrate", "status")
	require.Equal(t, ExitOK, r.code, r.stderr)
	require.NotContains(t, r.stdout, "applied")

	r = run(t, env, "migrate", "up")
	require.Equal(t, ExitOK, r.code, r.stderr)
	r = run(t, env, "migrate", "down")
	require.Equal(t, ExitOK, r.code, r.stderr)
	require.Regexp(t, `(?m)^00001\s+pending`, r.stdout)
}

func TestMigrateUnreachableDatabaseExits1WithoutPassword(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{
		"postgres://lxcbot:Pa55-LEAK-word@127.0.0.1:1/lxcbot?connect_timeout=5",
		"host=127.0.0.1 port=1 user=lxcbot password=Pa55-LEAK-word dbname=lxcbot connect_timeout=5",
	} {
		for _, action := range []string{"up", "down", "status"} {
			r := run(t, map[string]string{config.EnvDatabaseURL: dsn}, "migrate", action)
			require.Equal(t, ExitFailure, r.code, r.stderr)
			require.True(t, strings.HasPrefix(r.stderr, "lxcbot migrate: "), r.stderr)
			require.Contains(t, r.stderr, "connect")
			require.NotContains(t, r.stderr, "LEAK")
			require.Equal(t, 1, strings.Count(r.stderr, "\n"), "%q", r.stderr)
		}
	}
}

func TestRedactBlanksSecretsFromMessages(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load(func(k string) (string, bool) {
		v, ok := map[string]string{
			config.EnvDatabaseURL:   "postgres://u:p%40ss-LEAK@db/x",
			config.EnvSlackBotToken: "xoxb-LEAK-token",
		}[k]
		return v, ok
	})
	require.NoError(t, err)
	msg := redact("dial postgres://u:p%40ss-LEAK@db/x failed; password p@ss-LEAK; token xoxb-LEAK-token", cfg.Secrets())
	require.NotContains(t, msg, "LEAK")
	require.Contains(t, msg, "<secret>")
}

func TestParseArgsAllowsFlagsAnywhere(t *testing.T) {
	t.Parallel()
	var to int64
	cmd := Command{Name: "x", Flags: func(fs *flag.FlagSet) { fs.Int64Var(&to, "to", -1, "") }}
	args, err := parseArgs(cmd.flagSet(), []string{"down", "--to", "3", "--", "--literal"})
	require.NoError(t, err)
	require.Equal(t, []string{"down", "--literal"}, args)
	require.EqualValues(t, 3, to)
}
