package commands

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// Home answers an app's home view (Slack's Home tab): the principal's
// containers and their creations in progress. It is a view, not a command:
// it changes nothing, is opened whenever the user looks at the app, and so
// writes no audit entry. It needs the viewer role, like /lxc list.
func (r *Router) Home(ctx context.Context, p provision.Principal, groups []string) (resp Response) {
	// Errors are answered as a command's would be; the entry is only the
	// reply's scratch space and is never written.
	scratch := &provision.AuditEntry{At: r.clock.Now(), Actor: p, Command: "home"}
	defer func() {
		if v := recover(); v != nil {
			resp = r.errorReply(ctx, fmt.Errorf("panic: %v\n%s", v, debug.Stack()), scratch)
		}
	}()
	role, err := r.b.RoleOf(ctx, p, groups)
	if err != nil {
		return r.errorReply(ctx, fmt.Errorf("looking up the role of %s: %w", actorString(p), err), scratch)
	}
	blocks := []Block{
		HeaderBlock("lxcbot"),
		ContextBlock("Your containers and the jobs in progress. Type `/lxc help` in any channel for every command."),
		DividerBlock(),
	}
	if role.Rank() < provision.RoleViewer.Rank() {
		blocks = append(blocks, TextBlock(fmt.Sprintf(
			"You have no lxcbot role yet: ask an admin to run `/lxc role grant %s <you>`.", provision.RoleViewer)))
		return Response{Blocks: blocks}
	}
	mine, err := r.homeList(ctx, p, role, "list --mine")
	if err != nil {
		return r.errorReply(ctx, err, scratch)
	}
	jobs, err := r.homeList(ctx, p, role, "list --mine --state creating")
	if err != nil {
		return r.errorReply(ctx, err, scratch)
	}
	blocks = append(blocks, mine.Blocks...)
	blocks = append(blocks, DividerBlock(), HeaderBlock("Jobs in progress"))
	if noMatches(jobs) {
		blocks = append(blocks, ContextBlock("No creation running."))
	} else {
		blocks = append(blocks, jobs.Blocks...)
	}
	return Response{Blocks: blocks}
}

// homeList runs a list for the home view without the command path's
// channel check and audit.
func (r *Router) homeList(ctx context.Context, p provision.Principal, role provision.Role, text string) (*Response, error) {
	inv, err := r.table.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("home view: %w", err)
	}
	req := &Request{Principal: p, Kind: KindCommand, Text: text}
	return r.runList(ctx, &call{req: req, inv: inv, role: role, audit: &provision.AuditEntry{}})
}

func noMatches(r *Response) bool {
	return len(r.Blocks) == 1 && strings.HasPrefix(r.Blocks[0].Text, "No containers match")
}
