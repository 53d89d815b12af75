package app

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/testkit/chattest"
)

// TestCachedLookupsFollowChangesMadeHere: roles and channel bindings are
// cached for seconds, but a grant, a revoke, a bind or an open through this
// bot applies to the very next command, and the audit log shows every
// command at once.
func TestCachedLookupsFollowChangesMadeHere(t *testing.T) {
	ctx := context.Background()
	a := newApp(t, appOptions{admins: []provision.Principal{ada}})
	n := 0
	say := func(who provision.Principal, channel, text string) commands.Response {
		t.Helper()
		n++
		resp := a.Router().Handle(ctx, commands.Request{Principal: who, Platform: who.Platform, Workspace: "console", Channel: channel,
			Kind: commands.KindCommand, Text: text, DeliveryID: fmt.Sprintf("d%d", n), ReceivedAt: time.Now()})
		require.NoError(t, commands.Validate(resp))
		return resp
	}

	// Cached: alice has no role, the channel has no binding.
	require.Equal(t, commands.OutcomeDenied, say(alice, "ops", "templates").Outcome)
	chattest.RequireOK(t, say(ada, "ops", "templates"))

	chattest.RequireOK(t, say(ada, "general", "role grant viewer console:alice"))
	chattest.RequireOK(t, say(alice, "ops", "templates"))
	chattest.RequireOK(t, say(ada, "ops", "channel allow lifecycle"))
	require.Equal(t, commands.OutcomeDenied, say(alice, "ops", "templates").Outcome, "the binding applies at once")
	chattest.RequireOK(t, say(ada, "ops", "channel open"))
	chattest.RequireOK(t, say(alice, "ops", "templates"))
	chattest.RequireOK(t, say(ada, "general", "role revoke viewer console:alice"))
	require.Equal(t, commands.OutcomeDenied, say(alice, "ops", "templates").Outcome, "the revoke applies at once")

	es, err := a.Backend().AuditLog(ctx, commands.AuditQuery{Limit: 100})
	require.NoError(t, err)
	require.Len(t, es, n, "every command is in the audit log when it is read")
}
