package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// errorReply is the one place errors become replies and audit outcomes.
// User errors say what to do next; anything else is logged with a reference
// id that the reply shows.
func (r *Router) errorReply(ctx context.Context, err error, entry *provision.AuditEntry) Response {
	var (
		usage  *UsageError
		deny   *deniedError
		locked *provision.LockedError
		user   *provision.UserError
		ident  *provision.NodeIdentityError
		access *provision.NodeAccessError
		msg    string
	)
	entry.Outcome = "user_error"
	switch {
	case errors.As(err, &usage):
		resp := r.usageReply(usage)
		entry.Error = usage.Msg
		return resp
	case errors.As(err, &deny):
		entry.Outcome = "denied"
		msg = deny.msg
	case errors.As(err, &locked):
		target := entry.Target
		if target == "" {
			target = locked.Key
		}
		msg = fmt.Sprintf("CT %s is busy: %s is %s since %s; try again when that finishes",
			target, locked.Holder.Who, doing(locked.Holder.Action), locked.Holder.Since.UTC().Format("15:04 UTC"))
	case errors.As(err, &user):
		msg = user.Msg
	case errors.As(err, &ident):
		// Not the user's doing, but nothing they can retry either: the
		// node refused to prove it is the pinned one. Admins need the log.
		r.log.WarnContext(ctx, "node identity refused", "node", ident.Node, "err", err,
			"command", entry.Command, "target", entry.Target, "actor", actorString(entry.Actor))
		msg = nodeIdentityMessage(ident)
	case errors.As(err, &access):
		r.log.WarnContext(ctx, "node refused the bot's credentials", "node", access.Node, "err", err,
			"command", entry.Command, "target", entry.Target, "actor", actorString(entry.Actor))
		msg = fmt.Sprintf("node %s refused the bot's %s; an admin can check the node's settings with /lxc node test %s",
			access.Node, access.What, access.Node)
	case errors.Is(err, provision.ErrNotFound):
		if entry.Target != "" {
			msg = fmt.Sprintf("no container matches %q; try /lxc list", entry.Target)
		} else {
			msg = "nothing matches that; try /lxc list"
		}
	case errors.Is(err, provision.ErrForbidden):
		entry.Outcome = "denied"
		msg = "you need the operator role (and to own the container) or the admin role to do that; ask an admin"
	case errors.Is(err, provision.ErrUnavailable):
		msg = "temporarily unavailable, try again in a minute"
	case errors.Is(err, context.DeadlineExceeded):
		msg = "that took too long and was stopped; try again in a minute"
	default:
		ref := r.newRef()
		entry.Outcome = "error"
		entry.RefID = ref
		entry.Error = "ref " + ref
		r.log.ErrorContext(ctx, "command failed", "ref", ref, "err", err,
			"command", entry.Command, "target", entry.Target, "actor", actorString(entry.Actor))
		return Response{Blocks: []Block{TextBlock(fmt.Sprintf(":x: internal error (ref %s); tell an admin this reference", ref))}}
	}
	entry.Error = truncate(msg, 300)
	return Response{Blocks: []Block{TextBlock(":warning: " + msg)}}
}

// nodeIdentityMessage says which node refused to prove itself and how an
// admin looks into it.
func nodeIdentityMessage(e *provision.NodeIdentityError) string {
	if e.Unpinned {
		return fmt.Sprintf("node %s's %s is not pinned yet; an admin can check it with /lxc node test %s",
			e.Node, e.What, e.Node)
	}
	return fmt.Sprintf("node %s's %s does not match the pinned fingerprint; an admin can check it with /lxc node test %s",
		e.Node, e.What, e.Node)
}

// doing turns a lock action into a phrase: "stop" → "stopping it".
func doing(action string) string {
	switch action {
	case "create":
		return "creating it"
	case "stop":
		return "stopping it"
	case "start":
		return "starting it"
	case "shutdown":
		return "shutting it down"
	case "restart":
		return "restarting it"
	case "delete":
		return "deleting it"
	case "":
		return "working on it"
	}
	return action + "ing it"
}

// usageReply shows what was wrong and the usage of the command meant.
func (r *Router) usageReply(u *UsageError) Response {
	blocks := []Block{TextBlock(":warning: " + u.Msg)}
	if u.Command == nil {
		blocks = append(blocks, ContextBlock("commands: "+joinGroups(r.table.Groups())+" — /lxc help for details"))
		return Response{Blocks: blocks}
	}
	blocks = append(blocks, commandHelp(u.Command)...)
	blocks = append(blocks, ContextBlock("see /lxc help "+u.Command.Name))
	return Response{Blocks: blocks}
}
