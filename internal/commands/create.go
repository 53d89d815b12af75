package commands

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/lxcbot/lxcbot/internal/provision"
)

const formCreate = "create"

func (r *Router) createCommand() *Command {
	return &Command{
		Name: "create",
		Args: []Arg{
			{Name: "template", Help: "a template from /lxc templates"},
			{Name: "hostname", Help: "1–63 letters, digits and hyphens"},
		},
		Opts: []Opt{
			{Name: "node", Type: TypeString, Meta: "N", Help: "Proxmox node (default: the default node)", Check: checkName},
			{Name: "cores", Type: TypeInt, Meta: "N", Help: "CPU cores", Min: 1, Max: 512},
			{Name: "memory", Type: TypeInt, Meta: "MiB", Help: "memory", Min: 16, Max: 4194304},
			{Name: "disk", Type: TypeInt, Meta: "GiB", Help: "root disk size", Min: 1, Max: 131072},
			{Name: "swap", Type: TypeInt, Meta: "MiB", Help: "swap", Min: 0, Max: 4194304},
			{Name: "storage", Type: TypeString, Meta: "S", Help: "storage for the root disk", Check: checkName},
			{Name: "bridge", Type: TypeString, Meta: "B", Help: "network bridge", Check: checkName},
			{Name: "ip", Type: TypeString, Meta: "dhcp|CIDR[,gw=IP]", Help: "address (default dhcp)", Check: checkIP},
			{Name: "vmid", Type: TypeInt, Meta: "N", Help: "VMID (default: the next free one)", Min: 100, Max: 999999999},
			{Name: "ssh-key", Type: TypeString, Meta: "KEY", Help: "SSH public key for root (quote it)"},
			{Name: "os", Type: TypeString, Meta: "VOLUME", Help: "OS template, e.g. debian-12-standard (default: the template's)"},
		},
		Summary:   "create a container: the form, or a plan to confirm when template and hostname are given",
		Example:   "create nginx web1 --cores 2 --ip 10.0.0.50/24,gw=10.0.0.1",
		Role:      provision.RoleOperator,
		argChecks: map[string]func(string) error{"hostname": checkHostname, "template": checkName},
		run:       r.runCreate,
	}
}

// createOptions is a parsed create command.
type createOptions struct {
	req provision.CreateRequest
}

func createOptionsFrom(inv *Invocation) createOptions {
	ip, gw := splitIP(inv.Opt("ip"))
	return createOptions{req: provision.CreateRequest{
		Template:      inv.Arg("template"),
		Hostname:      strings.ToLower(inv.Arg("hostname")),
		Node:          inv.Opt("node"),
		Cores:         inv.Int("cores", 0),
		MemoryMiB:     inv.Int("memory", 0),
		DiskGiB:       inv.Int("disk", 0),
		SwapMiB:       inv.Int("swap", 0),
		Storage:       inv.Opt("storage"),
		Bridge:        inv.Opt("bridge"),
		IP:            ip,
		Gateway:       gw,
		VMID:          inv.Int("vmid", 0),
		SSHPublicKeys: inv.Opt("ssh-key"),
		OSTemplate:    inv.Opt("os"),
	}}
}

// createArgs renders a request back into create arguments (the value of
// the Create button).
func createArgs(req provision.CreateRequest) string {
	parts := []string{quoteArg(req.Template), quoteArg(req.Hostname)}
	add := func(name, v string) {
		if v != "" && v != "0" {
			parts = append(parts, "--"+name+"="+quoteArg(v))
		}
	}
	add("node", req.Node)
	add("cores", strconv.Itoa(req.Cores))
	add("memory", strconv.Itoa(req.MemoryMiB))
	add("disk", strconv.Itoa(req.DiskGiB))
	add("swap", strconv.Itoa(req.SwapMiB))
	add("storage", req.Storage)
	add("bridge", req.Bridge)
	ip := req.IP
	if req.Gateway != "" {
		ip += ",gw=" + req.Gateway
	}
	add("ip", ip)
	add("vmid", strconv.Itoa(req.VMID))
	add("ssh-key", req.SSHPublicKeys)
	add("os", req.OSTemplate)
	return strings.Join(parts, " ")
}

func (r *Router) runCreate(ctx context.Context, c *call) (*Response, error) {
	opts := createOptionsFrom(c.inv)
	if opts.req.Template == "" || opts.req.Hostname == "" {
		form, err := r.createForm(ctx, opts.req)
		if err != nil {
			return nil, err
		}
		return &Response{Form: form, Blocks: []Block{ContextBlock("Opening the create form…")}}, nil
	}
	c.audit.Target = opts.req.Hostname
	if !c.confirmed {
		return r.planCard(ctx, c, opts.req)
	}
	origin := provision.Origin{Platform: c.req.Platform, WorkspaceID: c.req.Workspace, ChannelID: c.req.Channel, ThreadID: c.req.Thread}
	key := c.dedupe
	if key == "" && c.req.DeliveryID != "" {
		key = string(c.req.Platform) + ":" + c.req.DeliveryID
	}
	ct, err := r.b.Create(ctx, c.principal(), origin, opts.req, key)
	if err != nil {
		return nil, err
	}
	c.audit.Target = ct.Hostname
	if !r.firstCard(ctx, ct.ID) {
		// A second press of the same Create (a double click, two people, a
		// retry that was not a redelivery) names the same container; its
		// job card is already in the channel, and a second one would echo
		// every progress message.
		return &Response{Replace: true, Blocks: []Block{TextBlock(fmt.Sprintf(
			"*%s* is already being created; its job card in this channel follows it.", ct.Hostname))}}, nil
	}
	card := JobCard(ct, nil, nil)
	card.Replace = true
	card.Watch = &Watch{ContainerID: ct.ID}
	return &card, nil
}

// JobCardClaimer is an optional Backend ability: claim the right to post a
// container's job card, once across every replica.
type JobCardClaimer interface {
	ClaimJobCard(ctx context.Context, containerID string) (bool, error)
}

// firstCard reports whether this request should post the container's job
// card. Without a claimer, or when the claim cannot be checked, it does:
// a second card is better than none.
func (r *Router) firstCard(ctx context.Context, containerID string) bool {
	cl, ok := r.b.(JobCardClaimer)
	if !ok {
		return true
	}
	first, err := cl.ClaimJobCard(ctx, containerID)
	if err != nil {
		r.log.WarnContext(ctx, "claiming a job card", "container", containerID, "err", err)
		return true
	}
	return first
}

func (r *Router) planCard(ctx context.Context, c *call, req provision.CreateRequest) (*Response, error) {
	plan, err := r.b.PlanCreate(ctx, c.principal(), req)
	if err != nil {
		return nil, err
	}
	p := plan.Request
	ip := p.IP
	if ip == "" {
		ip = "dhcp"
	}
	if p.Gateway != "" {
		ip += " via " + p.Gateway
	}
	vmid := "next free"
	if p.VMID != 0 {
		vmid = strconv.Itoa(p.VMID)
	}
	blocks := []Block{
		HeaderBlock(fmt.Sprintf("Create %s from %s?", p.Hostname, plan.Template.Name)),
		FieldsBlock(
			Pair{"Node", plan.Node},
			Pair{"VMID", vmid},
			Pair{"CPU", fmt.Sprintf("%d cores", p.Cores)},
			Pair{"Memory", fmt.Sprintf("%d MiB (+%d MiB swap)", p.MemoryMiB, p.SwapMiB)},
			Pair{"Disk", fmt.Sprintf("%d GiB on %s", p.DiskGiB, orDash(p.Storage))},
			Pair{"Network", fmt.Sprintf("%s on %s", ip, orDash(p.Bridge))},
			Pair{"OS", orDash(p.OSTemplate)},
			Pair{"Template", templateSummary(&plan.Template)},
		),
	}
	value := r.newRef() + " " + createArgs(p)
	blocks = append(blocks, ButtonBlocks(
		Button{Label: "Create", ActionID: ActCreateConfirm, Value: value, Style: StylePrimary},
		Button{Label: "Cancel", ActionID: ActDismiss, Value: p.Hostname},
	)...)
	return &Response{Blocks: blocks}, nil
}

func templateSummary(t *provision.Template) string {
	s := t.Name
	if n := countEnabled(t.Scripts); n > 0 {
		s += fmt.Sprintf(", %d scripts", n)
	}
	if len(t.Buckets) > 0 {
		s += ", buckets " + strings.Join(t.Buckets, ", ")
	}
	return clip(s, MaxFieldText)
}

func countEnabled(ss []provision.TemplateScript) int {
	n := 0
	for _, s := range ss {
		if s.Enabled {
			n++
		}
	}
	return n
}

func orDash(s string) string {
	if s == "" {
		return "template default"
	}
	return s
}

// createForm is the create form, prefilled with what the command gave.
func (r *Router) createForm(ctx context.Context, req provision.CreateRequest) (*Form, error) {
	templates, err := r.templateOptions(ctx, "")
	if err != nil {
		return nil, err
	}
	if len(templates) == 0 {
		return nil, provision.Userf(provision.ErrNotFound, "there are no templates yet; an admin can import them with /lxc template sync")
	}
	nodes, err := r.nodeOptions(ctx)
	if err != nil {
		return nil, err
	}
	defNode := req.Node
	if defNode == "" {
		ns, _ := r.b.Nodes(ctx)
		for _, n := range ns {
			if n.Node.IsDefault {
				defNode = n.Node.Name
			}
		}
	}
	num := func(v int) string {
		if v == 0 {
			return ""
		}
		return strconv.Itoa(v)
	}
	ip := req.IP
	if ip == "" {
		ip = "dhcp"
	} else if req.Gateway != "" {
		ip += ",gw=" + req.Gateway
	}
	ints := func(a, b int) (*int, *int) { return &a, &b }
	coreMin, coreMax := ints(1, 512)
	memMin, memMax := ints(16, 4194304)
	diskMin, diskMax := ints(1, 131072)
	return &Form{
		ID:     formCreate,
		Title:  "Create a container",
		Submit: "Review",
		Fields: []Field{
			{Name: "template", Label: "Template", Kind: FieldSelect, Required: true, Options: templates, Default: req.Template},
			{Name: "hostname", Label: "Hostname", Kind: FieldText, Required: true, Default: req.Hostname, Placeholder: "web1", Help: "1–63 letters, digits and hyphens"},
			{Name: "node", Label: "Node", Kind: FieldSelect, Required: true, Options: nodes, Default: defNode},
			{Name: "os_template", Label: "OS template", Kind: FieldSelect, DependsOn: "node", Default: req.OSTemplate, Help: "empty = the template's"},
			{Name: "cores", Label: "CPU cores", Kind: FieldNumber, Default: num(req.Cores), Placeholder: "template default", Min: coreMin, Max: coreMax},
			{Name: "memory", Label: "Memory (MiB)", Kind: FieldNumber, Default: num(req.MemoryMiB), Placeholder: "template default", Min: memMin, Max: memMax},
			{Name: "disk", Label: "Disk (GiB)", Kind: FieldNumber, Default: num(req.DiskGiB), Placeholder: "template default", Min: diskMin, Max: diskMax},
			{Name: "ip", Label: "IP address", Kind: FieldText, Default: ip, Help: "dhcp or CIDR[,gw=IP]"},
			{Name: "ssh_key", Label: "SSH public key", Kind: FieldMultiline, Default: req.SSHPublicKeys, Placeholder: "ssh-ed25519 AAAA… (optional)"},
		},
	}, nil
}

// submitCreate validates the create form and answers with field errors or
// the plan to confirm.
func (r *Router) submitCreate(ctx context.Context, req *Request, entry *provision.AuditEntry) (*Response, error) {
	v := req.Form.Values
	errs := map[string]string{}
	words := []string{strings.TrimSpace(v["template"]), strings.TrimSpace(v["hostname"])}
	if words[0] == "" {
		errs["template"] = "choose a template"
	}
	if words[1] == "" {
		errs["hostname"] = "enter a hostname, e.g. web1"
	} else if err := checkHostname(words[1]); err != nil {
		errs["hostname"] = err.Error()
	}
	for field, opt := range map[string]string{"node": "node", "os_template": "os", "cores": "cores", "memory": "memory", "disk": "disk", "ip": "ip", "ssh_key": "ssh-key"} {
		val := strings.TrimSpace(v[field])
		if val == "" {
			continue
		}
		words = append(words, "--"+opt+"="+val)
	}
	cmd := r.table.Lookup("create")
	// Options are checked one at a time so each error lands on its field.
	for field, opt := range map[string]string{"cores": "cores", "memory": "memory", "disk": "disk", "ip": "ip", "node": "node", "os_template": "os"} {
		if val := strings.TrimSpace(v[field]); val != "" {
			if _, err := parseArgs(cmd, []string{"--" + opt + "=" + val}); err != nil {
				errs[field] = strings.TrimPrefix(err.Error(), "--"+opt+": ")
			}
		}
	}
	var inv *Invocation
	if len(errs) == 0 {
		var err error
		if inv, err = parseArgs(cmd, sortedWords(words)); err != nil {
			return nil, err
		}
	}
	if len(errs) > 0 {
		entry.Outcome = "user_error"
		entry.Error = "form errors"
		return &Response{FormErrors: errs, Blocks: []Block{ContextBlock("Please fix the highlighted fields.")}}, nil
	}
	entry.Args = redactedArgs(inv)
	resp, err := r.dispatch(ctx, &call{req: req, inv: inv, audit: entry})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// sortedWords keeps positional words first and options in a stable order.
func sortedWords(words []string) []string {
	pos, opts := words[:2], append([]string(nil), words[2:]...)
	for i := 1; i < len(opts); i++ {
		for j := i; j > 0 && opts[j] < opts[j-1]; j-- {
			opts[j], opts[j-1] = opts[j-1], opts[j]
		}
	}
	return append(append([]string(nil), pos...), opts...)
}
