package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// channelSet is a name a channel binding accepts for several commands at
// once, with the first words of the commands it covers.
type channelSet struct {
	name   string
	groups []string
}

// channelSets are the sets bindings accept.
var channelSets = []channelSet{
	{"lifecycle", []string{"start", "stop", "shutdown", "restart", "delete"}},
	{"monitoring", []string{"list", "show", "services", "logs", "events", "creds"}},
	{"create", []string{"create"}},
	{"catalog", []string{"templates", "template", "buckets"}},
	{"admin", []string{"nodes", "node", "roles", "role", "notify", "audit", "channel", "channels"}},
}

func findChannelSet(name string) (channelSet, bool) {
	i := slices.IndexFunc(channelSets, func(s channelSet) bool { return s.name == name })
	if i < 0 {
		return channelSet{}, false
	}
	return channelSets[i], true
}

// channelSetOf names the set a command group belongs to, or "". The
// hidden job buttons (cancel, retry, keep) belong to creation.
func channelSetOf(group string) string {
	if group == "job" {
		return "create"
	}
	for _, s := range channelSets {
		if slices.Contains(s.groups, group) {
			return s.name
		}
	}
	return ""
}

// alwaysInChannel are the groups a binding never refuses: help, and the
// binding commands themselves, so an admin cannot lock a channel for good.
// They still need their role.
func alwaysInChannel(group string) bool {
	return group == "help" || group == "channel" || group == "channels"
}

// channelAllows reports whether a binding's allowed list admits cmd: by
// set (lifecycle), by first word (node) or by full name (node test).
func channelAllows(allowed []string, cmd *Command) bool {
	if len(allowed) == 0 || alwaysInChannel(cmd.Group()) {
		return true
	}
	for _, a := range allowed {
		if a == cmd.Channel || a == cmd.Group() || a == cmd.Name {
			return true
		}
	}
	return false
}

// describeAllowed renders an allowed list for people: sets with what they
// cover, single commands (and a set named after one, create) as /lxc name.
func describeAllowed(allowed []string) string {
	parts := make([]string, 0, len(allowed))
	for _, a := range allowed {
		if set, ok := findChannelSet(a); ok && !slices.Contains(set.groups, a) {
			parts = append(parts, fmt.Sprintf("the %s commands (%s)", a, strings.Join(set.groups, ", ")))
			continue
		}
		parts = append(parts, "/lxc "+a)
	}
	return strings.Join(parts, ", ")
}

// channelSetsHelp lists what each set covers.
func channelSetsHelp() string {
	parts := make([]string, 0, len(channelSets))
	for _, s := range channelSets {
		parts = append(parts, fmt.Sprintf("%s = %s", s.name, strings.Join(s.groups, ", ")))
	}
	return "Sets: " + strings.Join(parts, "; ") + "."
}

// checkAllowed validates the words of /lxc channel allow: set names and the
// first words of visible commands.
func (r *Router) checkAllowed(words string) error {
	for _, w := range strings.Fields(strings.ToLower(words)) {
		if _, ok := findChannelSet(w); ok || slices.Contains(r.table.Groups(), w) {
			continue
		}
		return fmt.Errorf("%q is not a command or set of commands; use lifecycle, monitoring, create, catalog, admin or a command such as stop or node", clip(w, 40))
	}
	return nil
}

func (r *Router) channelShowCommand(name string) *Command {
	return &Command{
		Name:    name,
		alias:   name != "channel show",
		Summary: "which commands this channel accepts",
		Role:    provision.RoleAdmin,
		run: func(ctx context.Context, c *call) (*Response, error) {
			ch, err := bindableChannel(c)
			if err != nil {
				return nil, usagef(c.inv.Command, "%s", err)
			}
			c.audit.Target = ch
			b, err := r.b.ChannelBinding(ctx, c.req.Platform, ch)
			if err != nil {
				return nil, err
			}
			if b == nil || len(b.AllowedCommands) == 0 {
				return &Response{Blocks: []Block{
					TextBlock(fmt.Sprintf("<#%s> is open: it accepts every command. Limit it with `/lxc channel allow <command…>`, e.g. `/lxc channel allow lifecycle`.", ch)),
					ContextBlock(channelSetsHelp()),
				}}, nil
			}
			return &Response{Blocks: []Block{
				TextBlock(fmt.Sprintf("<#%s> accepts only %s.", ch, describeAllowed(b.AllowedCommands))),
				ContextBlock("/lxc help and /lxc channel always work here. /lxc channel open lifts the limit."),
			}}, nil
		},
	}
}

func (r *Router) channelAllowCommand() *Command {
	return &Command{
		Name: "channel allow",
		Args: []Arg{{Name: "commands", Required: true, Variadic: true,
			Help: "lifecycle, monitoring, create, catalog, admin, or a command such as stop"}},
		Summary:   "limit this channel to some commands",
		Example:   "channel allow lifecycle",
		Role:      provision.RoleAdmin,
		argChecks: map[string]func(string) error{"commands": r.checkAllowed},
		run: func(ctx context.Context, c *call) (*Response, error) {
			ch, err := bindableChannel(c)
			if err != nil {
				return nil, usagef(c.inv.Command, "%s", err)
			}
			var allowed []string
			for _, w := range c.inv.Rest {
				if w = strings.ToLower(w); !slices.Contains(allowed, w) {
					allowed = append(allowed, w)
				}
			}
			if len(allowed) > 32 {
				return nil, usagef(c.inv.Command, "at most 32 commands or sets; use a set such as lifecycle")
			}
			c.audit.Target = ch
			b := &provision.ChannelBinding{Platform: c.req.Platform, ChannelID: ch, AllowedCommands: allowed}
			if err := r.b.SetChannelBinding(ctx, c.principal(), b); err != nil {
				return nil, err
			}
			return &Response{Visibility: InChannel, Blocks: []Block{
				TextBlock(fmt.Sprintf("✅ <#%s> now accepts only %s.", ch, describeAllowed(b.AllowedCommands))),
				ContextBlock("/lxc help and /lxc channel always work here. /lxc channel open lifts the limit."),
			}}, nil
		},
	}
}

func (r *Router) channelOpenCommand() *Command {
	return &Command{
		Name:    "channel open",
		Summary: "let this channel accept every command again",
		Role:    provision.RoleAdmin,
		run: func(ctx context.Context, c *call) (*Response, error) {
			ch, err := bindableChannel(c)
			if err != nil {
				return nil, usagef(c.inv.Command, "%s", err)
			}
			c.audit.Target = ch
			err = r.b.RemoveChannelBinding(ctx, c.principal(), c.req.Platform, ch)
			if errors.Is(err, provision.ErrNotFound) {
				return &Response{Blocks: []Block{TextBlock(fmt.Sprintf("<#%s> already accepts every command.", ch))}}, nil
			}
			if err != nil {
				return nil, err
			}
			return &Response{Visibility: InChannel, Blocks: []Block{TextBlock(fmt.Sprintf("✅ <#%s> accepts every command again.", ch))}}, nil
		},
	}
}

func (r *Router) channelsCommand() *Command {
	return &Command{
		Name:    "channels",
		Summary: "channels limited to some commands",
		Role:    provision.RoleAdmin,
		run: func(ctx context.Context, c *call) (*Response, error) {
			bs, err := r.b.ChannelBindings(ctx, c.req.Platform)
			if err != nil {
				return nil, err
			}
			if len(bs) == 0 {
				return &Response{Blocks: []Block{TextBlock("No channel is limited: every channel accepts every command. Limit one with `/lxc channel allow <command…>` in it.")}}, nil
			}
			lines := make([]string, 0, len(bs))
			for _, b := range bs {
				lines = append(lines, fmt.Sprintf("<#%s> — %s", b.ChannelID, describeAllowed(b.AllowedCommands)))
			}
			return &Response{Blocks: append([]Block{HeaderBlock(fmt.Sprintf("Channel bindings (%d)", len(bs)))}, TextBlocks(strings.Join(lines, "\n"))...)}, nil
		},
	}
}

// bindableChannel is the channel the request came from; direct requests
// without one (an HTTP call, an App Home tab) have nothing to bind.
func bindableChannel(c *call) (string, error) {
	if c.req.Channel == "" {
		return "", errors.New("run this in the channel you want to limit")
	}
	return c.req.Channel, nil
}
