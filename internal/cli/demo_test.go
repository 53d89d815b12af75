package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/adapters/slack/slackfake"
)

var update = flag.Bool("update", false, "rewrite golden files")

// Generated values and durations differ from run to run (durations with the
// machine's load); everything else is deterministic.
var (
	demoVolatile  = regexp.MustCompile("(POSTGRES_PASSWORD:\\s+)`[^`]+`")
	demoDurations = regexp.MustCompile(`\b(in|Ready in) [0-9]+(\.[0-9]+)?(ns|µs|ms|s|m[0-9.]*s?)\b`)
)

// TestDemoScriptedSession drives the whole bot the way a newcomer does: the
// create form, progress to ready, list, show, credentials, stop with
// confirmation, start, restart, delete with the hostname typed (once wrong).
// It runs the real stack: a throwaway Postgres, embedded Redis, the
// simulator over HTTPS and SSH, the asynq worker and the console chat.
func TestDemoScriptedSession(t *testing.T) {
	t.Parallel()
	script := filepath.Join("testdata", "demo-session.txt")
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), []string{"demo", "--script", script, "--user", "demo"},
		strings.NewReader(""), &stdout, &stderr, func(string) (string, bool) { return "", false })
	require.Equal(t, ExitOK, code, stderr.String())

	got := demoVolatile.ReplaceAllString(stdout.String(), "$1`<generated>`")
	got = demoDurations.ReplaceAllString(got, "$1 <duration>")
	golden := filepath.Join("testdata", "demo-session.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	require.Equal(t, string(want), got)

	// The things the transcript must show, said plainly.
	for _, s := range []string{"db1 is ready", "postgresql.service", "POSTGRES_PASSWORD", "stopped (forced)",
		"started", "rebooted", "type db1 exactly", "deleted", "No containers match"} {
		require.Contains(t, got, s)
	}
	require.Contains(t, stdout.String(), "POSTGRES_PASSWORD")
}

// TestDemoAlsoServesSlackWhenConfigured: with Slack settings the demo mounts
// the Slack endpoints beside the console.
func TestDemoAlsoServesSlackWhenConfigured(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	script := filepath.Join(t.TempDir(), "script.txt")
	require.NoError(t, os.WriteFile(script, []byte("/lxc nodes\n"), 0o600))
	env := map[string]string{
		"SLACK_BOT_TOKEN": "xoxb-demo-test", "SLACK_SIGNING_SECRET": "demo-signing-secret",
		"SLACK_API_URL": fake.APIURL(), "LXCBOT_HTTP_ADDR": "127.0.0.1:0",
	}
	res := run(t, env, "demo", "--script", script, "--user", "demo")
	require.Equal(t, ExitOK, res.code, res.stderr)
	require.Contains(t, res.stdout, "Serving Slack/Discord on 127.0.0.1:")
	require.Contains(t, res.stdout, "pve1")
	require.NotContains(t, res.stdout+res.stderr, "demo-signing-secret")
}
