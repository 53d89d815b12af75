package catalog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// Custom package timeouts, in seconds.
const (
	DefaultCustomTimeoutSec = 300
	MaxCustomTimeoutSec     = 24 * 60 * 60
)

// maxPackageName bounds a package name (npm's own limit is 214).
const maxPackageName = 256

var (
	// libraryBucketRe is a library bucket name and the <bucket> part of a
	// template's own package file. No dots: "<template>.<bucket>" is how own
	// buckets are named.
	libraryBucketRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

	// apt: Debian package names, optionally :arch, then =version (globs
	// allowed, as apt-get accepts them) or /release.
	aptPackageRe = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]*(:[a-z0-9][a-z0-9-]*)?(=[A-Za-z0-9.+~:*_-]+|/[A-Za-z0-9][A-Za-z0-9.+_-]*)?$`)
	// pip: a PEP 508 name with optional extras and version specifiers; no
	// environment markers or URLs.
	pipPackageRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?(\[[A-Za-z0-9._-]+(,[A-Za-z0-9._-]+)*\])?((===|==|!=|~=|>=|<=|>|<)[A-Za-z0-9.*+!_-]+(,(===|==|!=|~=|>=|<=|>|<)[A-Za-z0-9.*+!_-]+)*)?$`)
	// npm: [@scope/]name[@version, range or tag].
	npmPackageRe = regexp.MustCompile(`^(@[A-Za-z0-9-][A-Za-z0-9._~-]*/)?[A-Za-z0-9-][A-Za-z0-9._~-]*(@[A-Za-z0-9.^~*<>=+_-]+)?$`)
	// custom: a name used in progress messages and to skip what is installed.
	customNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)
)

var managerSyntax = map[provision.Manager]string{
	provision.ManagerApt:    "apt names use a-z, 0-9, '+', '-' and '.', optionally followed by :arch, =version or /release",
	provision.ManagerPip:    "pip names use letters, digits, '.', '_' and '-', optionally followed by [extras] and version specifiers such as ==2.31 or >=1,<2",
	provision.ManagerNpm:    "npm names are [@scope/]name, optionally followed by @version, @range or @tag",
	provision.ManagerCustom: "custom names use letters, digits, '.', '_', '+' and '-'",
}

// ParseManager maps a package file extension to its manager.
func ParseManager(ext string) (provision.Manager, bool) {
	switch m := provision.Manager(ext); m {
	case provision.ManagerApt, provision.ManagerPip, provision.ManagerNpm, provision.ManagerCustom:
		return m, true
	}
	return "", false
}

// ValidatePackageName checks one package name for manager m.
func ValidatePackageName(m provision.Manager, name string) error {
	var re *regexp.Regexp
	switch m {
	case provision.ManagerApt:
		re = aptPackageRe
	case provision.ManagerPip:
		re = pipPackageRe
	case provision.ManagerNpm:
		re = npmPackageRe
	case provision.ManagerCustom:
		re = customNameRe
	default:
		return fmt.Errorf("unknown package manager %q", m)
	}
	if len(name) > maxPackageName {
		return fmt.Errorf("%s package name longer than %d bytes", m, maxPackageName)
	}
	if !re.MatchString(name) {
		return fmt.Errorf("invalid %s package name %q: %s", m, name, managerSyntax[m])
	}
	return nil
}

// ParsePackages reads a package file for manager m: one package per line,
// blank lines and comments skipped. Errors are *ParseError values naming the
// line.
func ParsePackages(m provision.Manager, r io.Reader) ([]provision.Package, error) {
	_, pkgs, err := parsePackageFile(m, r)
	return pkgs, err
}

// ParseBucket reads a package file as the bucket name; the comment lines at
// the top of the file are its description.
func ParseBucket(name string, m provision.Manager, r io.Reader) (*provision.Bucket, error) {
	desc, pkgs, err := parsePackageFile(m, r)
	if err != nil {
		return nil, err
	}
	return &provision.Bucket{Name: name, Manager: m, Description: desc, Packages: pkgs}, nil
}

func parsePackageFile(m provision.Manager, r io.Reader) (string, []provision.Package, error) {
	if _, ok := ParseManager(string(m)); !ok {
		return "", nil, fmt.Errorf("unknown package manager %q", m)
	}
	var (
		desc    []string
		header  = true
		pkgs    []provision.Package
		firstOn = map[string]int{}
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSuffix(sc.Text(), "\r")
		if n == 1 {
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		if err := checkText(line); err != nil {
			return "", nil, parseErrorf("", n, "%w", err)
		}
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			if header {
				if d := strings.TrimSpace(strings.TrimPrefix(trimmed, "#")); d != "" {
					desc = append(desc, d)
				}
			}
			continue
		}
		header = false
		trimmed = strings.TrimSpace(stripInlineComment(trimmed))
		if trimmed == "" {
			continue
		}
		p, err := parsePackageLine(m, trimmed)
		if err != nil {
			return "", nil, parseErrorf("", n, "%w", err)
		}
		if first, dup := firstOn[p.Name]; dup {
			return "", nil, parseErrorf("", n, "%s is listed twice (first on line %d)", p.Name, first)
		}
		firstOn[p.Name] = n
		pkgs = append(pkgs, p)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return "", nil, parseErrorf("", n+1, "line longer than %d bytes", maxLine)
		}
		return "", nil, fmt.Errorf("reading packages: %w", err)
	}
	return strings.Join(desc, "\n"), pkgs, nil
}

// stripInlineComment cuts a "#" that starts a word (follows whitespace)
// outside shell quotes, so "curl  # for health checks" is curl and a custom
// command's echo '#' keeps its '#'.
func stripInlineComment(s string) string {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			}
		case c == '\\':
			i++
		case quote == '"':
			if c == '"' {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '#' && i > 0 && (s[i-1] == ' ' || s[i-1] == '\t'):
			return s[:i]
		}
	}
	return s
}

func parsePackageLine(m provision.Manager, line string) (provision.Package, error) {
	if m == provision.ManagerCustom {
		return parseCustomLine(line)
	}
	if strings.ContainsAny(line, " \t") {
		return provision.Package{}, fmt.Errorf("one package per line: %q contains whitespace", line)
	}
	if err := ValidatePackageName(m, line); err != nil {
		return provision.Package{}, err
	}
	return provision.Package{Name: line}, nil
}

// parseCustomLine reads name|check command|install command[|timeout].
func parseCustomLine(line string) (provision.Package, error) {
	fields := splitCustomFields(line)
	if len(fields) < 3 {
		return provision.Package{}, fmt.Errorf("custom package %q: want name|check command|install command[|timeout seconds]", line)
	}
	if len(fields) > 4 {
		return provision.Package{}, fmt.Errorf("custom package: %d '|'-separated fields, want at most 4; write the separators without spaces (name|check|install) so that ' | ' inside a command stays a pipe", len(fields))
	}
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	p := provision.Package{Name: fields[0], Check: fields[1], Install: fields[2], TimeoutSec: DefaultCustomTimeoutSec}
	if err := ValidatePackageName(provision.ManagerCustom, p.Name); err != nil {
		return provision.Package{}, err
	}
	for _, f := range []struct{ what, cmd string }{{"check", p.Check}, {"install", p.Install}} {
		if f.cmd == "" {
			return provision.Package{}, fmt.Errorf("custom package %s: empty %s command", p.Name, f.what)
		}
		if strings.HasPrefix(f.cmd, "|") || strings.HasSuffix(f.cmd, "|") {
			return provision.Package{}, fmt.Errorf("custom package %s: %s command %q starts or ends with '|'", p.Name, f.what, f.cmd)
		}
	}
	if len(fields) == 4 {
		t, err := strconv.Atoi(fields[3])
		if err != nil || t < 1 || t > MaxCustomTimeoutSec || strings.HasPrefix(fields[3], "+") {
			return provision.Package{}, fmt.Errorf("custom package %s: invalid timeout %q (whole seconds, 1 to %d); a '|' inside a command needs a space on both sides", p.Name, fields[3], MaxCustomTimeoutSec)
		}
		p.TimeoutSec = t
	}
	return p, nil
}

// splitCustomFields splits a custom line on its field separators: single
// '|' characters outside shell quotes that do not have whitespace on both
// sides. "||", " | " and quoted pipes belong to a command. A line written with spaces around every separator
// (name | check | install) has fewer than two such separators and is split on
// every single '|' instead.
func splitCustomFields(line string) []string {
	var tight, all []int
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			}
			continue
		case c == '\\':
			i++
			continue
		case quote == '"':
			if c == '"' {
				quote = 0
			}
			continue
		case c == '\'' || c == '"':
			quote = c
			continue
		case c != '|':
			continue
		}
		j := i
		for j < len(line) && line[j] == '|' {
			j++
		}
		if j-i == 1 {
			all = append(all, i)
			spacedBefore := i > 0 && (line[i-1] == ' ' || line[i-1] == '\t')
			spacedAfter := i+1 < len(line) && (line[i+1] == ' ' || line[i+1] == '\t')
			if !spacedBefore || !spacedAfter {
				tight = append(tight, i)
			}
		}
		i = j - 1
	}
	seps := tight
	if len(tight) < 2 {
		seps = all
	}
	fields := make([]string, 0, len(seps)+1)
	start := 0
	for _, s := range seps {
		fields = append(fields, line[start:s])
		start = s + 1
	}
	return append(fields, line[start:])
}

// FormatPackages writes a package file that ParseBucket reads back to the
// same description and packages.
func FormatPackages(description string, m provision.Manager, pkgs []provision.Package) []byte {
	var b bytes.Buffer
	wrote := false
	for _, d := range strings.Split(description, "\n") {
		if d = strings.TrimSpace(d); d != "" {
			fmt.Fprintf(&b, "# %s\n", d)
			wrote = true
		}
	}
	if wrote {
		b.WriteByte('\n')
	}
	for _, p := range pkgs {
		if m != provision.ManagerCustom {
			fmt.Fprintf(&b, "%s\n", p.Name)
			continue
		}
		fmt.Fprintf(&b, "%s|%s|%s", p.Name, p.Check, p.Install)
		if p.TimeoutSec != 0 && p.TimeoutSec != DefaultCustomTimeoutSec {
			fmt.Fprintf(&b, "|%d", p.TimeoutSec)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}
