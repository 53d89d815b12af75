package config

import (
	"errors"
	"strings"
	"testing"
)

// sentinelEnv answers every variable with a value the errors must not show.
func sentinelEnv(name string) (string, bool) {
	if strings.HasPrefix(name, "UNSET") {
		return "", false
	}
	return "SENTINEL", true
}

func FuzzExpand(f *testing.F) {
	for _, s := range []string{"", "plain", "${A}", "${A:-d}", "$${A}", "${", "${A", "x${A}y${B:-}z", "$", "${UNSET}", "${UNSET:-x}", "${1}", "${A:-${B}}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Expand(s, sentinelEnv)
		if !strings.Contains(s, "$") && (err != nil || out != s) {
			t.Fatalf("text without $ changed: %q -> %q, %v", s, out, err)
		}
		if err != nil && strings.Contains(err.Error(), "SENTINEL") {
			t.Fatalf("error shows a value: %v", err)
		}
		if err == nil && !strings.Contains(s, "SENTINEL") && strings.Contains(s, "${") && !strings.Contains(s, "$${") &&
			!strings.Contains(s, ":-") && !strings.Contains(out, "SENTINEL") {
			t.Fatalf("a reference was not replaced: %q -> %q", s, out)
		}
	})
}

// FuzzLoadFile checks that no configuration file makes loading panic, and
// that every error fits on one line and never shows a value taken from the
// environment, since those are where secrets come from.
func FuzzLoadFile(f *testing.F) {
	f.Add([]byte(fullFile))
	f.Add([]byte("nodes:\n  - {name: a, api_url: \"https://a\", token_id: u@pve!t, token_secret: ${T}, ssh: {addr: a, password: ${P}}}\n"))
	f.Add([]byte("database_url: ${DB}\nadmins: [slack:U1]\n"))
	f.Add([]byte("roles: {admins: [slack:U1], viewers: [x]}\nnotifications: {slack: {channel: C1, events: [created]}}\n"))
	f.Add([]byte("a: &x {b: 1}\nc: *x\n"))
	f.Add([]byte("nodes: [{name: a, unknown: ${UNSET}}]\n"))
	f.Add([]byte("- [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if strings.Contains(string(data), "SENTINEL") || strings.Contains(string(data), "_file") {
			return // the first could echo itself; the second would read arbitrary files
		}
		fl, err := parseFile("c.yaml", data, sentinelEnv)
		if err == nil {
			_, err = load(sentinelEnv, fl)
		}
		if err == nil {
			return
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") {
			t.Fatalf("error spans lines: %q", msg)
		}
		var ce *Error
		if errors.As(err, &ce) && strings.Contains(msg, "SENTINEL") && !isEchoedNonSecret(ce.Setting) {
			t.Fatalf("error shows a value from the environment: %q", msg)
		}
	})
}

// isEchoedNonSecret lists settings whose errors quote the offending value on
// purpose: none of them is a secret.
func isEchoedNonSecret(setting string) bool {
	for _, s := range []string{"name", "ssh.addr", "channel", "events[", "roles.", EnvAdmins, EnvHTTPAddr, EnvLogLevel, EnvLogFormat,
		EnvSlackAPIURL, EnvDiscordAPIURL, EnvDiscordAppID, EnvDiscordGuildID, EnvDiscordGateway} {
		if strings.Contains(setting, s) {
			return true
		}
	}
	return false
}
