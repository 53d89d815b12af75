package security_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/examples/templates"
	"github.com/lxcbot/lxcbot/internal/adapters/discord/discordfake"
	"github.com/lxcbot/lxcbot/internal/adapters/slack/slackfake"
	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/provision"
)

// denials counts the audit entries of who that were refused.
func (b *bundle) denials(t *testing.T, target string, who provision.Principal) int {
	t.Helper()
	n := 0
	for _, e := range b.audit(t, target) {
		if e.Outcome == "denied" && e.Actor.Platform == who.Platform && e.Actor.UserID == who.UserID {
			n++
		}
	}
	return n
}

// slackRefusal waits for the bot to tell user want (after the Slack call
// mark) and requires every reply of the exchange that says it to be one
// only user sees.
func (b *bundle) slackRefusal(t *testing.T, mark int, ack string, user provision.Principal, want string) {
	t.Helper()
	if strings.Contains(ack, want) {
		var m struct {
			ResponseType string `json:"response_type"`
		}
		require.NoError(t, json.Unmarshal([]byte(ack), &m), ack)
		require.Equal(t, "ephemeral", m.ResponseType, "a refusal in the ack is ephemeral: %s", ack)
		return
	}
	var said []slackfake.Call
	waitFor(t, "the refusal "+want, func() bool {
		said = said[:0]
		for _, c := range b.slackCallsSince(mark) {
			if strings.Contains(string(c.Body), want) || strings.Contains(c.Param("blocks"), want) || strings.Contains(c.Param("text"), want) {
				said = append(said, c)
			}
		}
		return len(said) > 0
	})
	for _, c := range said {
		switch c.Method {
		case "chat.postEphemeral":
			require.Equal(t, user.UserID, c.Param("user"), "the refusal goes to the presser only")
		case "response_url":
			require.Equal(t, "ephemeral", c.Param("response_type"), "a refusal through response_url is ephemeral: %s", c.Body)
		case "views.open", "views.update":
			// A modal is shown only to the user whose trigger opened it.
		default:
			t.Fatalf("the refusal %q went out through %s, which others can see: %s", want, c.Method, c.Body)
		}
	}
}

// TestForgedSlackPayloadsAreRefused: Slack lets a client send any
// action id, button value and view private_metadata it likes, as long as
// Slack signs the request. A viewer pressing a crafted Stop, an operator
// pressing Stop or Credentials with a value naming someone else's
// container, and crafted delete submissions naming another user's
// container are all refused with a message only the presser sees, change
// nothing on Proxmox and are audited as denied.
func TestForgedSlackPayloadsAreRefused(t *testing.T) {
	b := setup(t, options{templates: templates.FS})
	b.createReady(t, slackOther, "nginx-web", "web2", "pve1")
	credsBefore := b.credentialValues(t, "web2")

	type attempt struct {
		name string
		who  provision.Principal
		req  *http.Request
		want string
	}
	attempts := []attempt{
		{"viewer presses a crafted Stop", slackViewer, b.pressRequest(slackViewer, commands.ActStop, "web2"),
			"you need the operator role"},
		{"viewer presses a crafted Restart", slackViewer, b.pressRequest(slackViewer, commands.ActRestart, "web2"),
			"you need the operator role"},
		{"operator presses Stop naming another's container", slackOperator, b.pressRequest(slackOperator, commands.ActStop, "web2"),
			"web2 belongs to otto"},
		{"operator presses Stop with options smuggled in the value", slackOperator,
			b.pressRequest(slackOperator, commands.ActStop, "web2 --force"), ""},
		{"operator presses Credentials naming another's container", slackOperator, b.pressRequest(slackOperator, commands.ActCreds, "web2"),
			"web2 belongs to otto"},
		{"operator presses a crafted job delete", slackOperator, b.pressRequest(slackOperator, commands.ActJobDelete, "web2"),
			"web2 belongs to otto"},
		{"operator submits a crafted delete form", slackOperator,
			b.submitRequest(slackOperator, "delete", "web2", map[string]string{"hostname": "web2"}), "web2 belongs to otto"},
		{"viewer submits a crafted delete form", slackViewer,
			b.submitRequest(slackViewer, "delete", "web2", map[string]string{"hostname": "web2"}), "you need the operator role"},
		// With a wrong hostname the refusal must still be a refusal: a form
		// error would confirm the container and name it.
		{"operator submits a crafted delete form with a wrong hostname", slackOperator,
			b.submitRequest(slackOperator, "delete", b.container(t, "web2").ID, map[string]string{"hostname": "x"}), "web2 belongs to otto"},
		{"viewer submits a crafted delete form with a wrong hostname", slackViewer,
			b.submitRequest(slackViewer, "delete", b.container(t, "web2").ID, map[string]string{"hostname": "x"}), "you need the operator role"},
	}
	for _, a := range attempts {
		mark := len(b.slack.Calls())
		before := b.denials(t, "web2", a.who)
		status, ack := do(t, a.req)
		require.Equal(t, http.StatusOK, status, "%s: %s", a.name, ack)
		if a.want != "" {
			b.slackRefusal(t, mark, ack, a.who, a.want)
			waitFor(t, a.name+" to be audited", func() bool { return b.denials(t, "web2", a.who) > before })
		}
		require.Equal(t, "running", b.status(t, "web2"), a.name)
		require.Equal(t, provision.StateReady, b.container(t, "web2").State, a.name)
	}
	b.drain(t)
	for _, c := range b.slack.Calls() {
		for _, v := range credsBefore {
			require.NotContains(t, string(c.Body), v, "a refused reveal shows nothing (%s)", c.Method)
		}
	}
	entries := b.audit(t, "web2")
	for _, e := range entries {
		if e.Actor.UserID != slackOther.UserID {
			require.NotEqual(t, "ok", e.Outcome, "no forged request succeeded: %+v", e)
		}
	}
}

// TestForgedDiscordPayloadsAreRefused: a component custom_id is chosen by
// the client too. Buttons forged to point at another user's container, and
// a delete modal opened by the container's owner but submitted by another
// user (the form's server-side state names the owner's container), are
// refused privately, change nothing and are audited as denied.
func TestForgedDiscordPayloadsAreRefused(t *testing.T) {
	b := setup(t, options{templates: templates.FS})
	b.createReady(t, discordPrincipal(discordOther), "nginx-web", "dweb", "pve1")
	ctx := context.Background()
	endpoint := b.srv.URL + "/discord/interactions"
	deliver := func(it *discordfake.Interaction) discordfake.Delivery {
		t.Helper()
		it.GuildID, it.ChannelID = guild, dchannel
		d, err := b.discord.Deliver(ctx, endpoint, it, time.Now())
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, d.Status, string(d.Body))
		return d
	}
	click := func(u discordfake.User, customID string) *discordfake.Interaction {
		return &discordfake.Interaction{Type: discordfake.TypeComponent, User: u, Data: discordfake.Click(customID)}
	}

	// The owner opens the delete form; its key is what another user would
	// have to forge.
	open := deliver(&discordfake.Interaction{Type: discordfake.TypeCommand, User: discordOther,
		Data: discordfake.Slash("delete", discordfake.Str("ct", "dweb"))})
	require.Equal(t, 9, open.Response.Type, "delete opens a modal: %s", open.Body)
	md, err := discordfake.ParseModal(open.Response.Data)
	require.NoError(t, err)

	type attempt struct {
		name string
		who  discordfake.User
		it   *discordfake.Interaction
		want string
	}
	attempts := []attempt{
		{"viewer clicks a forged Stop", discordViewer, click(discordViewer, "a|"+commands.ActStop+"|dweb"), "you need the operator role"},
		{"operator clicks a forged Stop", discordOperator, click(discordOperator, "a|"+commands.ActStop+"|dweb"), "dweb belongs to dirk"},
		{"operator clicks a forged Delete", discordOperator, click(discordOperator, "a|"+commands.ActDelete+"|dweb"), "dweb belongs to dirk"},
		{"operator clicks forged Credentials", discordOperator, click(discordOperator, "a|"+commands.ActCreds+"|dweb"), "dweb belongs to dirk"},
		{"operator picks a forged select value", discordOperator,
			&discordfake.Interaction{Type: discordfake.TypeComponent, User: discordOperator,
				Data: discordfake.Choose("s|"+commands.ActShutdown, "dweb")}, "dweb belongs to dirk"},
		{"operator submits the owner's delete form", discordOperator,
			&discordfake.Interaction{Type: discordfake.TypeModalSubmit, User: discordOperator,
				Data: discordfake.Submit(md.CustomID, map[string]string{"hostname": "dweb"})}, "dweb belongs to dirk"},
		{"viewer submits the owner's delete form", discordViewer,
			&discordfake.Interaction{Type: discordfake.TypeModalSubmit, User: discordViewer,
				Data: discordfake.Submit(md.CustomID, map[string]string{"hostname": "dweb"})}, "you need the operator role"},
		{"viewer submits the owner's delete form with a wrong hostname", discordViewer,
			&discordfake.Interaction{Type: discordfake.TypeModalSubmit, User: discordViewer,
				Data: discordfake.Submit(md.CustomID, map[string]string{"hostname": "x"})}, "you need the operator role"},
	}
	for _, a := range attempts {
		who := discordPrincipal(a.who)
		before := b.denials(t, "dweb", who)
		seen := map[string]bool{}
		for _, m := range b.discord.AllMessages() {
			seen[m.ID] = true
		}
		d := deliver(a.it)
		var refusal *discordfake.Message
		waitFor(t, a.name+" to be answered", func() bool {
			if strings.Contains(string(d.Response.Data), a.want) {
				return true
			}
			if m, ok := b.discord.Original(a.it.Token); ok && strings.Contains(m.Text(), a.want) {
				refusal = &m
				return true
			}
			for _, m := range b.discord.AllMessages() {
				if !seen[m.ID] && strings.Contains(m.Text(), a.want) {
					refusal = &m
				}
			}
			return refusal != nil
		})
		if refusal != nil {
			require.True(t, refusal.Ephemeral(), "%s: only the presser sees the refusal", a.name)
		} else {
			var data struct {
				Flags int `json:"flags"`
			}
			require.NoError(t, json.Unmarshal(d.Response.Data, &data))
			require.Equal(t, 64, data.Flags&64, "%s: only the presser sees the refusal", a.name)
		}
		waitFor(t, a.name+" to be audited", func() bool {
			if b.denials(t, "dweb", who) > before {
				return true
			}
			o, _ := b.discord.Original(a.it.Token)
			t.Logf("%s: %s / %+v", a.name, d.Body, o)
			return false
		})
		require.Equal(t, "running", b.status(t, "dweb"), a.name)
		require.Equal(t, provision.StateReady, b.container(t, "dweb").State, a.name)
	}
	b.drain(t)
	for _, m := range b.discord.AllMessages() {
		require.False(t, !m.Ephemeral() && strings.Contains(m.Text(), "belongs to"), "a refusal was posted publicly: %s", m.Text())
	}
}

// credentialValues reads the stored credential values of host.
func (b *bundle) credentialValues(t *testing.T, host string) []string {
	t.Helper()
	ct := b.container(t, host)
	creds, err := b.app.Store().ListCredentials(context.Background(), ct.ID, "")
	require.NoError(t, err)
	var out []string
	for _, c := range creds {
		if len(c.Value.Reveal()) >= 6 {
			out = append(out, c.Value.Reveal())
		}
	}
	return out
}
