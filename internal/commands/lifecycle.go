package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/lxcbot/lxcbot/internal/provision"
)

const formDelete = "delete"

func lifecycleSummary(a LifecycleAction) string {
	switch a {
	case ActionStart:
		return "start a container"
	case ActionStop:
		return "force-stop a container (asks first)"
	case ActionShutdown:
		return "shut a container down gracefully, forced after 30 s (asks first)"
	case ActionRestart:
		return "reboot a container (asks first)"
	}
	return "delete a container and its disks (asks for its hostname)"
}

func (r *Router) lifecycleCommand(a LifecycleAction) *Command {
	return &Command{
		Name:    string(a),
		Args:    []Arg{ctArg()},
		Summary: lifecycleSummary(a),
		Example: string(a) + " web1",
		Role:    provision.RoleOperator,
		Target:  "ct",
		Owned:   true,
		run: func(ctx context.Context, c *call) (*Response, error) {
			return r.runLifecycle(ctx, c, a)
		},
	}
}

func (r *Router) runLifecycle(ctx context.Context, c *call, a LifecycleAction) (*Response, error) {
	ct := c.ct
	switch ct.State {
	case provision.StateDeleted, provision.StateGone:
		return nil, provision.Userf(provision.ErrConflict, "%s is %s; there is nothing to %s", ct.Hostname, ct.State, a)
	case provision.StatePending, provision.StateCreating:
		if a != ActionDelete {
			return nil, provision.Userf(provision.ErrConflict, "%s is still being created; wait for it or cancel the creation", ct.Hostname)
		}
	}
	if a == ActionDelete && !c.confirmed {
		return &Response{
			Form:   deleteForm(ct),
			Blocks: []Block{ContextBlock(fmt.Sprintf("To delete %s, type its hostname.", ct.Hostname))},
		}, nil
	}
	if a != ActionStart && a != ActionDelete && !c.confirmed {
		verb := map[LifecycleAction]string{ActionStop: "Stop", ActionShutdown: "Shut down", ActionRestart: "Restart"}[a]
		return &Response{Blocks: append([]Block{
			TextBlock(fmt.Sprintf("%s *%s* (%s on %s)?", verb, ct.Hostname, vmidText(ct.VMID), orNone(ct.NodeName))),
		}, ButtonBlocks(
			Button{Label: verb + " " + clip(ct.Hostname, 50), ActionID: "ct." + string(a), Value: ct.ID, Style: StyleDanger},
			Button{Label: "Cancel", ActionID: ActDismiss, Value: ct.ID},
		)...)}, nil
	}
	result, err := r.b.Lifecycle(ctx, c.principal(), ct.ID, a)
	if err != nil {
		return nil, err
	}
	return &Response{
		Visibility: InChannel,
		Replace:    c.req.Kind == KindAction,
		Blocks:     []Block{TextBlock(fmt.Sprintf("✅ *%s* (%s): %s — by %s", ct.Hostname, vmidText(ct.VMID), result, ownerName(c.principal())))},
	}, nil
}

func deleteForm(ct *provision.Container) *Form {
	return &Form{
		ID:     formDelete,
		Title:  "Delete container",
		Submit: "Delete",
		State:  ct.ID,
		Fields: []Field{{
			Name: "hostname", Label: "Type " + clip(ct.Hostname, 30) + " to confirm", Kind: FieldText, Required: true,
			Placeholder: ct.Hostname, Help: "The container and its disks are destroyed. This cannot be undone.",
		}},
	}
}

// submitDelete deletes when the typed hostname matches. The form state names
// the container; it is looked up and authorised again like any request.
func (r *Router) submitDelete(ctx context.Context, req *Request, entry *provision.AuditEntry) (*Response, error) {
	cmd := r.table.Lookup("delete")
	inv, err := parseArgs(cmd, []string{req.Form.State})
	if err != nil {
		return nil, err
	}
	// The form's state is whatever the submitting client sent: authorise
	// the submitter before comparing the hostname, so that a forged
	// submission is refused (and audited) as such and learns nothing.
	entry.Args = redactedArgs(inv)
	c := &call{req: req, inv: inv, audit: entry, confirmed: true}
	if err := r.authorize(ctx, c); err != nil {
		return nil, err
	}
	ct := c.ct
	typed := strings.TrimSpace(req.Form.Values["hostname"])
	if !strings.EqualFold(typed, ct.Hostname) {
		entry.Outcome = "user_error"
		entry.Error = "hostname did not match"
		return &Response{FormErrors: map[string]string{"hostname": fmt.Sprintf("type %s exactly to delete it", ct.Hostname)},
			Blocks: []Block{ContextBlock(fmt.Sprintf("The hostname did not match %s; nothing was deleted.", ct.Hostname))}}, nil
	}
	return inv.Command.run(ctx, c)
}

// Job buttons.
type jobAction string

const (
	jobCancel jobAction = "cancel"
	jobRetry  jobAction = "retry"
	jobKeep   jobAction = "keep"
)

func (r *Router) jobCommand(a jobAction) *Command {
	return &Command{
		Name:    "job " + string(a),
		Args:    []Arg{ctArg()},
		Summary: string(a) + " a creation job",
		Role:    provision.RoleOperator,
		Target:  "ct",
		Owned:   true,
		Hidden:  true,
		run: func(ctx context.Context, c *call) (*Response, error) {
			var (
				err error
				msg string
			)
			p := c.principal()
			switch a {
			case jobCancel:
				err, msg = r.b.Cancel(ctx, p, c.ct.ID), "cancelling the creation of %s; what it created is being removed"
			case jobRetry:
				err, msg = r.b.Retry(ctx, p, c.ct.ID), "retrying %s from the phase that failed"
			case jobKeep:
				err, msg = r.b.Keep(ctx, p, c.ct.ID), "keeping %s for debugging; delete it with /lxc delete when done"
			}
			if err != nil {
				return nil, err
			}
			resp := &Response{Visibility: InChannel, Thread: true,
				Blocks: []Block{TextBlock(fmt.Sprintf(msg, c.ct.Hostname) + " — by " + ownerName(p))}}
			if a == jobRetry {
				resp.Watch = &Watch{ContainerID: c.ct.ID}
			}
			return resp, nil
		},
	}
}
