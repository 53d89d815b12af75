package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// Action ids carried by buttons and selects. An action's Value is the
// argument text of the command it runs; the router parses it with that
// command's grammar and authorises the presser exactly as for a typed
// command, so a forged value gains nothing.
const (
	ActShow          = "ct.show"
	ActStart         = "ct.start"
	ActStop          = "ct.stop"
	ActShutdown      = "ct.shutdown"
	ActRestart       = "ct.restart"
	ActDelete        = "ct.delete"
	ActServices      = "ct.services"
	ActEvents        = "ct.events"
	ActCreds         = "ct.creds"
	ActJobCancel     = "job.cancel"
	ActJobRetry      = "job.retry"
	ActJobKeep       = "job.keep"
	ActJobDelete     = "job.delete"
	ActCreateStart   = "create.start"   // open the create form (value: template)
	ActCreateConfirm = "create.confirm" // value: plan id, then create arguments
	ActListPage      = "list.page"      // value: list arguments with --page
	ActDismiss       = "dismiss"        // close a prompt without acting
)

type actionSpec struct {
	command   string
	confirmed bool // the button itself was the confirmation
}

// actionFor maps an action id to the command it runs.
func actionFor(id string) (actionSpec, bool) {
	switch id {
	case ActShow:
		return actionSpec{command: "show"}, true
	case ActStart:
		return actionSpec{command: "start", confirmed: true}, true
	case ActStop:
		return actionSpec{command: "stop", confirmed: true}, true
	case ActShutdown:
		return actionSpec{command: "shutdown", confirmed: true}, true
	case ActRestart:
		return actionSpec{command: "restart", confirmed: true}, true
	case ActDelete: // asks for the hostname
		return actionSpec{command: "delete"}, true
	case ActJobDelete:
		return actionSpec{command: "delete"}, true
	case ActServices:
		return actionSpec{command: "services"}, true
	case ActEvents:
		return actionSpec{command: "events"}, true
	case ActCreds:
		return actionSpec{command: "creds"}, true
	case ActJobCancel:
		return actionSpec{command: "job cancel", confirmed: true}, true
	case ActJobRetry:
		return actionSpec{command: "job retry", confirmed: true}, true
	case ActJobKeep:
		return actionSpec{command: "job keep", confirmed: true}, true
	case ActCreateStart:
		return actionSpec{command: "create"}, true
	case ActCreateConfirm:
		return actionSpec{command: "create", confirmed: true}, true
	case ActListPage:
		return actionSpec{command: "list"}, true
	}
	return actionSpec{}, false
}

func (r *Router) handleAction(ctx context.Context, req *Request, entry *provision.AuditEntry) (*Response, error) {
	entry.Command = "button:" + truncate(req.Action.ID, 40)
	entry.Args = truncate(req.Action.Value, 500)
	if req.Action.ID == ActDismiss {
		return &Response{Replace: true, Blocks: []Block{ContextBlock("Cancelled; nothing was changed.")}}, nil
	}
	spec, ok := actionFor(req.Action.ID)
	if !ok {
		return nil, &UsageError{Msg: "that button is no longer supported; run the command again"}
	}
	cmd := r.table.Lookup(spec.command)
	value := req.Action.Value
	planID := ""
	if req.Action.ID == ActCreateConfirm {
		planID, value, _ = strings.Cut(value, " ")
	}
	words, err := Tokenize(value)
	if err != nil {
		return nil, &UsageError{Command: cmd, Msg: "that button's data is damaged; run the command again"}
	}
	inv, err := parseArgs(cmd, words)
	if err != nil {
		return nil, err
	}
	entry.Args = redactedArgs(inv)
	c := &call{req: req, inv: inv, audit: entry, confirmed: spec.confirmed}
	if planID != "" {
		c.dedupe = "plan:" + actorString(req.Principal) + ":" + planID
	}
	resp, err := r.dispatch(ctx, c)
	if err != nil {
		return nil, err
	}
	return resp, nil
}

func (r *Router) handleForm(ctx context.Context, req *Request, entry *provision.AuditEntry) (*Response, error) {
	entry.Command = "form:" + truncate(req.Form.FormID, 40)
	switch req.Form.FormID {
	case formCreate:
		return r.submitCreate(ctx, req, entry)
	case formDelete:
		return r.submitDelete(ctx, req, entry)
	}
	return nil, &UsageError{Msg: fmt.Sprintf("the form %q is no longer supported; run the command again", clip(req.Form.FormID, 40))}
}

// Options returns fresh choices for a form field whose options depend on
// other fields (OS templates, storages and bridges of the chosen node).
func (r *Router) Options(ctx context.Context, req Request, formID, field string, values map[string]string) ([]Option, error) {
	role, err := r.b.RoleOf(ctx, req.Principal, req.Groups)
	if err != nil {
		return nil, fmt.Errorf("looking up the role of %s: %w", actorString(req.Principal), err)
	}
	if role.Rank() < provision.RoleOperator.Rank() || formID != formCreate {
		return nil, nil
	}
	switch field {
	case "template":
		return r.templateOptions(ctx, "")
	case "node":
		return r.nodeOptions(ctx)
	case "os_template", "storage", "bridge":
		node := values["node"]
		if node == "" {
			return nil, nil
		}
		ch, err := r.b.NodeChoices(ctx, node)
		if err != nil {
			return nil, err
		}
		list := map[string][]string{"os_template": ch.OSTemplates, "storage": ch.Storages, "bridge": ch.Bridges}[field]
		opts := []Option{{Label: "template's default", Value: ""}}
		for _, v := range list {
			opts = append(opts, Option{Label: clip(v, MaxButtonLabel), Value: v})
		}
		return opts[:min(len(opts), MaxOptions)], nil
	}
	return nil, nil
}

func (r *Router) templateOptions(ctx context.Context, prefix string) ([]Option, error) {
	ts, err := r.b.Templates(ctx, "")
	if err != nil {
		return nil, err
	}
	var opts []Option
	for _, t := range ts {
		if prefix != "" && !strings.HasPrefix(strings.ToLower(t.Name), strings.ToLower(prefix)) {
			continue
		}
		label := t.Name
		if t.App != "" && t.App != t.Name {
			label += " — " + t.App
		}
		opts = append(opts, Option{Label: clip(label, MaxButtonLabel), Value: t.Name})
		if len(opts) == MaxOptions {
			break
		}
	}
	return opts, nil
}

func (r *Router) nodeOptions(ctx context.Context) ([]Option, error) {
	ns, err := r.b.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	var opts []Option
	for _, n := range ns {
		label := n.Node.Name
		if n.Node.IsDefault {
			label += " (default)"
		}
		if !n.Online {
			label += " (offline)"
		}
		opts = append(opts, Option{Label: label, Value: n.Node.Name})
	}
	return opts[:min(len(opts), MaxOptions)], nil
}

// autocomplete answers an option being typed; errors give no choices.
func (r *Router) autocomplete(ctx context.Context, req *Request) []Option {
	role, err := r.b.RoleOf(ctx, req.Principal, req.Groups)
	if err != nil || role.Rank() < provision.RoleViewer.Rank() {
		return nil
	}
	prefix := strings.ToLower(req.Focus.Value)
	var opts []Option
	switch req.Focus.Option {
	case "ct":
		cts, err := r.b.Containers(ctx, ContainerFilter{})
		if err != nil {
			r.log.WarnContext(ctx, "autocomplete containers", "err", err)
			return nil
		}
		for _, c := range cts {
			if strings.HasPrefix(c.Hostname, prefix) || strings.HasPrefix(fmt.Sprint(c.VMID), prefix) {
				opts = append(opts, Option{Label: fmt.Sprintf("%s (%d, %s)", c.Hostname, c.VMID, c.State), Value: c.Hostname})
			}
		}
	case "template":
		opts, _ = r.templateOptions(ctx, prefix)
	case "node":
		all, _ := r.nodeOptions(ctx)
		for _, o := range all {
			if strings.HasPrefix(o.Value, prefix) {
				opts = append(opts, o)
			}
		}
	}
	return opts[:min(len(opts), MaxOptions)]
}
