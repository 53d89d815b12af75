package catalog

import (
	"reflect"
	"strings"
	"testing"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// FuzzParseTemplateConf: the parser never panics, accepted settings are in
// range, and what it accepts survives FormatTemplateConf unchanged.
func FuzzParseTemplateConf(f *testing.F) {
	f.Add("TEMPLATE_UNPRIVILEGED=1 # keep\nTEMPLATE_CPU=${CPU:-2}\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, warns, err := ParseTemplateConf(strings.NewReader(text))
		for _, w := range warns {
			if w.File != ConfFile || w.Line < 1 {
				t.Fatalf("warning without a location: %+v", w)
			}
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), ConfFile+":") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if c.Cores < 1 || c.MemoryMiB < 16 || c.SwapMiB < 0 || c.DiskGiB < 1 || c.OSTemplate == "" {
			t.Fatalf("out of range: %+v", c)
		}
		for k := range c.Extra {
			if knownKey(k) {
				t.Fatalf("known key %s in Extra", k)
			}
		}
		again, _, err := ParseTemplateConf(strings.NewReader(string(FormatTemplateConf(c))))
		if err != nil {
			t.Fatalf("formatted conf does not parse: %v\n%s", err, FormatTemplateConf(c))
		}
		if !reflect.DeepEqual(c, again) {
			t.Fatalf("round trip changed the conf:\n%+v\n%+v", c, again)
		}
	})
}

var fuzzManagers = []provision.Manager{provision.ManagerApt, provision.ManagerPip, provision.ManagerNpm, provision.ManagerCustom}

// FuzzParsePackages: the parser never panics, every accepted name is valid
// for its manager (so no shell metacharacters slip through for apt), and
// FormatPackages reads back the same packages.
func FuzzParsePackages(f *testing.F) {
	f.Add(uint8(0), "curl # http\nnginx=1.22*\n")
	f.Add(uint8(3), "code-server|command -v code-server|curl -fsSL https://code-server.dev/install.sh | sh\n")
	f.Fuzz(func(t *testing.T, which uint8, text string) {
		m := fuzzManagers[int(which)%len(fuzzManagers)]
		b, err := ParseBucket("fuzz", m, strings.NewReader(text))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Fatalf("error does not name the line: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, p := range b.Packages {
			if err := ValidatePackageName(m, p.Name); err != nil {
				t.Fatalf("accepted an invalid name: %v", err)
			}
			if seen[p.Name] {
				t.Fatalf("duplicate %q accepted", p.Name)
			}
			seen[p.Name] = true
			if m == provision.ManagerApt && strings.ContainsAny(p.Name, ";&|$`<> \t\n'\"\\()") {
				t.Fatalf("shell metacharacter in apt name %q", p.Name)
			}
			if m == provision.ManagerCustom {
				if p.Check == "" || p.Install == "" || p.TimeoutSec < 1 || p.TimeoutSec > MaxCustomTimeoutSec {
					t.Fatalf("incomplete custom package %+v", p)
				}
			} else if p.Check != "" || p.Install != "" || p.TimeoutSec != 0 {
				t.Fatalf("%s package with custom fields %+v", m, p)
			}
		}
		again, err := ParseBucket("fuzz", m, strings.NewReader(string(FormatPackages(b.Description, m, b.Packages))))
		if err != nil {
			t.Fatalf("formatted bucket does not parse: %v\n%s", err, FormatPackages(b.Description, m, b.Packages))
		}
		if again.Description != b.Description || len(again.Packages) != len(b.Packages) {
			t.Fatalf("round trip changed the bucket:\n%+v\n%+v", b, again)
		}
		for i := range b.Packages {
			if again.Packages[i] != b.Packages[i] {
				t.Fatalf("round trip changed package %d:\n%+v\n%+v", i, b.Packages[i], again.Packages[i])
			}
		}
	})
}
