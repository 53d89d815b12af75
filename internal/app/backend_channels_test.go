package app

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/testkit/chattest"
)

// TestChannelBindingIsSavedAndEnforced: /lxc channel allow saves the
// binding in Postgres, the router enforces it from there (for a bot that
// starts later too), changes are in the audit log, and /lxc channel open
// deletes it.
func TestChannelBindingIsSavedAndEnforced(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t, appOptions{admins: []provision.Principal{ada}, roles: config.Roles{Operators: []provision.Principal{alice}}})
	a, err := New(ctx, Options{Config: cfg, Fast: true})
	require.NoError(t, err)
	n := 0
	say := func(a *App, who provision.Principal, channel, text string) commands.Response {
		t.Helper()
		n++
		resp := a.Router().Handle(ctx, commands.Request{Principal: who, Platform: who.Platform, Workspace: "console", Channel: channel,
			Kind: commands.KindCommand, Text: text, DeliveryID: fmt.Sprintf("d%d", n), ReceivedAt: time.Now()})
		require.NoError(t, commands.Validate(resp))
		return resp
	}

	chattest.RequireOK(t, say(a, ada, "ops", "channel allow lifecycle"))
	saved, err := a.Store().GetChannelBinding(ctx, provision.PlatformConsole, "ops")
	require.NoError(t, err)
	require.Equal(t, []string{"lifecycle"}, saved.AllowedCommands)
	refused := say(a, alice, "ops", "templates")
	require.Equal(t, commands.OutcomeDenied, refused.Outcome, chattest.AllText(refused))
	require.Contains(t, chattest.AllText(refused), "this channel accepts only the lifecycle commands")
	chattest.RequireOK(t, say(a, alice, "general", "templates"))
	a.Close()

	// A bot started later reads the binding from Postgres.
	b, err := New(ctx, Options{Config: cfg, Fast: true})
	require.NoError(t, err)
	defer b.Close()
	require.Equal(t, commands.OutcomeDenied, say(b, alice, "ops", "list").Outcome)
	chattest.RequireOK(t, say(b, alice, "ops", "help"))
	list := say(b, ada, "general", "channels")
	chattest.RequireOK(t, list)
	require.Contains(t, chattest.AllText(list), "<#ops> — the lifecycle commands")

	chattest.RequireOK(t, say(b, ada, "ops", "channel allow monitoring"))
	chattest.RequireOK(t, say(b, alice, "ops", "list"))
	chattest.RequireOK(t, say(b, ada, "ops", "channel open"))
	_, err = b.Store().GetChannelBinding(ctx, provision.PlatformConsole, "ops")
	require.ErrorIs(t, err, provision.ErrNotFound)
	chattest.RequireOK(t, say(b, alice, "ops", "templates"))

	es, err := b.Backend().AuditLog(ctx, commands.AuditQuery{Target: "ops"})
	require.NoError(t, err)
	var got []string
	for _, e := range es {
		got = append(got, e.Command+" "+e.Args+" "+e.Outcome+" by "+e.Actor.UserID)
	}
	require.Equal(t, []string{"channel open  ok by ada", "channel allow monitoring ok by ada", "channel allow lifecycle ok by ada"}, got)
}
