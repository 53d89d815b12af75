package provision

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// Plan is a validated creation request with every default resolved: what
// the pipeline will build.
type Plan struct {
	Request  CreateRequest // resolved: no zero values left that have a default
	Template Template
	Node     string
	Buckets  []Bucket
	Scripts  []TemplateScript // the enabled scripts, in order
}

var hostnameRE = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)

// ValidHostname reports whether h is a single DNS label (RFC 1123).
func ValidHostname(h string) bool { return hostnameRE.MatchString(h) }

// PlanCreate validates req and resolves the template's defaults, the node,
// storage, bridge and OS template. Bad input is a UserError saying what to
// change.
func (s *Engine) PlanCreate(ctx context.Context, p Principal, req CreateRequest) (*Plan, error) {
	req.Template = strings.TrimSpace(req.Template)
	req.Hostname = strings.TrimSpace(req.Hostname)
	if req.Template == "" {
		return nil, Userf(ErrInvalid, "choose a template: /lxc templates lists them")
	}
	if !ValidHostname(req.Hostname) {
		return nil, Userf(ErrInvalid, "hostname %q is not valid: use letters, digits and hyphens (1-63 characters, not starting or ending with a hyphen)", req.Hostname)
	}
	tpl, err := s.store.GetTemplate(ctx, req.Template)
	if errors.Is(err, ErrNotFound) {
		return nil, Userf(ErrNotFound, "there is no template %q: /lxc templates lists them", req.Template)
	}
	if err != nil {
		return nil, fmt.Errorf("planning %s: reading template %s: %w", req.Hostname, req.Template, err)
	}

	var node Node
	if req.Node != "" {
		node, err = s.store.GetNode(ctx, req.Node)
		if errors.Is(err, ErrNotFound) {
			return nil, Userf(ErrNotFound, "there is no node %q: /lxc nodes lists them", req.Node)
		}
	} else {
		node, err = s.store.DefaultNode(ctx)
		if errors.Is(err, ErrNotFound) {
			return nil, Userf(ErrNotFound, "no default node is set: pass --node or ask an admin to run /lxc node default")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("planning %s: resolving node: %w", req.Hostname, err)
	}
	req.Node = node.Name

	req.Cores = pick(req.Cores, tpl.Cores, 1)
	req.MemoryMiB = pick(req.MemoryMiB, tpl.MemoryMiB, 512)
	if req.SwapMiB == 0 {
		req.SwapMiB = tpl.SwapMiB
	}
	req.DiskGiB = pick(req.DiskGiB, tpl.DiskGiB, 8)
	switch {
	case req.Cores < 1 || req.Cores > 512:
		return nil, Userf(ErrInvalid, "cores must be between 1 and 512, not %d", req.Cores)
	case req.MemoryMiB < 16 || req.MemoryMiB > 4<<20:
		return nil, Userf(ErrInvalid, "memory must be between 16 and 4194304 MiB, not %d", req.MemoryMiB)
	case req.SwapMiB < 0:
		return nil, Userf(ErrInvalid, "swap cannot be negative")
	case req.DiskGiB < 1 || req.DiskGiB > 128<<10:
		return nil, Userf(ErrInvalid, "disk must be between 1 and 131072 GiB, not %d", req.DiskGiB)
	}
	req.Storage = pickStr(req.Storage, tpl.Storage, s.cfg.DefaultStorage)
	req.Bridge = pickStr(req.Bridge, tpl.Bridge, s.cfg.DefaultBridge)
	if !safeWord(req.Storage) {
		return nil, Userf(ErrInvalid, "storage %q is not a valid storage name", req.Storage)
	}
	if !safeWord(req.Bridge) {
		return nil, Userf(ErrInvalid, "bridge %q is not a valid bridge name", req.Bridge)
	}
	if err := validateNetwork(&req); err != nil {
		return nil, err
	}
	if strings.ContainsAny(req.SSHPublicKeys, "\x00") {
		return nil, Userf(ErrInvalid, "the SSH public keys contain invalid characters")
	}

	osTpl := pickStr(req.OSTemplate, tpl.OSTemplate, "debian-12-standard")
	pve, err := s.nodes.Proxmox(ctx, node.Name)
	if err != nil {
		return nil, fmt.Errorf("planning %s: connecting to %s: %w", req.Hostname, node.Name, err)
	}
	if req.OSTemplate, err = resolveOSTemplate(ctx, pve, node.Name, osTpl); err != nil {
		return nil, err
	}

	if req.VMID != 0 {
		if err := s.checkVMIDFree(ctx, pve, req.VMID); err != nil {
			return nil, err
		}
	}

	plan := &Plan{Template: tpl, Node: node.Name}
	bucketNames := req.Buckets
	if bucketNames == nil {
		bucketNames = tpl.Buckets
	}
	for _, name := range bucketNames {
		b, err := s.store.GetBucket(ctx, name)
		if errors.Is(err, ErrNotFound) {
			return nil, Userf(ErrNotFound, "there is no package bucket %q: /lxc buckets lists them", name)
		}
		if err != nil {
			return nil, fmt.Errorf("planning %s: reading bucket %s: %w", req.Hostname, name, err)
		}
		plan.Buckets = append(plan.Buckets, b)
	}
	req.Buckets = append([]string{}, bucketNames...)
	for _, skip := range req.SkipScripts {
		if !slices.ContainsFunc(tpl.Scripts, func(sc TemplateScript) bool { return sc.Name == skip }) {
			return nil, Userf(ErrNotFound, "template %s has no script %q", tpl.Name, skip)
		}
	}
	plan.Scripts = enabledScripts(tpl, req.SkipScripts)
	plan.Request = req
	return plan, nil
}

// checkVMIDFree validates a user-chosen VMID.
func (s *Engine) checkVMIDFree(ctx context.Context, pve Proxmox, vmid int) error {
	if vmid < 100 || vmid > 999999999 {
		return Userf(ErrInvalid, "VMID %d is out of range: use 100 to 999999999, or leave it empty to pick one", vmid)
	}
	reserved, err := s.store.ReservedVMIDs(ctx)
	if err != nil {
		return fmt.Errorf("checking VMID %d: %w", vmid, err)
	}
	exists, err := pve.VMIDExists(ctx, vmid)
	if err != nil {
		return fmt.Errorf("checking VMID %d on Proxmox: %w", vmid, err)
	}
	if exists || slices.Contains(reserved, vmid) {
		return Userf(ErrConflict, "VMID %d is already in use: choose another or leave it empty to pick one", vmid)
	}
	return nil
}

// enabledScripts returns the template's enabled scripts minus skipped ones,
// in run order.
func enabledScripts(tpl Template, skip []string) []TemplateScript {
	var out []TemplateScript
	for _, sc := range tpl.Scripts {
		if sc.Enabled && !slices.Contains(skip, sc.Name) {
			out = append(out, sc)
		}
	}
	slices.SortStableFunc(out, func(a, b TemplateScript) int {
		if a.Order != b.Order {
			return a.Order - b.Order
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// resolveOSTemplate turns a short name (debian-12-standard) into a vztmpl
// volume available on the node; full volume ids are checked as they are.
func resolveOSTemplate(ctx context.Context, pve Proxmox, node, name string) (string, error) {
	vols, err := pve.OSTemplates(ctx, node)
	if err != nil {
		return "", fmt.Errorf("listing OS templates on %s: %w", node, err)
	}
	if strings.Contains(name, ":") {
		if slices.Contains(vols, name) {
			return name, nil
		}
		return "", Userf(ErrNotFound, "OS template %s is not on node %s: download it there or choose another", name, node)
	}
	var best string
	for _, v := range vols {
		file := v[strings.LastIndex(v, "/")+1:]
		if strings.HasPrefix(file, name+"_") || strings.HasPrefix(file, name+".") || file == name {
			if best == "" || file > best[strings.LastIndex(best, "/")+1:] {
				best = v // the highest version sorts last
			}
		}
	}
	if best == "" {
		return "", Userf(ErrNotFound, "no OS template matching %s on node %s: download it (pveam download) or choose another", name, node)
	}
	return best, nil
}

// validateNetwork checks and normalises the IP, gateway and DNS settings.
func validateNetwork(req *CreateRequest) error {
	ip := strings.TrimSpace(req.IP)
	if ip == "" || strings.EqualFold(ip, "dhcp") {
		req.IP = "dhcp"
		if req.Gateway != "" {
			return Userf(ErrInvalid, "a gateway needs a static address: give --ip as CIDR, e.g. 10.0.0.20/24,gw=10.0.0.1")
		}
	} else {
		// Accept "CIDR,gw=IP" as typed on the command line.
		if cidr, gw, ok := strings.Cut(ip, ",gw="); ok {
			ip, req.Gateway = cidr, gw
		}
		pfx, err := netip.ParsePrefix(ip)
		if err != nil || !pfx.Addr().Is4() {
			return Userf(ErrInvalid, "IP %q is not valid: use dhcp or an IPv4 CIDR such as 10.0.0.20/24", req.IP)
		}
		req.IP = pfx.String()
	}
	if req.Gateway != "" {
		if a, err := netip.ParseAddr(req.Gateway); err != nil || !a.Is4() {
			return Userf(ErrInvalid, "gateway %q is not an IPv4 address", req.Gateway)
		}
	}
	for _, ns := range strings.Fields(req.Nameserver) {
		if _, err := netip.ParseAddr(ns); err != nil {
			return Userf(ErrInvalid, "nameserver %q is not an IP address", ns)
		}
	}
	if req.SearchDomain != "" && !regexp.MustCompile(`^[a-zA-Z0-9.-]+$`).MatchString(req.SearchDomain) {
		return Userf(ErrInvalid, "search domain %q is not valid", req.SearchDomain)
	}
	return nil
}

func safeWord(s string) bool {
	return s != "" && regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]*$`).MatchString(s)
}

func pick(vals ...int) int {
	for _, v := range vals {
		if v != 0 {
			return v
		}
	}
	return 0
}

func pickStr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
