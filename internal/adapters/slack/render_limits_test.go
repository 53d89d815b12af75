package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/commands"
)

// requireWithinLimits checks one message's blocks against Block Kit's
// limits (PLATFORM-LIMITS.md); Slack refuses the whole message otherwise.
func requireWithinLimits(t *testing.T, blocks []slack.Block) {
	t.Helper()
	n := utf8.RuneCountInString
	require.LessOrEqual(t, len(blocks), maxMessageBlocks, "blocks in one message")
	ids := map[string]bool{}
	element := func(el slack.BlockElement, actions map[string]bool) {
		switch e := el.(type) {
		case *slack.ButtonBlockElement:
			require.LessOrEqual(t, n(e.Text.Text), maxButtonText, "button text")
			require.LessOrEqual(t, n(e.Value), 2000, "button value")
			require.LessOrEqual(t, len(e.ActionID), 255, "action_id")
			require.False(t, actions[e.ActionID], "action_id %s twice in one block", e.ActionID)
			actions[e.ActionID] = true
			if c := e.Confirm; c != nil {
				require.LessOrEqual(t, n(c.Title.Text), maxConfirmTitle)
				require.LessOrEqual(t, n(c.Text.Text), maxConfirmText)
				require.LessOrEqual(t, n(c.Confirm.Text), maxConfirmButton)
				require.LessOrEqual(t, n(c.Deny.Text), maxConfirmButton)
			}
		case *slack.SelectBlockElement:
			require.NotEmpty(t, e.Options, "a select without options is refused")
			require.LessOrEqual(t, len(e.Options), 100, "options of a select")
			require.LessOrEqual(t, n(e.Placeholder.Text), 150)
			require.False(t, actions[e.ActionID], "action_id %s twice in one block", e.ActionID)
			actions[e.ActionID] = true
			for _, o := range e.Options {
				require.LessOrEqual(t, n(o.Text.Text), maxOptionText, "option text")
				require.NotEmpty(t, o.Value)
				require.LessOrEqual(t, n(o.Value), maxOptionValue, "option value")
			}
		default:
			require.Failf(t, "unexpected element", "%T", el)
		}
	}
	for _, b := range blocks {
		id := b.ID()
		if id != "" {
			require.False(t, ids[id], "block id %s twice in one message", id)
			ids[id] = true
		}
		switch v := b.(type) {
		case *slack.HeaderBlock:
			require.LessOrEqual(t, n(v.Text.Text), 150, "header")
		case *slack.SectionBlock:
			require.True(t, v.Text != nil || len(v.Fields) > 0, "an empty section is refused")
			if v.Text != nil {
				require.LessOrEqual(t, n(v.Text.Text), maxSectionText, "section text")
				require.NotEmpty(t, v.Text.Text)
			}
			require.LessOrEqual(t, len(v.Fields), maxFields, "fields")
			for _, f := range v.Fields {
				require.LessOrEqual(t, n(f.Text), maxFieldText, "field text")
			}
			if v.Accessory != nil && v.Accessory.ButtonElement != nil {
				element(v.Accessory.ButtonElement, map[string]bool{})
			}
		case *slack.ContextBlock:
			require.LessOrEqual(t, len(v.ContextElements.Elements), 10, "context elements")
			for _, el := range v.ContextElements.Elements {
				if txt, ok := el.(*slack.TextBlockObject); ok {
					require.LessOrEqual(t, n(txt.Text), maxSectionText, "context text")
				}
			}
		case *slack.ActionBlock:
			require.NotEmpty(t, v.Elements.ElementSet)
			require.LessOrEqual(t, len(v.Elements.ElementSet), maxActions, "elements of an actions block")
			actions := map[string]bool{}
			for _, el := range v.Elements.ElementSet {
				element(el, actions)
			}
		case *slack.DividerBlock:
		default:
			require.Failf(t, "unexpected block", "%T", b)
		}
	}
}

// oversized is a response breaking every Block Kit limit if rendered
// naively: 600 long lines of text, a long header, 25 fields of 5000
// characters, 40 buttons with one action id and long labels, 30 000
// characters of code full of characters that need escaping, a long context
// and a select with long options.
func oversized() (commands.Response, []string) {
	var lines []string
	for i := range 600 {
		lines = append(lines, fmt.Sprintf("line-%04d %s", i, strings.Repeat("é", 90)))
	}
	var fields []commands.Pair
	for i := range 25 {
		fields = append(fields, commands.Pair{Label: fmt.Sprintf("f%02d", i), Value: strings.Repeat("v", 5000)})
	}
	var btns []commands.Button
	for i := range 40 {
		btns = append(btns, commands.Button{Label: fmt.Sprintf("b%02d %s", i, strings.Repeat("L", 200)), ActionID: commands.ActShow,
			Value: fmt.Sprintf("ct-%02d", i), Confirm: &commands.Confirm{Title: strings.Repeat("T", 200), Text: strings.Repeat("X", 500),
				ConfirmLabel: strings.Repeat("Y", 50), DenyLabel: strings.Repeat("N", 50)}})
	}
	var opts []commands.Option
	for i := range 60 {
		opts = append(opts, commands.Option{Label: fmt.Sprintf("o%02d %s", i, strings.Repeat("o", 200)), Value: fmt.Sprintf("v%02d", i)})
	}
	blocks := []commands.Block{commands.HeaderBlock(strings.Repeat("H", 400)), commands.TextBlock(strings.Join(lines, "\n")),
		commands.FieldsBlock(fields...), commands.CodeBlock(strings.Repeat("<a&b>\n", 5000)),
		commands.ContextBlock(strings.Repeat("c", 7000)), commands.SelectBlock(commands.Select{ActionID: commands.ActShow,
			Placeholder: strings.Repeat("p", 300), Options: opts}), commands.ProgressBlock(50, strings.Repeat("P", 5000))}
	blocks = append(blocks, commands.ButtonBlocks(btns...)...)
	return commands.Response{Blocks: blocks}, lines
}

func TestOversizedResponsesRenderWithinSlackLimits(t *testing.T) {
	t.Parallel()
	resp, lines := oversized()
	msgs := splitMessages(renderBlocks(resp.Blocks))
	require.Greater(t, len(msgs), 1, "the response takes several messages")
	var all strings.Builder
	buttons := 0
	for _, m := range msgs {
		requireWithinLimits(t, m)
		enc := json.NewEncoder(&all)
		enc.SetEscapeHTML(false)
		require.NoError(t, enc.Encode(m))
		for _, b := range m {
			if a, ok := b.(*slack.ActionBlock); ok {
				for _, el := range a.Elements.ElementSet {
					if _, ok := el.(*slack.ButtonBlockElement); ok {
						buttons++
					}
				}
			}
		}
	}
	for _, l := range lines {
		require.Contains(t, all.String(), l, "text is split, not dropped")
	}
	require.Equal(t, 40, buttons, "every button is offered")
	for i := range 25 {
		require.Contains(t, all.String(), fmt.Sprintf("*f%02d*", i), "every field is shown")
	}
	require.Equal(t, 5000, strings.Count(all.String(), "&lt;a&amp;b&gt;"), "all of the code, escaped")
	require.LessOrEqual(t, utf8.RuneCountInString(fallbackText(resp.Blocks)), maxFallbackText)
}

// TestOversizedResponsesAreDeliveredWithinSlackLimits sends the oversized
// response publicly and privately, from a slash command and from a button,
// and checks every payload the fake Slack received.
func TestOversizedResponsesAreDeliveredWithinSlackLimits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	resp, lines := oversized()
	req := commands.Request{Principal: slackOperator, Workspace: team, Channel: channel, Platform: "slack"}
	public := resp
	public.Visibility = commands.InChannel
	b.adapter.deliver(ctx, &origin{team: team, channel: channel, user: slackOperator.UserID,
		responseURL: b.fake.ResponseURL("pub"), command: true}, req, public)
	b.adapter.deliver(ctx, &origin{team: team, channel: channel, user: slackOperator.UserID,
		responseURL: b.fake.ResponseURL("eph"), command: true}, req, resp)
	b.adapter.deliver(ctx, &origin{team: team, channel: channel, user: slackOperator.UserID, messageTS: "1700000000.000009",
		ephemeralMsg: true, responseURL: b.fake.ResponseURL("btn")}, req, resp)
	b.drain(t)

	payloads := map[string][]string{}
	for _, c := range b.fake.Calls() {
		require.Less(t, c.Status, 300, "%s answered %d", c.Method, c.Status)
		raw := c.Param("blocks")
		if raw == "" {
			continue
		}
		var bs slack.Blocks
		require.NoError(t, json.Unmarshal([]byte(raw), &bs), "%s: %s", c.Method, raw)
		requireWithinLimits(t, bs.BlockSet)
		payloads[c.Method] = append(payloads[c.Method], raw)
	}
	require.Greater(t, len(payloads["chat.postMessage"]), 1, "the public answer takes several messages")
	require.Empty(t, payloads["chat.update"])
	require.NotEmpty(t, payloads["response_url"], "a slash command answers privately through response_url")
	require.NotEmpty(t, payloads["chat.postEphemeral"], "the rest goes by chat.postEphemeral")
	public1 := strings.Join(payloads["chat.postMessage"], "")
	private := strings.Join(append(payloads["response_url"], payloads["chat.postEphemeral"]...), "")
	for _, l := range lines {
		require.Contains(t, public1, l)
		require.Equal(t, 2, strings.Count(private, l), "each private answer shows %s", l)
	}
}
