package proxmox

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/secret"
)

// Markers on every container lxcbot creates, so the bot recognises its own
// containers on Proxmox.
const (
	MarkerTag         = "lxcbot"
	DescriptionMarker = "Managed by lxcbot."
)

// IsManaged reports whether a container carries lxcbot's tag.
func IsManaged(tags []string) bool {
	for _, t := range tags {
		if strings.EqualFold(t, MarkerTag) {
			return true
		}
	}
	return false
}

// CreateSpec is everything POST /nodes/{node}/lxc gets from the pipeline's
// create phase.
type CreateSpec struct {
	VMID       int
	OSTemplate string // volume id, e.g. local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst
	Hostname   string
	Cores      int // 0 = PVE's default
	MemoryMiB  int // 0 = PVE's default
	SwapMiB    int // sent as is; 0 means no swap
	Storage    string
	DiskGiB    int
	Bridge     string // default vmbr0
	// IP is "dhcp" (or empty) or a CIDR such as 10.0.0.5/24 or
	// 2001:db8::5/64; Gateway is optional and must be of the same family.
	IP            string
	Gateway       string
	Nameserver    string // space separated addresses
	SearchDomain  string
	SSHPublicKeys string // authorized_keys text, one key per line
	Password      secret.String
	Unprivileged  bool
	Nesting       bool
	Keyctl        bool
	Fuse          bool
	Onboot        bool
	Tags          []string // MarkerTag is added when missing
	Description   string   // DescriptionMarker is added when missing
}

var (
	reName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	reTag  = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_+.-]*$`)
)

// params turns the spec into the API's parameters. Values that end up inside
// PVE property strings (bridge, storage, addresses) are checked so chat
// input cannot smuggle in extra keys.
func (s CreateSpec) params() (map[string]any, error) {
	invalid := func(format string, args ...any) error {
		return fmt.Errorf(format+": %w", append(args, provision.ErrInvalid)...)
	}
	if err := checkVMID(s.VMID); err != nil {
		return nil, err
	}
	if s.OSTemplate == "" || strings.ContainsAny(s.OSTemplate, ", \n") {
		return nil, invalid("OS template %q is not a volume id", s.OSTemplate)
	}
	if !reName.MatchString(s.Storage) {
		return nil, invalid("storage name %q is invalid", s.Storage)
	}
	if s.DiskGiB < 1 {
		return nil, invalid("disk size %d GiB is too small", s.DiskGiB)
	}
	if s.Cores < 0 || s.MemoryMiB < 0 || s.SwapMiB < 0 {
		return nil, invalid("cores, memory and swap must not be negative")
	}
	net0, err := s.net0()
	if err != nil {
		return nil, err
	}
	p := map[string]any{
		"vmid":         s.VMID,
		"ostemplate":   s.OSTemplate,
		"rootfs":       fmt.Sprintf("%s:%d", s.Storage, s.DiskGiB),
		"net0":         net0,
		"swap":         s.SwapMiB,
		"unprivileged": s.Unprivileged,
		"onboot":       s.Onboot,
	}
	if s.Hostname != "" {
		p["hostname"] = s.Hostname
	}
	if s.Cores > 0 {
		p["cores"] = s.Cores
	}
	if s.MemoryMiB > 0 {
		p["memory"] = s.MemoryMiB
	}
	if s.Nameserver != "" {
		for _, ns := range strings.Fields(s.Nameserver) {
			if _, err := netip.ParseAddr(ns); err != nil {
				return nil, invalid("nameserver %q is not an IP address", ns)
			}
		}
		p["nameserver"] = strings.Join(strings.Fields(s.Nameserver), " ")
	}
	if s.SearchDomain != "" {
		p["searchdomain"] = s.SearchDomain
	}
	if keys := strings.TrimSpace(s.SSHPublicKeys); keys != "" {
		// Raw authorized_keys text: go-proxmox's EncodeSSHKeys is for QEMU.
		p["ssh-public-keys"] = keys + "\n"
	}
	if !s.Password.IsZero() {
		p["password"] = s.Password.Reveal()
	}
	var features []string
	for _, f := range []struct {
		on   bool
		name string
	}{{s.Nesting, "nesting"}, {s.Keyctl, "keyctl"}, {s.Fuse, "fuse"}} {
		if f.on {
			features = append(features, f.name+"=1")
		}
	}
	if len(features) > 0 {
		p["features"] = strings.Join(features, ",")
	}
	tags := []string{MarkerTag}
	for _, t := range s.Tags {
		t = strings.TrimSpace(t)
		if t == "" || strings.EqualFold(t, MarkerTag) {
			continue
		}
		if !reTag.MatchString(t) {
			return nil, invalid("tag %q is invalid (letters, digits, _ + . - only)", t)
		}
		tags = append(tags, strings.ToLower(t))
	}
	p["tags"] = strings.Join(tags, ";")
	desc := strings.TrimRight(s.Description, "\n")
	if !strings.Contains(desc, DescriptionMarker) {
		if desc != "" {
			desc += "\n"
		}
		desc += DescriptionMarker
	}
	p["description"] = desc
	return p, nil
}

func (s CreateSpec) net0() (string, error) {
	bridge := s.Bridge
	if bridge == "" {
		bridge = "vmbr0"
	}
	if !reName.MatchString(bridge) {
		return "", fmt.Errorf("bridge name %q is invalid: %w", bridge, provision.ErrInvalid)
	}
	parts := []string{"name=eth0", "bridge=" + bridge}
	switch ip := strings.TrimSpace(s.IP); ip {
	case "", "dhcp":
		if s.Gateway != "" {
			return "", fmt.Errorf("a gateway needs a static address, not DHCP: %w", provision.ErrInvalid)
		}
		parts = append(parts, "ip=dhcp")
	default:
		prefix, err := netip.ParsePrefix(ip)
		if err != nil {
			return "", fmt.Errorf("address %q is neither dhcp nor a CIDR like 10.0.0.5/24: %w", ip, provision.ErrInvalid)
		}
		ipKey, gwKey := "ip", "gw"
		if prefix.Addr().Is6() && !prefix.Addr().Is4In6() {
			ipKey, gwKey = "ip6", "gw6"
		}
		parts = append(parts, ipKey+"="+prefix.String())
		if s.Gateway != "" {
			gw, err := netip.ParseAddr(s.Gateway)
			if err != nil || gw.Is4() != prefix.Addr().Is4() {
				return "", fmt.Errorf("gateway %q is not an address of the same family as %s: %w", s.Gateway, ip, provision.ErrInvalid)
			}
			parts = append(parts, gwKey+"="+gw.String())
		}
	}
	return strings.Join(parts, ","), nil
}

// CreateContainer asks node to create the container and returns the UPID of
// the creation task; the creation can still fail in the task (WaitTask). A
// taken VMID gives ErrVMIDExists. It is never retried: a lost answer may
// still have created the container, so callers check VMIDExists first.
func (c *Client) CreateContainer(ctx context.Context, node string, spec CreateSpec) (string, error) {
	params, err := spec.params()
	if err != nil {
		return "", fmt.Errorf("creating CT %d on %s: %w", spec.VMID, node, err)
	}
	var upid string
	if err := c.post(ctx, nodePath(node, "lxc"), params, &upid); err != nil {
		return "", redact(fmt.Errorf("creating CT %d on %s: %w", spec.VMID, node, err), spec.Password.Reveal())
	}
	c.log.InfoContext(ctx, "container create", "node", node, "vmid", spec.VMID, "upid", upid)
	return upid, nil
}
