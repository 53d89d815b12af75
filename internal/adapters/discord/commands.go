package discord

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/provision"
)

// CommandName is the one application command the bot registers.
const CommandName = "lxc"

// appCommand is an application command or one of its options, as sent to
// the bulk-overwrite endpoint.
type appCommand struct {
	Type         int            `json:"type,omitempty"`
	Name         string         `json:"name"`
	Description  string         `json:"description"`
	Required     bool           `json:"required,omitempty"`
	Options      []appCommand   `json:"options,omitempty"`
	Choices      []optionChoice `json:"choices,omitempty"`
	Autocomplete bool           `json:"autocomplete,omitempty"`
	MinValue     *int           `json:"min_value,omitempty"`
	MaxValue     *int           `json:"max_value,omitempty"`
	// Contexts 0 = guild only: roles and channels exist only in guilds.
	Contexts []int `json:"contexts,omitempty"`
}

type optionChoice struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Discord's limits for commands.
const (
	maxCommandName    = 32
	maxCmdDescription = 100
	maxCmdOptions     = 25
)

// fixedChoices are the values some arguments accept, offered as choices.
var fixedChoices = map[string][]string{
	"role":    {"viewer", "operator", "admin"},
	"manager": {"apt", "pip", "npm", "custom"},
	"state":   {"pending", "creating", "ready", "failed", "cancelled", "deleting", "deleted", "gone"},
}

// CommandTree builds /lxc from the command table: one subcommand per
// command, two-word commands ("template show") as subcommand groups.
// A one-word command that names a group ("buckets") is reached through
// the group's own subcommand ("buckets list").
func CommandTree(t *commands.Table) (appCommand, error) {
	root := appCommand{Type: 1, Name: CommandName, Description: "Proxmox LXC containers: create, run and inspect", Contexts: []int{0}}
	groups := map[string]*appCommand{}
	var order []string
	leaves := map[string]appCommand{}
	isGroup := map[string]bool{}
	for _, c := range t.Commands() {
		if g, _, two := strings.Cut(c.Name, " "); two {
			isGroup[g] = true
		}
	}
	for _, c := range t.Commands() {
		g, sub, two := strings.Cut(c.Name, " ")
		if !two && isGroup[g] {
			continue
		}
		leaf, err := subcommand(c, sub, two)
		if err != nil {
			return appCommand{}, err
		}
		if !two {
			leaves[g] = leaf
			order = append(order, g)
			continue
		}
		grp, ok := groups[g]
		if !ok {
			grp = &appCommand{Type: optGroup, Name: g, Description: clipRunes(g+" commands", maxCmdDescription)}
			groups[g] = grp
			order = append(order, g)
		}
		grp.Options = append(grp.Options, leaf)
	}
	for _, name := range order {
		if grp, ok := groups[name]; ok {
			root.Options = append(root.Options, *grp)
		} else {
			root.Options = append(root.Options, leaves[name])
		}
	}
	if err := checkTree(root, 0); err != nil {
		return appCommand{}, err
	}
	return root, nil
}

func subcommand(c *commands.Command, sub string, grouped bool) (appCommand, error) {
	name := c.Name
	if grouped {
		name = sub
	}
	leaf := appCommand{Type: optSubcommand, Name: name, Description: describe(c.Summary, c.Name)}
	var required, optional []appCommand
	for _, a := range c.Args {
		o := appCommand{Type: optString, Name: a.Name, Description: describe(a.Help, a.Name), Required: a.Required && !a.Variadic}
		if a.Variadic {
			o.Description = describe(a.Help+" (separate with spaces)", a.Name)
		}
		decorate(&o, c, a.Name)
		if o.Required {
			required = append(required, o)
		} else {
			optional = append(optional, o)
		}
	}
	for _, op := range c.Opts {
		o := appCommand{Name: op.Name, Description: describe(op.Help, op.Name)}
		switch op.Type {
		case commands.TypeBool:
			o.Type = optBoolean
		case commands.TypeInt:
			o.Type = optInteger
			if op.Max > 0 {
				lo, hi := op.Min, op.Max
				o.MinValue, o.MaxValue = &lo, &hi
			}
		default:
			o.Type = optString
			decorate(&o, c, op.Name)
		}
		optional = append(optional, o)
	}
	// Discord lists required options before optional ones.
	leaf.Options = append(required, optional...)
	return leaf, nil
}

// decorate adds autocomplete or fixed choices to a string option.
func decorate(o *appCommand, c *commands.Command, name string) {
	if k := completionKind(c.Name, name); k != "" {
		o.Autocomplete = true
		return
	}
	for _, v := range fixedChoices[name] {
		o.Choices = append(o.Choices, optionChoice{Name: v, Value: v})
	}
}

// completionKind says what an argument names, for autocomplete: "ct",
// "template" or "node" (the option names the core's autocomplete knows).
func completionKind(command, option string) string {
	g, _, _ := strings.Cut(command, " ")
	switch {
	case option == "ct":
		return "ct"
	case option == "template" || g == "template" && option == "name":
		return "template"
	case option == "node" || g == "node" && option == "name":
		return "node"
	}
	return ""
}

func describe(help, fallback string) string {
	help = strings.TrimSpace(help)
	if help == "" {
		help = fallback
	}
	return clipRunes(help, maxCmdDescription)
}

// checkTree enforces Discord's command limits, so a table that outgrows
// them fails in tests instead of at registration.
func checkTree(c appCommand, depth int) error {
	if n := utf8.RuneCountInString(c.Name); n < 1 || n > maxCommandName || strings.ToLower(c.Name) != c.Name || strings.ContainsAny(c.Name, " .") {
		return fmt.Errorf("command name %q breaks Discord's naming rules", c.Name)
	}
	if n := utf8.RuneCountInString(c.Description); n < 1 || n > maxCmdDescription {
		return fmt.Errorf("%s: description has %d characters", c.Name, n)
	}
	if len(c.Options) > maxCmdOptions || len(c.Choices) > maxCmdOptions {
		return fmt.Errorf("%s: %d options and %d choices; at most %d", c.Name, len(c.Options), len(c.Choices), maxCmdOptions)
	}
	if depth > 3 { // command, group, subcommand, option
		return fmt.Errorf("%s: nested too deep", c.Name)
	}
	seen := map[string]bool{}
	for _, o := range c.Options {
		if seen[o.Name] {
			return fmt.Errorf("%s: option %s twice", c.Name, o.Name)
		}
		seen[o.Name] = true
		if err := checkTree(o, depth+1); err != nil {
			return fmt.Errorf("%s %w", c.Name, err)
		}
	}
	return nil
}

// Register bulk-overwrites the application's commands with /lxc: in one
// guild when guildID is set (applies at once), else globally (may take a
// while to reach every client). It is what `lxcbot discord register` runs.
func (a *Adapter) Register(ctx context.Context, guildID string) error {
	tree, err := CommandTree(a.router.Table())
	if err != nil {
		return fmt.Errorf("building the command tree: %w", err)
	}
	path, route := "applications/"+a.appID+"/commands", "applications/{app}/commands"
	if guildID != "" {
		if !isSnowflake(guildID) {
			return fmt.Errorf("guild id %q is not a Discord id", guildID)
		}
		path, route = "applications/"+a.appID+"/guilds/"+guildID+"/commands", "applications/{app}/guilds/{guild}/commands"
	}
	var out []struct {
		ID string `json:"id"`
	}
	if err := a.rest.do(ctx, call{method: http.MethodPut, path: path, route: route, bot: true, body: []appCommand{tree}, out: &out}); err != nil {
		return fmt.Errorf("registering /%s: %w", CommandName, err)
	}
	a.log.InfoContext(ctx, "registered application commands", "guild", guildID, "commands", len(out))
	return nil
}

// invocation is a typed command turned back into command text.
type invocation struct {
	command string // "create", "template show"
	text    string // everything after /lxc, for the core's parser
	focus   *commands.AutocompleteQuery
}

var errNotOurCommand = errors.New("not the /lxc command")

// translate turns /lxc's subcommand and options back into the text the
// core parses ("create nginx web1 --node=pve2"), so parsing and
// validation stay in one place. Values are quoted so that they reach the
// parser as one word each; variadic arguments are split as typed.
func translate(t *commands.Table, data commandData) (invocation, error) {
	if data.Name != CommandName {
		return invocation{}, errNotOurCommand
	}
	if len(data.Options) == 0 {
		return invocation{command: "help", text: "help"}, nil
	}
	top := data.Options[0]
	name, opts := top.Name, top.Options
	if top.Type == optGroup {
		if len(top.Options) == 0 {
			return invocation{}, fmt.Errorf("group %s without a subcommand", clipRunes(top.Name, 32))
		}
		name, opts = top.Name+" "+top.Options[0].Name, top.Options[0].Options
	}
	inv := invocation{command: name}
	values := map[string]string{}
	for _, o := range opts {
		v, err := optionString(o.Value)
		if err != nil {
			return invocation{}, fmt.Errorf("option %s: %w", clipRunes(o.Name, 32), err)
		}
		values[o.Name] = v
		if o.Focused {
			inv.focus = &commands.AutocompleteQuery{Command: name, Option: completionKind(name, o.Name), Value: v}
		}
	}
	cmd := t.Lookup(name)
	if cmd == nil {
		inv.text = name
		return inv, nil
	}
	var positional, options []string
	for _, a := range cmd.Args {
		v, ok := values[a.Name]
		if !ok || v == "" {
			continue
		}
		delete(values, a.Name)
		if a.Variadic {
			positional = append(positional, v) // split into words by the parser
		} else {
			positional = append(positional, quote(v))
		}
	}
	for _, o := range cmd.Opts {
		v, ok := values[o.Name]
		if !ok {
			continue
		}
		delete(values, o.Name)
		if o.Type == commands.TypeBool {
			if v == "true" {
				options = append(options, "--"+o.Name)
			}
			continue
		}
		options = append(options, "--"+o.Name+"="+quote(v))
	}
	for k := range values { // an option the table no longer has: let the parser say so
		options = append(options, "--"+k)
	}
	words := []string{name}
	dashed := false
	for _, p := range positional {
		dashed = dashed || strings.HasPrefix(p, "-")
	}
	if dashed {
		// A value that looks like an option must stay a value.
		words = append(append(append(words, options...), "--"), positional...)
	} else {
		words = append(append(words, positional...), options...)
	}
	inv.text = strings.Join(words, " ")
	return inv, nil
}

// quote makes s one word for commands.Tokenize.
func quote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n\r'\"“”") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// principal is who acted, as the core knows them.
func principal(it *interaction) provision.Principal {
	u := it.who()
	name := u.GlobalName
	if name == "" {
		name = u.Username
	}
	if it.Member != nil && it.Member.Nick != "" {
		name = it.Member.Nick
	}
	return provision.Principal{Platform: provision.PlatformDiscord, UserID: u.ID, Name: name}
}
