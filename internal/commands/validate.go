package commands

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

var (
	hostnameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	unitRE     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9@._:\\-]{0,127}$`)
	nameRE     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
)

// checkHostname accepts an RFC 1123 label of at most 63 characters.
func checkHostname(s string) error {
	if !hostnameRE.MatchString(strings.ToLower(s)) {
		return fmt.Errorf("%q is not a valid hostname: use 1–63 letters, digits and hyphens, not starting or ending with a hyphen (e.g. web1)", clip(s, 80))
	}
	return nil
}

// checkIP accepts "dhcp" or an IPv4/IPv6 CIDR with an optional ",gw=IP".
func checkIP(s string) error {
	if s == "dhcp" {
		return nil
	}
	cidr, gw, hasGW := strings.Cut(s, ",")
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return fmt.Errorf("%q is not dhcp or an address with a prefix length, e.g. 10.0.0.50/24 or 10.0.0.50/24,gw=10.0.0.1", clip(s, 80))
	}
	if hasGW {
		v, ok := strings.CutPrefix(gw, "gw=")
		g, err := netip.ParseAddr(v)
		if !ok || err != nil {
			return fmt.Errorf("the gateway must be written gw=IP, e.g. 10.0.0.50/24,gw=10.0.0.1")
		}
		if g.Is4() != p.Addr().Is4() {
			return fmt.Errorf("the gateway %s and the address %s are different IP versions", g, p.Addr())
		}
	}
	return nil
}

// splitIP separates "CIDR,gw=IP" into the address and the gateway.
func splitIP(s string) (ip, gw string) {
	ip, rest, _ := strings.Cut(s, ",")
	gw, _ = strings.CutPrefix(rest, "gw=")
	return ip, gw
}

func checkUnit(s string) error {
	if !unitRE.MatchString(s) {
		return fmt.Errorf("%q is not a systemd unit name; see /lxc services <ct> for the names", clip(s, 80))
	}
	return nil
}

func checkName(s string) error {
	if !nameRE.MatchString(s) {
		return fmt.Errorf("%q is not a valid name: use letters, digits, dots, hyphens and underscores", clip(s, 80))
	}
	return nil
}

// splitList reads "a,b;c" lists.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
