package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/lxcbot/lxcbot/internal/provision"
)

func (r *Router) helpCommand() *Command {
	return &Command{
		Name:    "help",
		Args:    []Arg{{Name: "command", Variadic: true, Help: "a command name, e.g. create or node add"}},
		Summary: "show commands, or the usage of one",
		Role:    provision.RoleViewer,
		run:     r.runHelp,
	}
}

func (r *Router) runHelp(_ context.Context, c *call) (*Response, error) {
	if name := strings.ToLower(strings.Join(c.inv.Rest, " ")); name != "" {
		cmd := r.table.Lookup(name)
		if cmd == nil || cmd.Hidden {
			// "help node" lists the node commands.
			var group []*Command
			for _, k := range r.table.Commands() {
				if k.Group() == name || strings.TrimSuffix(k.Group(), "s") == name {
					group = append(group, k)
				}
			}
			if len(group) == 0 {
				return nil, &UsageError{Msg: fmt.Sprintf("there is no command %q", name)}
			}
			return &Response{Blocks: helpList("/lxc "+name, group)}, nil
		}
		return &Response{Blocks: commandHelp(cmd)}, nil
	}
	// The table never changes after New: render the full list once. A copy
	// goes out, since callers may append to a response's blocks.
	r.helpOnce.Do(func() { r.helpAll = helpList("lxcbot commands", r.table.Commands()) })
	return &Response{Blocks: slices.Clone(r.helpAll)}, nil
}

func helpList(title string, cmds []*Command) []Block {
	blocks := []Block{HeaderBlock(title)}
	var text strings.Builder
	byRole := map[provision.Role][]*Command{}
	for _, c := range cmds {
		byRole[c.Role] = append(byRole[c.Role], c)
	}
	for _, role := range []provision.Role{provision.RoleViewer, provision.RoleOperator, provision.RoleAdmin} {
		if len(byRole[role]) == 0 {
			continue
		}
		fmt.Fprintf(&text, "*%s*\n", roleTitle(role))
		for _, c := range byRole[role] {
			fmt.Fprintf(&text, "`/lxc %s` — %s\n", shortSynopsis(c), c.Summary)
		}
		text.WriteString("\n")
	}
	blocks = append(blocks, TextBlocks(strings.TrimSpace(text.String()))...)
	blocks = append(blocks, ContextBlock("<ct> is a hostname or VMID. /lxc help <command> shows its options."))
	return blocks
}

func roleTitle(r provision.Role) string {
	switch r {
	case provision.RoleViewer:
		return "Everyone (viewer)"
	case provision.RoleOperator:
		return "Operators (own containers; admins: any)"
	}
	return "Admins"
}

// shortSynopsis is the name and arguments, with options folded.
func shortSynopsis(c *Command) string {
	s := c.Name
	for _, a := range c.Args {
		switch {
		case a.Variadic && a.Required:
			s += " <" + a.Name + "…>"
		case a.Variadic:
			s += " [" + a.Name + "…]"
		case a.Required:
			s += " <" + a.Name + ">"
		default:
			s += " [" + a.Name + "]"
		}
	}
	if len(c.Opts) > 0 {
		s += " [options]"
	}
	return s
}

// commandHelp is the full usage of one command.
func commandHelp(c *Command) []Block {
	var b strings.Builder
	fmt.Fprintf(&b, "*Usage:* `/lxc %s`\n%s", c.Synopsis(), c.Summary)
	if c.Owned {
		b.WriteString(" (operators: own containers only)")
	}
	fmt.Fprintf(&b, "\n*Needs:* %s role", c.Role)
	for _, a := range c.Args {
		if a.Help != "" {
			fmt.Fprintf(&b, "\n• `<%s>` %s", a.Name, a.Help)
		}
	}
	for _, o := range c.Opts {
		if o.Type == TypeBool {
			fmt.Fprintf(&b, "\n• `--%s` %s", o.Name, o.Help)
		} else {
			fmt.Fprintf(&b, "\n• `--%s %s` (%s) %s", o.Name, o.meta(), o.Type, o.Help)
		}
	}
	if c.Example != "" {
		fmt.Fprintf(&b, "\n*Example:* `/lxc %s`", c.Example)
	}
	return TextBlocks(b.String())
}

func joinGroups(gs []string) string { return strings.Join(gs, ", ") }
