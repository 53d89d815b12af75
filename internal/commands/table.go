package commands

import (
	"context"
	"sort"
	"strings"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// Command is one entry of the command table: its grammar, help, the role it
// needs and the function that runs it. The table is built per Router by
// newTable; nothing is registered globally.
type Command struct {
	Name    string // "create", "template show"
	Args    []Arg
	Opts    []Opt
	Summary string
	Example string
	// Role is the minimum role. Target names the argument that names a
	// container; with Owned, operators may act only on containers they own.
	Role   provision.Role
	Target string
	Owned  bool
	// Hidden commands are reached only through buttons and forms.
	Hidden bool
	// alias commands parse but are left out of help (e.g. "buckets list").
	alias bool
	// Channel is the set of commands a channel binding may allow it under
	// (lifecycle, monitoring, create, catalog, admin); the table fills it in.
	Channel   string
	run       func(ctx context.Context, c *call) (*Response, error)
	argChecks map[string]func(string) error
}

func (c *Command) opt(name string) *Opt {
	for i := range c.Opts {
		if c.Opts[i].Name == name {
			return &c.Opts[i]
		}
	}
	return nil
}

func (c *Command) argCheck(name string) func(string) error { return c.argChecks[name] }

// Group is the first word of the name, which channel bindings allow.
func (c *Command) Group() string {
	g, _, _ := strings.Cut(c.Name, " ")
	return g
}

// Synopsis is the one-line grammar, e.g. "logs <ct> <service> [--lines N]".
func (c *Command) Synopsis() string {
	var b strings.Builder
	b.WriteString(c.Name)
	for _, a := range c.Args {
		b.WriteByte(' ')
		switch {
		case a.Variadic && a.Required:
			b.WriteString("<" + a.Name + "…>")
		case a.Variadic:
			b.WriteString("[" + a.Name + "…]")
		case a.Required:
			b.WriteString("<" + a.Name + ">")
		default:
			b.WriteString("[" + a.Name + "]")
		}
	}
	for _, o := range c.Opts {
		b.WriteString(" [--" + o.Name)
		if o.Type != TypeBool {
			b.WriteString(" " + o.meta())
		}
		b.WriteString("]")
	}
	return b.String()
}

// Table is the command table.
type Table struct {
	list   []*Command
	byName map[string]*Command
}

func (t *Table) add(c *Command) {
	if c.Channel == "" {
		c.Channel = channelSetOf(c.Group())
	}
	t.list = append(t.list, c)
	t.byName[c.Name] = c
}

// Commands lists the visible commands in table order.
func (t *Table) Commands() []*Command {
	out := make([]*Command, 0, len(t.list))
	for _, c := range t.list {
		if !c.Hidden && !c.alias {
			out = append(out, c)
		}
	}
	return out
}

// Lookup returns the command named name (hidden ones included), or nil.
func (t *Table) Lookup(name string) *Command { return t.byName[name] }

// Groups lists the distinct first words of visible commands, sorted.
func (t *Table) Groups() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range t.Commands() {
		if g := c.Group(); !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	sort.Strings(out)
	return out
}

func newTable(r *Router) *Table {
	t := &Table{byName: map[string]*Command{}}
	for _, c := range []*Command{
		r.helpCommand(),
		r.createCommand(),
		r.listCommand(),
		r.showCommand(),
		r.lifecycleCommand(ActionStart),
		r.lifecycleCommand(ActionStop),
		r.lifecycleCommand(ActionShutdown),
		r.lifecycleCommand(ActionRestart),
		r.lifecycleCommand(ActionDelete),
		r.servicesCommand(),
		r.logsCommand(),
		r.credsCommand(),
		r.eventsCommand(),
		r.templatesCommand(),
		r.templateShowCommand(),
		r.templateEditCommand(),
		r.templateSyncCommand(),
		r.templateExportCommand(),
		r.bucketsCommand("buckets"),
		r.bucketsCommand("buckets list"),
		r.bucketShowCommand(),
		r.bucketAddCommand(),
		r.bucketRemoveCommand(),
		r.nodesCommand(),
		r.nodeAddCommand(),
		r.nodeEditCommand(),
		r.nodeTestCommand(),
		r.nodeDefaultCommand(),
		r.nodeRemoveCommand(),
		r.rolesCommand(),
		r.roleCommand("grant"),
		r.roleCommand("revoke"),
		r.notifyCommand(),
		r.auditCommand(),
		r.channelShowCommand("channel show"),
		r.channelShowCommand("channel"),
		r.channelAllowCommand(),
		r.channelOpenCommand(),
		r.channelsCommand(),
		r.jobCommand(jobCancel),
		r.jobCommand(jobRetry),
		r.jobCommand(jobKeep),
	} {
		t.add(c)
	}
	return t
}
