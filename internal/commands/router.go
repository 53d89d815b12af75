package commands

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// Deps are the Router's collaborators.
type Deps struct {
	Backend Backend
	Log     *slog.Logger    // nil = discard
	Clock   provision.Clock // nil = wall clock
	// NewRef returns a short reference id for internal errors; nil = random.
	NewRef func() string
	// PageSize is how many containers a list page shows; 0 = 8.
	PageSize int
}

// Router turns requests into responses: parse, authorise, run, audit, and
// map errors to replies, each in one place.
type Router struct {
	b        Backend
	log      *slog.Logger
	clock    provision.Clock
	newRef   func() string
	pageSize int
	table    *Table

	helpOnce sync.Once
	helpAll  []Block // the rendered /lxc help, built on first use
}

// New builds a Router and its command table.
func New(d Deps) *Router {
	r := &Router{b: d.Backend, log: d.Log, clock: d.Clock, newRef: d.NewRef, pageSize: d.PageSize}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.clock == nil {
		r.clock = provision.SystemClock{}
	}
	if r.newRef == nil {
		r.newRef = randomRef
	}
	if r.pageSize <= 0 {
		r.pageSize = 8
	}
	r.table = newTable(r)
	return r
}

// Table returns the command table (for help, Discord command registration
// and autocomplete).
func (r *Router) Table() *Table { return r.table }

func randomRef() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// call is one authorised invocation being run.
type call struct {
	req       *Request
	inv       *Invocation
	role      provision.Role
	ct        *provision.Container // the resolved target, if the command has one
	confirmed bool                 // reached through a button or form that confirmed it
	audit     *provision.AuditEntry
	dedupe    string // creation dedupe key
}

func (c *call) principal() provision.Principal { return c.req.Principal }

// Handle answers one request. It never returns an empty response: failures
// become replies that say what to do next.
func (r *Router) Handle(ctx context.Context, req Request) (resp Response) {
	start := r.clock.Now()
	entry := &provision.AuditEntry{
		At:          start,
		Actor:       req.Principal,
		WorkspaceID: req.Workspace,
		ChannelID:   req.Channel,
	}
	defer func() {
		if p := recover(); p != nil {
			err := fmt.Errorf("panic: %v\n%s", p, debug.Stack())
			resp = r.errorReply(ctx, err, entry)
		}
		if len(resp.Blocks) == 0 && resp.Form == nil && len(resp.Files) == 0 && resp.FormErrors == nil && req.Kind != KindAutocomplete {
			resp.Blocks = []Block{TextBlock("Done.")}
		}
		if req.Kind == KindAutocomplete {
			return
		}
		if entry.Outcome == "" {
			entry.Outcome = "ok"
		}
		resp.Outcome = Outcome(entry.Outcome)
		entry.Duration = r.clock.Now().Sub(start)
		if err := r.b.Audit(ctx, entry); err != nil {
			r.log.ErrorContext(ctx, "writing audit entry", "err", err, "command", entry.Command, "actor", actorString(req.Principal))
		}
	}()
	var (
		out *Response
		err error
	)
	switch req.Kind {
	case KindCommand:
		out, err = r.handleCommand(ctx, &req, entry)
	case KindAction:
		out, err = r.handleAction(ctx, &req, entry)
	case KindFormSubmit:
		out, err = r.handleForm(ctx, &req, entry)
	case KindAutocomplete:
		return Response{Choices: r.autocomplete(ctx, &req)}
	default:
		err = &UsageError{Msg: "unsupported interaction"}
	}
	if err != nil {
		return r.errorReply(ctx, err, entry)
	}
	return *out
}

func (r *Router) handleCommand(ctx context.Context, req *Request, entry *provision.AuditEntry) (*Response, error) {
	entry.Command = firstWords(req.Text)
	entry.Args = truncate(req.Text, 500)
	inv, err := r.table.Parse(req.Text)
	if err == nil && inv.Command.Hidden {
		err = &UsageError{Msg: fmt.Sprintf("unknown command %q", inv.Command.Name)}
	}
	if err != nil {
		if ue, ok := err.(*UsageError); ok && ue.Command != nil {
			entry.Command = ue.Command.Name
		}
		return nil, err
	}
	entry.Command = inv.Command.Name
	entry.Args = redactedArgs(inv)
	return r.dispatch(ctx, &call{req: req, inv: inv, audit: entry})
}

// dispatch authorises c and runs its command.
func (r *Router) dispatch(ctx context.Context, c *call) (*Response, error) {
	if err := r.authorize(ctx, c); err != nil {
		return nil, err
	}
	return c.inv.Command.run(ctx, c)
}

// authorize checks the channel binding, the role the command needs and,
// for a command on a container, that the container exists and that an
// operator owns it; it sets c.role and c.ct.
func (r *Router) authorize(ctx context.Context, c *call) error {
	cmd := c.inv.Command
	role, err := r.b.RoleOf(ctx, c.req.Principal, c.req.Groups)
	if err != nil {
		return fmt.Errorf("looking up the role of %s: %w", actorString(c.req.Principal), err)
	}
	c.role = role
	if err := r.checkChannel(ctx, c); err != nil {
		return err
	}
	if role.Rank() < cmd.Role.Rank() {
		if cmd.Target != "" {
			// A refused attempt on a container belongs in that container's
			// audit log, under its hostname as a successful one would be.
			// The reply stays the same whether the container exists or not.
			c.audit.Target = c.inv.Arg(cmd.Target)
			if ct, err := r.b.Container(ctx, c.audit.Target); err == nil {
				c.audit.Target = ct.Hostname
			}
		}
		return denied("you need the %s role to run /lxc %s (you have %s); ask an admin to run /lxc role grant %s <you>",
			cmd.Role, cmd.Name, roleName(role), cmd.Role)
	}
	if cmd.Target != "" {
		ref := c.inv.Arg(cmd.Target)
		c.audit.Target = ref
		ct, err := r.b.Container(ctx, ref)
		if err != nil {
			return err
		}
		c.ct = ct
		c.audit.Target = ct.Hostname
		if cmd.Owned && role.Rank() < provision.RoleAdmin.Rank() && !samePrincipal(ct.Owner, c.req.Principal) {
			return denied("%s belongs to %s: operators act only on their own containers; you need the admin role to run %s on it",
				ct.Hostname, ownerName(ct.Owner), cmd.Name)
		}
	}
	return nil
}

// checkChannel refuses a command the channel's binding does not allow.
// Help and the binding commands are always allowed, so an admin can lift a
// limit from inside the channel it applies to.
func (r *Router) checkChannel(ctx context.Context, c *call) error {
	if c.req.Channel == "" || alwaysInChannel(c.inv.Command.Group()) {
		return nil
	}
	b, err := r.b.ChannelBinding(ctx, c.req.Platform, c.req.Channel)
	if err != nil {
		return fmt.Errorf("reading the binding of channel %s: %w", c.req.Channel, err)
	}
	if b == nil || channelAllows(b.AllowedCommands, c.inv.Command) {
		return nil
	}
	what := "/lxc " + c.inv.Command.Name
	if c.inv.Command.Hidden {
		what = "that"
	}
	return denied("this channel accepts only %s; run %s in another channel, or ask an admin to change this with /lxc channel allow or /lxc channel open",
		describeAllowed(b.AllowedCommands), what)
}

// deniedError is a refused authorisation; its message names the role needed.
type deniedError struct{ msg string }

func (e *deniedError) Error() string { return e.msg }

func denied(format string, args ...any) error { return &deniedError{msg: fmt.Sprintf(format, args...)} }

func samePrincipal(a, b provision.Principal) bool {
	return a.Platform == b.Platform && a.UserID == b.UserID
}

func actorString(p provision.Principal) string { return string(p.Platform) + ":" + p.UserID }

func ownerName(p provision.Principal) string {
	if p.Name != "" {
		return p.Name
	}
	return actorString(p)
}

func roleName(r provision.Role) string {
	if r == provision.RoleNone {
		return "no role"
	}
	return "the " + string(r) + " role"
}

func firstWords(text string) string {
	w := strings.Fields(text)
	if len(w) > 2 {
		w = w[:2]
	}
	return truncate(strings.Join(w, " "), 64)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// redactedArgs renders an invocation for the audit log with secret option
// values replaced.
func redactedArgs(inv *Invocation) string {
	var parts []string
	for _, a := range inv.Command.Args {
		if v := inv.Args[a.Name]; v != "" {
			parts = append(parts, quoteArg(v))
		}
	}
	for _, name := range inv.Order {
		o := inv.Command.opt(name)
		switch {
		case o.Type == TypeBool:
			parts = append(parts, "--"+name)
		case o.Secret:
			parts = append(parts, "--"+name+"=<secret>")
		default:
			parts = append(parts, "--"+name+"="+quoteArg(inv.Opts[name]))
		}
	}
	return truncate(strings.Join(parts, " "), 500)
}

func quoteArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

func (r *Router) now() time.Time { return r.clock.Now() }
