package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/lxcbot/lxcbot/internal/provision"
)

func (r *Router) servicesCommand() *Command {
	return &Command{
		Name:    "services",
		Args:    []Arg{ctArg()},
		Opts:    []Opt{{Name: "refresh", Type: TypeBool, Help: "discover the services again first"}},
		Summary: "services running in a container, with ports and links",
		Example: "services web1 --refresh",
		Role:    provision.RoleViewer,
		Target:  "ct",
		run: func(ctx context.Context, c *call) (*Response, error) {
			svcs, err := r.b.Services(ctx, c.ct.ID, c.inv.Flag("refresh"))
			if err != nil {
				return nil, err
			}
			blocks := []Block{HeaderBlock("Services of " + c.ct.Hostname)}
			apps := appServices(svcs)
			if len(apps) == 0 {
				blocks = append(blocks, TextBlock("No application services found. Try `--refresh`."))
			}
			for i, s := range apps {
				if i >= 20 {
					var rest []string
					for _, s := range apps[20:] {
						rest = append(rest, serviceLine(s))
					}
					blocks = append(blocks, TextBlocks(strings.Join(rest, "\n"))...)
					break
				}
				var link *Button
				if s.URL != "" {
					link = &Button{Label: "Open", URL: s.URL}
				}
				blocks = append(blocks, SectionBlock(serviceLine(s), link))
			}
			var sys []string
			for _, s := range svcs {
				if s.Kind != provision.ServiceApplication {
					sys = append(sys, s.Unit)
				}
			}
			if len(sys) > 0 {
				blocks = append(blocks, ContextBlock(clip(fmt.Sprintf("+ %d system services: %s", len(sys), strings.Join(sys, ", ")), MaxSectionText)))
			}
			return &Response{Blocks: blocks}, nil
		},
	}
}

func (r *Router) logsCommand() *Command {
	return &Command{
		Name:      "logs",
		Args:      []Arg{ctArg(), {Name: "service", Required: true, Help: "a systemd unit from /lxc services"}},
		Opts:      []Opt{{Name: "lines", Type: TypeInt, Meta: "N", Help: "how many lines, 1–500 (default 50)", Min: 1, Max: 500}},
		Summary:   "the last journal lines of one service",
		Example:   "logs web1 nginx --lines 100",
		Role:      provision.RoleOperator,
		Target:    "ct",
		Owned:     true,
		argChecks: map[string]func(string) error{"service": checkUnit},
		run: func(ctx context.Context, c *call) (*Response, error) {
			unit, lines := c.inv.Arg("service"), c.inv.Int("lines", 50)
			out, err := r.b.Logs(ctx, c.ct.ID, unit, lines)
			if err != nil {
				return nil, err
			}
			resp := &Response{Blocks: []Block{ContextBlock(fmt.Sprintf("journalctl -u %s -n %d on %s", unit, lines, c.ct.Hostname))}}
			codeOrFile(resp, fmt.Sprintf("%s-%s.log", c.ct.Hostname, strings.TrimSuffix(unit, ".service")), out)
			return resp, nil
		},
	}
}

func (r *Router) credsCommand() *Command {
	return &Command{
		Name:      "creds",
		Args:      []Arg{ctArg(), {Name: "service", Help: "only this service's credentials"}},
		Summary:   "credentials a template saved (shown only to you)",
		Example:   "creds web1 postgres",
		Role:      provision.RoleOperator,
		Target:    "ct",
		Owned:     true,
		argChecks: map[string]func(string) error{"service": checkName},
		run: func(ctx context.Context, c *call) (*Response, error) {
			service := c.inv.Arg("service")
			creds, err := r.b.Credentials(ctx, c.ct.ID, service)
			if err != nil {
				return nil, err
			}
			c.audit.Args = strings.TrimSpace("reveal " + service)
			blocks := []Block{HeaderBlock("Credentials of " + c.ct.Hostname)}
			if len(creds) == 0 {
				blocks = append(blocks, TextBlock("No credentials were saved for this container."))
				return &Response{Visibility: Ephemeral, Blocks: blocks}, nil
			}
			var pairs []Pair
			for _, cr := range creds {
				pairs = append(pairs, Pair{Label: cr.Service + " " + cr.Key, Value: "`" + cr.Value.Reveal() + "`"})
				if len(pairs) == MaxFields {
					blocks = append(blocks, FieldsBlock(pairs...))
					pairs = nil
				}
			}
			if len(pairs) > 0 {
				blocks = append(blocks, FieldsBlock(pairs...))
			}
			value := c.ct.ID
			if service != "" {
				value += " " + quoteArg(service)
			}
			blocks = append(blocks, ContextBlock("Only you can see this. Messages like this may not arrive or may vanish; reveal again if needed. Each reveal is audited."))
			blocks = append(blocks, ButtonBlocks(Button{Label: "Reveal again", ActionID: ActCreds, Value: value})...)
			// Always ephemeral, whatever the caller asks for.
			return &Response{Visibility: Ephemeral, Blocks: blocks}, nil
		},
	}
}

func checkEventType(s string) error {
	switch provision.EventType(s) {
	case provision.EventRequested, provision.EventPhaseStarted, provision.EventPhaseFinished, provision.EventScript,
		provision.EventWarning, provision.EventError, provision.EventAction, provision.EventDrift:
		return nil
	}
	return fmt.Errorf("%q is not an event type; use requested, phase_started, phase_finished, script_finished, warning, error, action or drift", clip(s, 40))
}

func (r *Router) eventsCommand() *Command {
	return &Command{
		Name:    "events",
		Args:    []Arg{ctArg()},
		Opts:    []Opt{{Name: "type", Type: TypeString, Meta: "T", Help: "only events of this type (warning, error, action, …)", Check: checkEventType}},
		Summary: "a container's timeline",
		Example: "events web1 --type warning",
		Role:    provision.RoleViewer,
		Target:  "ct",
		run: func(ctx context.Context, c *call) (*Response, error) {
			var types []provision.EventType
			if t := c.inv.Opt("type"); t != "" {
				types = []provision.EventType{provision.EventType(t)}
			}
			evs, err := r.b.Events(ctx, c.ct.ID, types)
			if err != nil {
				return nil, err
			}
			resp := &Response{Blocks: []Block{HeaderBlock("Events of " + c.ct.Hostname)}}
			if len(evs) == 0 {
				resp.Blocks = append(resp.Blocks, TextBlock("No events."))
				return resp, nil
			}
			var lines []string
			for _, e := range evs {
				line := fmt.Sprintf("%s %-15s %s", e.CreatedAt.UTC().Format("2006-01-02 15:04:05"), e.Type, e.Message)
				if e.Phase != "" {
					line += " [" + string(e.Phase) + "]"
				}
				if e.Duration > 0 {
					line += fmt.Sprintf(" (%s)", e.Duration.Round(100_000_000))
				}
				if e.Actor != "" && e.Actor != "system" {
					line += " by " + e.Actor
				}
				lines = append(lines, line)
			}
			codeOrFile(resp, c.ct.Hostname+"-events.txt", strings.Join(lines, "\n"))
			return resp, nil
		},
	}
}
