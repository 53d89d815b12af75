package commands_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/commands/commandstest"
	"github.com/lxcbot/lxcbot/internal/provision"
)

func TestChannelCommandsParse(t *testing.T) {
	r, _ := newRouter(t)
	for line, want := range map[string]string{
		"channel":                                "channel",
		"channel show":                           "channel show",
		"channel allow lifecycle":                "channel allow",
		"channel allow lifecycle create stop":    "channel allow",
		"channel allow Monitoring node template": "channel allow",
		"channel open":                           "channel open",
		"channels":                               "channels",
	} {
		inv, err := r.Table().Parse(line)
		require.NoError(t, err, line)
		require.Equal(t, want, inv.Command.Name, line)
	}
	for line, want := range map[string]string{
		"channel allow":              "missing <commands>",
		"channel allow lifecycle ps": `"ps" is not a command or set of commands`,
		"channel allow job":          `"job" is not a command or set of commands`,
		"channel open now":           `unexpected argument "now"`,
		"channels ops":               `unexpected argument "ops"`,
	} {
		resp := r.Handle(context.Background(), cmdReq(commandstest.Admin, line))
		require.Equal(t, commands.OutcomeUserError, resp.Outcome, line)
		require.Contains(t, resp.Blocks[0].Text, want, line)
		require.Contains(t, allText(resp), "*Usage:* `/lxc channel", line)
	}
}

func TestChannelHelpShowsTheSets(t *testing.T) {
	r, _ := newRouter(t)
	resp := r.Handle(context.Background(), cmdReq(commandstest.Viewer, "help channel allow"))
	require.Equal(t, commands.OutcomeOK, resp.Outcome)
	require.Contains(t, allText(resp), "*Usage:* `/lxc channel allow <commands…>`")
	require.Contains(t, allText(resp), "lifecycle, monitoring, create, catalog, admin")
	require.Contains(t, allText(resp), "*Needs:* admin role")
}

// inChannel is a request typed, or a button pressed, in channel.
func inChannel(p provision.Principal, channel, text string) commands.Request {
	req := cmdReq(p, text)
	req.Channel = channel
	return req
}

func pressIn(p provision.Principal, channel, actionID, value string) commands.Request {
	return commands.Request{Principal: p, Platform: p.Platform, Workspace: "console", Channel: channel,
		Kind: commands.KindAction, Action: commands.ActionPayload{ID: actionID, Value: value}, DeliveryID: actionID + value}
}

// TestChannelBoundToLifecycle: an admin limits #ops to lifecycle actions;
// there stop is accepted, typed or pressed, and create is refused with a
// reply saying what the channel accepts and who can change it; help and
// the binding commands keep working, other channels are untouched, and
// channel open lifts the limit.
func TestChannelBoundToLifecycle(t *testing.T) {
	r, m := newRouter(t)
	ctx := context.Background()
	do := func(req commands.Request) commands.Response {
		t.Helper()
		resp := r.Handle(ctx, req)
		require.NoError(t, commands.Validate(resp))
		return resp
	}

	bound := do(inChannel(commandstest.Admin, "ops", "channel allow lifecycle"))
	require.Equal(t, commands.OutcomeOK, bound.Outcome, allText(bound))
	require.Equal(t, commands.InChannel, bound.Visibility, "the channel sees that it was limited")
	require.Contains(t, allText(bound), "<#ops> now accepts only the lifecycle commands (start, stop, shutdown, restart, delete)")
	b, err := m.ChannelBinding(ctx, provision.PlatformConsole, "ops")
	require.NoError(t, err)
	require.Equal(t, []string{"lifecycle"}, b.AllowedCommands)

	require.Equal(t, commands.OutcomeOK, do(inChannel(commandstest.Operator, "ops", "stop web1")).Outcome)
	require.Equal(t, commands.OutcomeOK, do(pressIn(commandstest.Operator, "ops", commands.ActRestart, "ct-web1")).Outcome)

	refused := do(inChannel(commandstest.Operator, "ops", "create nginx new1"))
	require.Equal(t, commands.OutcomeDenied, refused.Outcome)
	require.Contains(t, allText(refused), "this channel accepts only the lifecycle commands (start, stop, shutdown, restart, delete); run /lxc create in another channel")
	require.Contains(t, allText(refused), "ask an admin to change this with /lxc channel allow or /lxc channel open")
	for _, req := range []commands.Request{
		inChannel(commandstest.Admin, "ops", "list"),
		pressIn(commandstest.Operator, "ops", commands.ActCreateStart, "nginx"),
		pressIn(commandstest.Operator, "ops", commands.ActCreds, "ct-web1"),
	} {
		resp := do(req)
		require.Equal(t, commands.OutcomeDenied, resp.Outcome, "%+v", req)
		require.Contains(t, allText(resp), "this channel accepts only the lifecycle commands")
	}

	// Never locked out: help and the binding commands work in the channel,
	// for those whose role allows them.
	require.Equal(t, commands.OutcomeOK, do(inChannel(commandstest.Viewer, "ops", "help")).Outcome)
	show := do(inChannel(commandstest.Admin, "ops", "channel"))
	require.Equal(t, commands.OutcomeOK, show.Outcome)
	require.Contains(t, allText(show), "<#ops> accepts only the lifecycle commands")
	denied := do(inChannel(commandstest.Operator, "ops", "channel open"))
	require.Equal(t, commands.OutcomeDenied, denied.Outcome)
	require.Contains(t, allText(denied), "you need the admin role to run /lxc channel open")

	list := do(inChannel(commandstest.Admin, "general", "channels"))
	require.Equal(t, commands.OutcomeOK, list.Outcome)
	require.Contains(t, allText(list), "<#ops> — the lifecycle commands")
	require.Equal(t, commands.OutcomeOK, do(inChannel(commandstest.Operator, "general", "create nginx new1")).Outcome,
		"other channels accept everything")

	// Allowing again replaces the list; single commands and sets mix.
	require.Equal(t, commands.OutcomeOK, do(inChannel(commandstest.Admin, "ops", "channel allow lifecycle logs create")).Outcome)
	require.Equal(t, commands.OutcomeOK, do(inChannel(commandstest.Operator, "ops", "logs web1 nginx")).Outcome)
	require.Equal(t, commands.OutcomeDenied, do(inChannel(commandstest.Operator, "ops", "creds web1")).Outcome)
	require.Equal(t, commands.OutcomeOK, do(inChannel(commandstest.Operator, "ops", "create nginx new2")).Outcome)

	opened := do(inChannel(commandstest.Admin, "ops", "channel open"))
	require.Equal(t, commands.OutcomeOK, opened.Outcome)
	require.Contains(t, allText(opened), "<#ops> accepts every command again")
	require.Equal(t, commands.OutcomeOK, do(inChannel(commandstest.Operator, "ops", "creds web1")).Outcome)
	again := do(inChannel(commandstest.Admin, "ops", "channel open"))
	require.Equal(t, commands.OutcomeOK, again.Outcome)
	require.Contains(t, allText(again), "already accepts every command")
	require.Contains(t, allText(do(inChannel(commandstest.Admin, "ops", "channels"))), "No channel is limited")

	var changes []string
	for _, e := range m.AuditEntries() {
		if e.ChannelID == "ops" && strings.HasPrefix(e.Command, "channel") {
			changes = append(changes, e.Command+" "+e.Target+" "+e.Args+" "+e.Outcome)
		}
	}
	require.Equal(t, []string{
		"channel allow ops lifecycle ok", "channel ops  ok", "channel open   denied",
		"channel allow ops 'lifecycle logs create' ok", "channel open ops  ok", "channel open ops  ok", "channels   ok",
	}, changes, "binding commands are audited, with the channel as target once authorised")
}
