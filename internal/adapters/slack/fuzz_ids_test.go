package slack

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/commands"
)

// FuzzIDs checks the ids lxcbot puts into Slack and reads back from
// untrusted payloads: a modal's callback id (form, channel, thread), a
// field's block id (name, parent, revision) and a block's action ids.
// Parsing never panics, a parsed form or field is never empty, and what
// lxcbot built parses back to what it was built from.
func FuzzIDs(f *testing.F) {
	f.Add("create", "C1", "1700000000.000100", "os_template", "node", 0, "ct.stop", uint8(2))
	f.Add("delete", "", "", "hostname", "", 7, "ct.show#1", uint8(0))
	f.Add("", ":", "::", "", ":", -1, "#", uint8(1))
	f.Add("lxc:create", "C1:C2", "1.2:3", "f:x", "a:b", 1<<62, "a##b", uint8(3))
	f.Fuzz(func(t *testing.T, form, channel, thread, field, parent string, rev int, action string, repeats uint8) {
		// Whatever a client sends.
		for _, id := range []string{form, channel, thread, formCallbackPrefix + form, formCallbackPrefix + form + ":" + channel} {
			fid, _, _, ok := parseCallbackID(id)
			require.Equal(t, ok, fid != "")
			name, _, _, ok := parseFieldBlockID(id)
			require.Equal(t, ok, name != "")
			require.NotContains(t, parseActionID(id), "#")
		}
		// What lxcbot builds.
		if form != "" && !strings.Contains(form, ":") && !strings.Contains(channel, ":") {
			fid, ch, th, ok := parseCallbackID(callbackID(form, channel, thread))
			require.True(t, ok)
			require.Equal(t, []string{form, channel, thread}, []string{fid, ch, th})
		}
		if field != "" && !strings.Contains(field, ":") && !strings.Contains(parent, ":") && rev >= 0 {
			fd := commands.Field{Name: field, DependsOn: parent}
			name, p, r, ok := parseFieldBlockID(fieldBlockID(fd, rev))
			require.True(t, ok)
			require.Equal(t, field, name)
			require.Equal(t, parent, p)
			if parent != "" {
				require.Equal(t, rev, r)
			}
		}
		if !strings.Contains(action, "#") {
			seen := map[string]int{}
			for range int(repeats % 8) {
				require.Equal(t, action, parseActionID(uniqueActionID(seen, action)))
			}
		}
	})
}
