package slack

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/commands/commandstest"
	"github.com/lxcbot/lxcbot/internal/provision"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// golden compares v, as indented JSON, with testdata/golden/name.json.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	got = append(got, '\n')
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	require.Equal(t, string(want), string(got))
}

func message(resp commands.Response) map[string]any {
	return map[string]any{"text": fallbackText(resp.Blocks), "blocks": renderBlocks(resp.Blocks)}
}

func handle(t *testing.T, p provision.Principal, text string) commands.Response {
	t.Helper()
	b := setup(t)
	return b.router.Handle(context.Background(), commands.Request{Principal: p, Workspace: team, Channel: channel,
		Platform: provision.PlatformSlack, Kind: commands.KindCommand, Text: text})
}

func TestGoldenJobCard(t *testing.T) {
	t.Parallel()
	m := commandstest.NewMem()
	ct, err := m.Create(context.Background(), slackOperator, provision.Origin{}, provision.CreateRequest{Template: "nginx", Hostname: "web9"}, "")
	require.NoError(t, err)
	evs, err := m.Subscribe(context.Background(), ct.ID, "")
	require.NoError(t, err)
	var seen []provision.ProgressEvent
	for e := range evs {
		seen = append(seen, e)
		if e.Type == provision.ProgressScriptStarted {
			break
		}
	}
	golden(t, "jobcard_running", message(commands.JobCard(ct, seen, nil)))
}

func TestGoldenContainerShow(t *testing.T) {
	t.Parallel()
	golden(t, "show", message(handle(t, slackAdmin, "show web1")))
}

func TestGoldenListPage(t *testing.T) {
	t.Parallel()
	resp := handle(t, slackAdmin, "list --page 2")
	require.NotNil(t, resp.Page)
	golden(t, "list_page2", message(resp))
}

func TestGoldenCreateModal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	req := commands.Request{Principal: slackOperator, Workspace: team, Channel: channel, Platform: provision.PlatformSlack, Kind: commands.KindCommand, Text: "create nginx"}
	resp := b.router.Handle(context.Background(), req)
	require.NotNil(t, resp.Form)
	view, err := b.adapter.modalFor(context.Background(), req, &origin{channel: channel}, resp.Form)
	require.NoError(t, err)
	golden(t, "create_modal", view)
}

func TestGoldenConfirmButton(t *testing.T) {
	t.Parallel()
	blocks := []commands.Block{
		commands.TextBlock("Stop *web1* (101 on pve1)?"),
		{Kind: commands.BlockButtons, Buttons: []commands.Button{
			{Label: "Stop web1", ActionID: commands.ActStop, Value: "ct-web1", Style: commands.StyleDanger,
				Confirm: &commands.Confirm{Title: "Stop web1?", Text: "The container is stopped at once, without a clean shutdown.", ConfirmLabel: "Stop it", DenyLabel: "Keep it running"}},
			{Label: "Cancel", ActionID: commands.ActDismiss, Value: "ct-web1"},
			{Label: "Also cancel", ActionID: commands.ActDismiss, Value: "ct-web1"},
		}},
	}
	golden(t, "confirm_button", message(commands.Response{Blocks: blocks}))
}

func TestRenderingSplitsInsteadOfTruncating(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("0123456789\n", 1000) // 11000 characters
	blocks := renderBlocks([]commands.Block{commands.CodeBlock(long), commands.TextBlock(long)})
	var all strings.Builder
	for _, b := range blocks {
		s := b.(*slack.SectionBlock)
		require.LessOrEqual(t, len([]rune(s.Text.Text)), maxSectionText)
		all.WriteString(s.Text.Text)
	}
	require.Equal(t, 2000, strings.Count(all.String(), "0123456789"))

	many := make([]commands.Block, 120)
	for i := range many {
		many[i] = commands.DividerBlock()
	}
	msgs := splitMessages(renderBlocks(many))
	require.Len(t, msgs, 3)
	for _, m := range msgs {
		require.LessOrEqual(t, len(m), maxMessageBlocks)
	}

	var fields []commands.Pair
	for range 23 {
		fields = append(fields, commands.Pair{Label: "k", Value: "v"})
	}
	require.Len(t, renderBlocks([]commands.Block{commands.FieldsBlock(fields...)}), 3)
}

func TestManifestIsValidYAMLWithTheCommandAndScopes(t *testing.T) {
	t.Parallel()
	for _, opts := range []ManifestOptions{{BaseURL: "https://bot.example.org/"}, {SocketMode: true}} {
		var m struct {
			Features struct {
				AppHome struct {
					HomeTabEnabled bool `yaml:"home_tab_enabled"`
				} `yaml:"app_home"`
				SlashCommands []struct {
					Command string
					URL     string
				} `yaml:"slash_commands"`
			}
			OAuth struct {
				Scopes struct{ Bot []string } `yaml:"scopes"`
			} `yaml:"oauth_config"`
			Settings struct {
				Events struct {
					RequestURL string   `yaml:"request_url"`
					BotEvents  []string `yaml:"bot_events"`
				} `yaml:"event_subscriptions"`
				Interactivity struct {
					IsEnabled  bool   `yaml:"is_enabled"`
					RequestURL string `yaml:"request_url"`
				}
				SocketMode bool `yaml:"socket_mode_enabled"`
			}
		}
		require.NoError(t, yaml.Unmarshal([]byte(Manifest(opts)), &m), Manifest(opts))
		require.Len(t, m.Features.SlashCommands, 1)
		require.Equal(t, "/lxc", m.Features.SlashCommands[0].Command)
		require.True(t, m.Features.AppHome.HomeTabEnabled)
		require.ElementsMatch(t, []string{"commands", "chat:write", "chat:write.public", "files:write", "users:read", "usergroups:read"}, m.OAuth.Scopes.Bot)
		require.ElementsMatch(t, []string{"app_home_opened", "app_mention"}, m.Settings.Events.BotEvents)
		require.True(t, m.Settings.Interactivity.IsEnabled)
		require.Equal(t, opts.SocketMode, m.Settings.SocketMode)
		if opts.SocketMode {
			require.Empty(t, m.Features.SlashCommands[0].URL)
			require.Empty(t, m.Settings.Events.RequestURL)
		} else {
			require.Equal(t, "https://bot.example.org/slack/commands", m.Features.SlashCommands[0].URL)
			require.Equal(t, "https://bot.example.org/slack/events", m.Settings.Events.RequestURL)
			require.Equal(t, "https://bot.example.org/slack/interactions", m.Settings.Interactivity.RequestURL)
		}
	}
}
