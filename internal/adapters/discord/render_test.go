package discord

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/adapters/discord/discordfake"
	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/commands/commandstest"
	"github.com/lxcbot/lxcbot/internal/provision"
)

var update = flag.Bool("update", false, "rewrite golden files")

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

// checkLimits asserts Discord's message limits on rendered messages.
func checkLimits(t *testing.T, msgs []outMessage) {
	t.Helper()
	for _, m := range msgs {
		if m.Content != nil {
			require.LessOrEqual(t, utf8.RuneCountInString(*m.Content), maxContent)
		}
		require.LessOrEqual(t, len(m.Embeds), maxEmbeds)
		total := 0
		for _, e := range m.Embeds {
			require.LessOrEqual(t, utf8.RuneCountInString(e.Description), maxDescription)
			require.LessOrEqual(t, len(e.Fields), maxEmbedFields)
			total += utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Description)
			for _, f := range e.Fields {
				require.LessOrEqual(t, utf8.RuneCountInString(f.Value), maxFieldValue)
				total += utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Value)
			}
			if e.Footer != nil {
				total += utf8.RuneCountInString(e.Footer.Text)
			}
		}
		require.LessOrEqual(t, total, maxEmbedTotal)
		require.LessOrEqual(t, len(m.Components), maxRows)
		for _, r := range m.Components {
			require.LessOrEqual(t, len(r.Components), maxRowButtons)
			for _, c := range r.Components {
				require.LessOrEqual(t, len(c.CustomID), maxCustomID)
				require.LessOrEqual(t, utf8.RuneCountInString(c.Label), maxButtonLabel)
				require.LessOrEqual(t, len(c.Options), maxSelectOption)
			}
		}
	}
}

func TestGoldenPayloads(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	render := func(resp commands.Response) []outMessage {
		msgs, err := b.a.render(ctx, resp)
		require.NoError(t, err)
		checkLimits(t, msgs)
		return msgs
	}
	ct := &provision.Container{ID: "ct-web9", Hostname: "web9", VMID: 109, NodeName: "pve1", TemplateName: "nginx",
		Owner: provision.Principal{Platform: provision.PlatformDiscord, UserID: "1", Name: "olive"}, State: provision.StateCreating, CreatedAt: commandstest.Epoch}
	at := commandstest.Epoch
	evs := []provision.ProgressEvent{
		{Type: provision.ProgressPhaseStarted, Phase: provision.PhaseReserve, At: at},
		{Type: provision.ProgressPhaseFinished, Phase: provision.PhaseReserve, VMID: 109, Percent: 5, At: at.Add(time.Second)},
		{Type: provision.ProgressPhaseStarted, Phase: provision.PhaseScripts, Percent: 60, At: at.Add(20 * time.Second)},
		{Type: provision.ProgressScriptStarted, Phase: provision.PhaseScripts, Script: "10-install.sh", ScriptIndex: 1, ScriptTotal: 2, Percent: 62, At: at.Add(21 * time.Second)},
	}
	golden(t, "job_card", render(commands.JobCard(ct, evs, nil)))
	failed := append(evs, provision.ProgressEvent{Type: provision.ProgressFailed, Phase: provision.PhaseScripts, Message: "script 10-install.sh exited with status 1",
		Lines: []string{"E: Unable to locate package nginx-extras"}, At: at.Add(30 * time.Second)})
	golden(t, "job_card_failed", render(commands.JobCard(ct, failed, nil)))

	ready := *ct
	ready.State = provision.StateReady
	ready.IP = "10.0.0.109"
	st := &commands.LiveStatus{Status: "running", CPU: 0.12, MemUsed: 256 << 20, MemTotal: 512 << 20, DiskUsed: 2 << 30, DiskTotal: 8 << 30, Uptime: 3 * time.Hour}
	svcs := []provision.Service{{Unit: "nginx.service", Kind: provision.ServiceApplication, Status: "active", Ports: []int{80}, URL: "http://10.0.0.109:80"}}
	golden(t, "container_show", render(commands.ContainerCard(&ready, st, svcs, commandstest.Epoch.Add(26*time.Hour))))

	for i := range 20 {
		_, err := b.mem.Create(ctx, commandstest.Operator, provision.Origin{}, provision.CreateRequest{Template: "nginx", Hostname: fmt.Sprintf("app%02d", i)}, "")
		require.NoError(t, err)
	}
	list := b.router.Handle(ctx, commands.Request{Principal: principalOf(opUser), Platform: provision.PlatformDiscord, Kind: commands.KindCommand, Text: "list --page 2"})
	require.NotNil(t, list.Page)
	golden(t, "list_page", render(list))

	form := b.router.Handle(ctx, commands.Request{Principal: principalOf(opUser), Platform: provision.PlatformDiscord, Kind: commands.KindCommand, Text: "create"})
	require.NotNil(t, form.Form)
	sess := newSession(form.Form, nil)
	sess.Values["template"] = "nginx"
	golden(t, "create_modal", buildModal("KEY", sess))
	step, err := b.a.selectStep(ctx, "KEY", sess)
	require.NoError(t, err)
	golden(t, "create_select_step", step)
}

func TestLongOutputIsPaginatedNotDropped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var blocks []commands.Block
	blocks = append(blocks, commands.HeaderBlock("Logs"))
	var want strings.Builder
	for i := range 12 {
		line := fmt.Sprintf("line %02d %s", i, strings.Repeat("x", 2500))
		blocks = append(blocks, commands.TextBlock(line))
		want.WriteString(line)
	}
	var pairs []commands.Pair
	for i := range 30 {
		pairs = append(pairs, commands.Pair{Label: fmt.Sprintf("k%d", i), Value: "v"})
	}
	blocks = append(blocks, commands.FieldsBlock(pairs...))
	var buttons []commands.Button
	for i := range 30 {
		buttons = append(buttons, commands.Button{Label: fmt.Sprint("b", i), ActionID: commands.ActShow, Value: strings.Repeat("v", 150) + fmt.Sprint(i)})
	}
	blocks = append(blocks, commands.ButtonBlocks(buttons...)...)
	msgs, err := b.a.render(context.Background(), commands.Response{Blocks: blocks})
	require.NoError(t, err)
	require.Greater(t, len(msgs), 1)
	checkLimits(t, msgs)
	var got strings.Builder
	fields, buttonsSeen := 0, 0
	for _, m := range msgs {
		for _, e := range m.Embeds {
			got.WriteString(strings.ReplaceAll(e.Description, "\n", ""))
			fields += len(e.Fields)
		}
		for _, r := range m.Components {
			buttonsSeen += len(r.Components)
			for _, c := range r.Components {
				require.True(t, strings.HasPrefix(c.CustomID, "k|"), "a long value is stored: %s", c.CustomID)
			}
		}
	}
	require.Equal(t, want.String(), got.String(), "every character arrives, in order")
	require.Equal(t, 30, fields)
	require.Equal(t, 30, buttonsSeen)

	// The stored value comes back on a press.
	key := strings.TrimPrefix(msgs[len(msgs)-1].Components[0].Components[0].CustomID, "k|")
	var sb storedButton
	require.NoError(t, b.a.loadJSON(context.Background(), "btn", key, &sb))
	require.Equal(t, commands.ActShow, sb.Action)
	require.True(t, strings.HasPrefix(sb.Value, strings.Repeat("v", 150)))
}

func TestMarkdown(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"*bold* text":                 "**bold** text",
		"a `*not bold*` b":            "a `*not bold*` b",
		"see <http://x:80|the site>":  "see [the site](http://x:80)",
		":warning: careful":           "⚠️ careful",
		"2*3*4":                       "2*3*4",
		"✅ *web1* (101): started":     "✅ **web1** (101): started",
		"<http://10.0.0.1:80>":        "<http://10.0.0.1:80>",
		"(*x*)":                       "(**x**)",
		"plain":                       "plain",
		"*Failed at scripts:* oops *": "**Failed at scripts:** oops *",
	} {
		require.Equal(t, want, markdown(in), in)
	}
}

func TestTranslateBuildsCommandText(t *testing.T) {
	t.Parallel()
	r := commands.New(commands.Deps{Backend: commandstest.NewMem()})
	opt := func(name string, typ int, v any) commandOption {
		raw, _ := json.Marshal(v)
		return commandOption{Name: name, Type: typ, Value: raw}
	}
	sub := func(name string, opts ...commandOption) commandData {
		words := strings.Fields(name)
		leaf := commandOption{Name: words[len(words)-1], Type: optSubcommand, Options: opts}
		if len(words) == 2 {
			leaf = commandOption{Name: words[0], Type: optGroup, Options: []commandOption{leaf}}
		}
		return commandData{Name: "lxc", Options: []commandOption{leaf}}
	}
	for _, tc := range []struct {
		data commandData
		want string
	}{
		{sub("create", opt("node", optString, "pve2"), opt("hostname", optString, "web1"), opt("template", optString, "nginx"), opt("cores", optInteger, 2)),
			"create nginx web1 --node=pve2 --cores=2"},
		{sub("create", opt("ssh-key", optString, "ssh-ed25519 AAAA me@host")), "create --ssh-key='ssh-ed25519 AAAA me@host'"},
		{sub("list", opt("mine", optBoolean, true), opt("state", optString, "ready")), "list --state=ready --mine"},
		{sub("list", opt("mine", optBoolean, false)), "list"},
		{sub("show", opt("ct", optString, "--mine")), "show -- --mine"},
		{sub("show", opt("ct", optString, "it's")), `show 'it'"'"'s'`},
		{sub("template show", opt("name", optString, "nginx")), "template show nginx"},
		{sub("buckets add", opt("name", optString, "tools"), opt("manager", optString, "apt"), opt("packages", optString, "curl jq")), "buckets add tools apt curl jq"},
		{sub("help"), "help"},
		{commandData{Name: "lxc"}, "help"},
	} {
		inv, err := translate(r.Table(), tc.data)
		require.NoError(t, err)
		require.Equal(t, tc.want, inv.text)
		// The core parses what we built back into the same values.
		if tc.want != "help" {
			_, err := r.Table().Parse(inv.text)
			if !strings.HasPrefix(tc.want, "show --") {
				require.NoError(t, err, inv.text)
			}
		}
	}
	_, err := translate(r.Table(), commandData{Name: "other"})
	require.ErrorIs(t, err, errNotOurCommand)
}

func TestCommandTreeFitsDiscordLimits(t *testing.T) {
	t.Parallel()
	r := commands.New(commands.Deps{Backend: commandstest.NewMem()})
	tree, err := CommandTree(r.Table())
	require.NoError(t, err)
	require.LessOrEqual(t, len(tree.Options), 25)
	raw, err := json.Marshal([]appCommand{tree})
	require.NoError(t, err)
	require.Empty(t, discordfake.ValidateCommands(raw))
	golden(t, "command_tree", tree)
}
