package commands

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/lxcbot/lxcbot/internal/provision"
)

func checkRole(s string) error {
	switch provision.Role(s) {
	case provision.RoleViewer, provision.RoleOperator, provision.RoleAdmin:
		return nil
	}
	return fmt.Errorf("%q is not a role; use viewer, operator or admin", clip(s, 40))
}

var (
	mentionRE = regexp.MustCompile(`^<@!?([A-Za-z0-9]+)(\|[^>]*)?>$`)
	groupRE   = regexp.MustCompile(`^<(?:!subteam\^|@&)([A-Za-z0-9]+)(\|[^>]*)?>$`)
	channelRE = regexp.MustCompile(`^<#([A-Za-z0-9]+)(\|[^>]*)?>$`)
	idRE      = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)
)

// subject reads a user or group: a mention, "group:ID", "platform:ID" or a bare id.
func subject(s string, platform provision.Platform) (provision.RoleBinding, error) {
	b := provision.RoleBinding{Platform: platform, SubjectKind: provision.SubjectUser}
	switch {
	case mentionRE.MatchString(s):
		b.SubjectID = mentionRE.FindStringSubmatch(s)[1]
	case groupRE.MatchString(s):
		b.SubjectKind, b.SubjectID = provision.SubjectGroup, groupRE.FindStringSubmatch(s)[1]
	default:
		kind, id, ok := strings.Cut(s, ":")
		switch {
		case ok && kind == "group":
			b.SubjectKind, b.SubjectID = provision.SubjectGroup, id
		case ok && (kind == "slack" || kind == "discord" || kind == "console"):
			b.Platform, b.SubjectID = provision.Platform(kind), id
		default:
			b.SubjectID = s
		}
	}
	if !idRE.MatchString(b.SubjectID) {
		return b, fmt.Errorf("%q is not a user: mention them (@name), or give an id, slack:U0123 or group:ID", clip(s, 60))
	}
	return b, nil
}

func (r *Router) rolesCommand() *Command {
	return &Command{
		Name: "roles", Summary: "who has which role", Role: provision.RoleAdmin,
		run: func(ctx context.Context, c *call) (*Response, error) {
			bs, err := r.b.RoleBindings(ctx, c.req.Platform)
			if err != nil {
				return nil, err
			}
			if len(bs) == 0 {
				return &Response{Blocks: []Block{TextBlock("No role bindings on this platform.")}}, nil
			}
			var lines []string
			for _, b := range bs {
				lines = append(lines, fmt.Sprintf("*%s* — %s %s (granted by %s)", b.Role, b.SubjectKind, b.SubjectID, b.GrantedBy))
			}
			return &Response{Blocks: append([]Block{HeaderBlock("Roles")}, TextBlocks(strings.Join(lines, "\n"))...)}, nil
		},
	}
}

func (r *Router) roleCommand(verb string) *Command {
	return &Command{
		Name:    "role " + verb,
		Args:    []Arg{{Name: "role", Required: true, Help: "viewer, operator or admin"}, {Name: "user", Required: true, Help: "@user, group:ID or platform:ID"}},
		Summary: map[string]string{"grant": "give a user or group a role", "revoke": "take a role away"}[verb],
		Example: "role " + verb + " operator @alice",
		Role:    provision.RoleAdmin, argChecks: map[string]func(string) error{"role": checkRole},
		run: func(ctx context.Context, c *call) (*Response, error) {
			b, err := subject(c.inv.Arg("user"), c.req.Platform)
			if err != nil {
				return nil, usagef(c.inv.Command, "%s", err)
			}
			b.Role = provision.Role(c.inv.Arg("role"))
			b.GrantedBy = actorString(c.principal())
			c.audit.Target = string(b.SubjectKind) + ":" + b.SubjectID
			if verb == "grant" {
				err = r.b.GrantRole(ctx, c.principal(), b)
			} else {
				err = r.b.RevokeRole(ctx, c.principal(), b)
			}
			if err != nil {
				return nil, err
			}
			done := map[string]string{"grant": "now has", "revoke": "no longer has"}[verb]
			return &Response{Visibility: InChannel, Blocks: []Block{TextBlock(fmt.Sprintf("✅ %s %s %s the %s role.", b.SubjectKind, b.SubjectID, done, b.Role))}}, nil
		},
	}
}

func checkNotifyEvent(s string) error {
	switch s {
	case "created", "failed", "deleted", "lifecycle", "drift", "node", "none":
		return nil
	}
	return fmt.Errorf("%q is not a notification; use created, failed, deleted, lifecycle, drift, node or none", clip(s, 40))
}

func (r *Router) notifyCommand() *Command {
	return &Command{
		Name:    "notify",
		Args:    []Arg{{Name: "channel", Required: true, Help: "#channel (or its id)"}, {Name: "events", Variadic: true, Help: "created failed deleted lifecycle drift node (default: all); none turns them off"}},
		Summary: "choose where team notifications go",
		Example: "notify #ops created failed deleted",
		Role:    provision.RoleAdmin,
		run: func(ctx context.Context, c *call) (*Response, error) {
			ch := c.inv.Arg("channel")
			if m := channelRE.FindStringSubmatch(ch); m != nil {
				ch = m[1]
			}
			ch = strings.TrimPrefix(ch, "#")
			if !idRE.MatchString(ch) {
				return nil, usagef(c.inv.Command, "%q is not a channel", clip(ch, 60))
			}
			events := c.inv.Rest
			for _, e := range events {
				if err := checkNotifyEvent(e); err != nil {
					return nil, usagef(c.inv.Command, "%s", err)
				}
			}
			if len(events) == 0 {
				events = []string{"created", "failed", "deleted", "lifecycle", "drift", "node"}
			}
			if len(events) == 1 && events[0] == "none" {
				events = nil
			}
			c.audit.Target = ch
			if err := r.b.SetNotifications(ctx, c.principal(), c.req.Platform, c.req.Workspace, ch, events); err != nil {
				return nil, err
			}
			what := strings.Join(events, ", ")
			if what == "" {
				what = "nothing"
			}
			return &Response{Visibility: InChannel, Blocks: []Block{TextBlock(fmt.Sprintf("✅ Notifications (%s) go to <#%s>.", what, ch))}}, nil
		},
	}
}

func (r *Router) auditCommand() *Command {
	return &Command{
		Name:    "audit",
		Args:    []Arg{{Name: "ct", Help: "only entries about this container"}},
		Summary: "recent commands and button presses",
		Role:    provision.RoleAdmin,
		run: func(ctx context.Context, c *call) (*Response, error) {
			q := AuditQuery{Limit: 50}
			if ref := c.inv.Arg("ct"); ref != "" {
				q.Target = ref
				if ct, err := r.b.Container(ctx, ref); err == nil {
					q.Target = ct.Hostname
				}
			}
			es, err := r.b.AuditLog(ctx, q)
			if err != nil {
				return nil, err
			}
			resp := &Response{Blocks: []Block{HeaderBlock("Audit log")}}
			if len(es) == 0 {
				resp.Blocks = append(resp.Blocks, TextBlock("No entries."))
				return resp, nil
			}
			var lines []string
			for _, e := range es {
				line := fmt.Sprintf("%s %s %s %s %s %s", e.At.UTC().Format("2006-01-02 15:04:05"), actorString(e.Actor), e.Command, orNone(e.Target), e.Outcome, e.Duration.Round(1_000_000))
				if e.Error != "" {
					line += " — " + e.Error
				}
				lines = append(lines, line)
			}
			codeOrFile(resp, "audit.txt", strings.Join(lines, "\n"))
			return resp, nil
		},
	}
}
