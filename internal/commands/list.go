package commands

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/lxcbot/lxcbot/internal/provision"
)

func checkState(s string) error {
	switch provision.State(s) {
	case provision.StatePending, provision.StateCreating, provision.StateReady, provision.StateFailed,
		provision.StateCancelled, provision.StateDeleting, provision.StateDeleted, provision.StateGone:
		return nil
	}
	return fmt.Errorf("%q is not a state; use one of pending, creating, ready, failed, cancelled, deleting, deleted, gone", clip(s, 40))
}

func (r *Router) listCommand() *Command {
	return &Command{
		Name: "list",
		Opts: []Opt{
			{Name: "node", Type: TypeString, Meta: "N", Help: "only containers on this node", Check: checkName},
			{Name: "state", Type: TypeString, Meta: "S", Help: "only containers in this state (ready, failed, …)", Check: checkState},
			{Name: "mine", Type: TypeBool, Help: "only containers you own"},
			{Name: "page", Type: TypeInt, Meta: "N", Help: "page number", Min: 1, Max: 100000},
		},
		Summary: "list containers with their status",
		Example: "list --mine --state ready",
		Role:    provision.RoleViewer,
		run:     r.runList,
	}
}

func (r *Router) runList(ctx context.Context, c *call) (*Response, error) {
	f := ContainerFilter{Node: c.inv.Opt("node"), State: provision.State(c.inv.Opt("state"))}
	if c.inv.Flag("mine") {
		p := c.principal()
		f.Owner = &p
	}
	shown, total, page, err := r.listPage(ctx, f, c.inv.Int("page", 1))
	if err != nil {
		return nil, err
	}
	if total == 0 {
		return &Response{Blocks: []Block{TextBlock("No containers match. Create one with `/lxc create`.")}}, nil
	}
	pages := (total + r.pageSize - 1) / r.pageSize
	var ready []string
	for _, ct := range shown {
		if ct.State == provision.StateReady {
			ready = append(ready, ct.ID)
		}
	}
	live := map[string]*LiveStatus{}
	if len(ready) > 0 {
		if live, err = r.b.Statuses(ctx, ready); err != nil {
			r.log.WarnContext(ctx, "live status for list", "err", err)
			live = map[string]*LiveStatus{}
		}
	}
	var lines []string
	var opts []Option
	for _, ct := range shown {
		status := string(ct.State)
		if ct.State == provision.StateReady {
			status = "unknown"
			if st, ok := live[ct.ID]; ok {
				status = st.Status
			}
		}
		lines = append(lines, fmt.Sprintf("%s *%s* (%s) — %s · %s · %s · %s", stateIcon(status), ct.Hostname, vmidText(ct.VMID),
			status, orNone(ct.NodeName), orNone(ct.TemplateName), ownerName(ct.Owner)))
		opts = append(opts, Option{Label: clip(ct.Hostname+" ("+status+")", MaxButtonLabel), Value: ct.ID})
	}
	blocks := []Block{HeaderBlock(fmt.Sprintf("Containers (%d)", total))}
	blocks = append(blocks, TextBlocks(strings.Join(lines, "\n"))...)
	blocks = append(blocks, SelectBlock(Select{ActionID: ActShow, Placeholder: "Manage a container…", Options: opts}))
	resp := &Response{Blocks: blocks}
	if pages > 1 {
		resp.Page = &Page{Number: page, Total: pages}
		var nav []Button
		if page > 1 {
			nav = append(nav, Button{Label: "◀ Previous", ActionID: ActListPage, Value: listArgs(c.inv, page-1)})
		}
		if page < pages {
			nav = append(nav, Button{Label: "Next ▶", ActionID: ActListPage, Value: listArgs(c.inv, page+1)})
		}
		resp.Blocks = append(resp.Blocks, ContextBlock(fmt.Sprintf("page %d of %d", page, pages)))
		resp.Blocks = append(resp.Blocks, ButtonBlocks(nav...)...)
		resp.Replace = c.req.Kind == KindAction
	}
	return resp, nil
}

// ContainerPager is a Backend that pages containers where they are stored,
// rather than the router listing them all to show one page.
type ContainerPager interface {
	// ContainerPage returns at most limit containers matching f, skipping
	// the first offset, newest first, and how many match in all.
	ContainerPage(ctx context.Context, f ContainerFilter, offset, limit int) (page []provision.Container, total int, err error)
}

// listPage returns the containers of page (clamped to the last one), how
// many match in all, and the page shown.
func (r *Router) listPage(ctx context.Context, f ContainerFilter, page int) ([]provision.Container, int, int, error) {
	page = max(page, 1)
	pager, ok := r.b.(ContainerPager)
	if !ok {
		cts, err := r.b.Containers(ctx, f)
		if err != nil || len(cts) == 0 {
			return nil, 0, 1, err
		}
		pages := (len(cts) + r.pageSize - 1) / r.pageSize
		page = min(page, pages)
		return cts[(page-1)*r.pageSize : min(page*r.pageSize, len(cts))], len(cts), page, nil
	}
	shown, total, err := pager.ContainerPage(ctx, f, (page-1)*r.pageSize, r.pageSize)
	if err != nil {
		return nil, 0, 1, err
	}
	if len(shown) == 0 && total > 0 {
		// Past the end (the list shrank, or a typed --page): the last page.
		page = (total + r.pageSize - 1) / r.pageSize
		if shown, total, err = pager.ContainerPage(ctx, f, (page-1)*r.pageSize, r.pageSize); err != nil {
			return nil, 0, 1, err
		}
	}
	return shown, total, page, nil
}

func listArgs(inv *Invocation, page int) string {
	var parts []string
	for _, name := range []string{"node", "state"} {
		if v := inv.Opt(name); v != "" {
			parts = append(parts, "--"+name+"="+quoteArg(v))
		}
	}
	if inv.Flag("mine") {
		parts = append(parts, "--mine")
	}
	return strings.Join(append(parts, "--page="+strconv.Itoa(page)), " ")
}

func stateIcon(status string) string {
	switch status {
	case "running", "ready":
		return "🟢"
	case "stopped":
		return "⚪"
	case "failed", "gone":
		return "🔴"
	case "pending", "creating", "deleting":
		return "🟡"
	}
	return "⚫"
}

func vmidText(v int) string {
	if v == 0 {
		return "no VMID yet"
	}
	return strconv.Itoa(v)
}

func orNone(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
