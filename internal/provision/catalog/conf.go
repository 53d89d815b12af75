package catalog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ConfFile is the name of a template's settings file.
const ConfFile = "template.conf"

// Defaults for template.conf keys that are missing or empty.
const (
	DefaultCores     = 1
	DefaultMemoryMiB = 512
	DefaultSwapMiB   = 512
	DefaultDiskGiB   = 8
	DefaultOS        = "debian"
	DefaultVersion   = "12"
)

// template.conf keys.
const (
	KeyApp            = "TEMPLATE_APP"
	KeyDescription    = "TEMPLATE_DESCRIPTION"
	KeyTags           = "TEMPLATE_TAGS"
	KeyCPU            = "TEMPLATE_CPU"
	KeyRAM            = "TEMPLATE_RAM"
	KeySwap           = "TEMPLATE_SWAP"
	KeyDisk           = "TEMPLATE_DISK"
	KeyOS             = "TEMPLATE_OS"
	KeyVersion        = "TEMPLATE_VERSION"
	KeyOSTemplate     = "TEMPLATE_OSTEMPLATE"
	KeyStorage        = "TEMPLATE_STORAGE"
	KeyBridge         = "TEMPLATE_BRIDGE"
	KeyUnprivileged   = "TEMPLATE_UNPRIVILEGED"
	KeyNesting        = "TEMPLATE_NESTING"
	KeyKeyctl         = "TEMPLATE_KEYCTL"
	KeyFuse           = "TEMPLATE_FUSE"
	KeyPackagesStrict = "TEMPLATE_PACKAGES_STRICT"
	KeyBuckets        = "TEMPLATE_BUCKETS"
)

// Conf is a parsed template.conf.
type Conf struct {
	App            string
	Description    string
	Tags           []string
	OSTemplate     string // vztmpl volume or short name such as debian-12-standard
	Cores          int
	MemoryMiB      int
	SwapMiB        int
	DiskGiB        int
	Storage        string
	Bridge         string
	Unprivileged   bool
	Nesting        bool
	Keyctl         bool
	Fuse           bool
	PackagesStrict bool
	Buckets        []string          // library buckets (TEMPLATE_BUCKETS)
	Extra          map[string]string // unknown keys, kept
}

// DefaultConf is what an empty template.conf means.
func DefaultConf() Conf {
	return Conf{
		OSTemplate:   DefaultOS + "-" + DefaultVersion + "-standard",
		Cores:        DefaultCores,
		MemoryMiB:    DefaultMemoryMiB,
		SwapMiB:      DefaultSwapMiB,
		DiskGiB:      DefaultDiskGiB,
		Unprivileged: true,
	}
}

var (
	osNameRe     = regexp.MustCompile(`^[a-z][a-z0-9]*$`)
	osVersionRe  = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._]*$`)
	osTemplateRe = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9._-]*:vztmpl/)?[A-Za-z0-9][A-Za-z0-9._+-]*$`)
	standardOSRe = regexp.MustCompile(`^([a-z][a-z0-9]*)-([0-9A-Za-z][0-9A-Za-z._]*)-standard$`)
	storageRe    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]*$`)
	bridgeRe     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]*$`)
)

type intRange struct {
	def, min, max int
	unit          string
}

var intKeys = map[string]intRange{
	KeyCPU:  {DefaultCores, 1, 1024, "cores"},
	KeyRAM:  {DefaultMemoryMiB, 16, 4 << 20, "MiB"},
	KeySwap: {DefaultSwapMiB, 0, 4 << 20, "MiB"},
	KeyDisk: {DefaultDiskGiB, 1, 128 << 10, "GiB"},
}

var boolKeys = map[string]bool{
	KeyUnprivileged:   true,
	KeyNesting:        false,
	KeyKeyctl:         false,
	KeyFuse:           false,
	KeyPackagesStrict: false,
}

var stringKeys = map[string]bool{
	KeyApp: true, KeyDescription: true, KeyTags: true, KeyOS: true, KeyVersion: true,
	KeyOSTemplate: true, KeyStorage: true, KeyBridge: true, KeyBuckets: true,
}

func knownKey(k string) bool {
	_, isInt := intKeys[k]
	_, isBool := boolKeys[k]
	return isInt || isBool || stringKeys[k]
}

type assignment struct {
	value string
	line  int
}

// maxLine bounds one line of a catalog text file.
const maxLine = 1 << 20

// ParseTemplateConf reads a template.conf. Errors are *ParseError values that
// name template.conf and the line.
func ParseTemplateConf(r io.Reader) (Conf, []Warning, error) {
	var warns []Warning
	warn := func(line int, format string, args ...any) {
		warns = append(warns, Warning{File: ConfFile, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	vals := map[string]assignment{}
	var order []string
	lookup := func(name string) (string, bool) {
		a, ok := vals[name]
		return a.value, ok
	}

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
			return Conf{}, warns, parseErrorf(ConfFile, n, "%w", err)
		}
		key, value, notes, ok, err := parseConfLine(line, lookup)
		if err != nil {
			return Conf{}, warns, parseErrorf(ConfFile, n, "%w", err)
		}
		for _, note := range notes {
			warn(n, "%s", note)
		}
		if !ok {
			continue
		}
		if prev, dup := vals[key]; dup {
			warn(n, "%s is set again (first on line %d); the last value wins", key, prev.line)
		} else {
			order = append(order, key)
		}
		vals[key] = assignment{value: value, line: n}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return Conf{}, warns, parseErrorf(ConfFile, n+1, "line longer than %d bytes", maxLine)
		}
		return Conf{}, warns, fmt.Errorf("reading %s: %w", ConfFile, err)
	}

	c := DefaultConf()
	fail := func(key, format string, args ...any) error {
		return parseErrorf(ConfFile, vals[key].line, "%s: %s", key, fmt.Sprintf(format, args...))
	}
	// empty reports whether key is unset or empty; an empty value means the
	// default, with a warning, so "TEMPLATE_UNPRIVILEGED=" is never false.
	empty := func(key string) bool {
		a, ok := vals[key]
		if ok && strings.TrimSpace(a.value) == "" {
			warn(a.line, "%s is empty; using the default", key)
		}
		return !ok || strings.TrimSpace(a.value) == ""
	}

	for _, key := range []string{KeyCPU, KeyRAM, KeySwap, KeyDisk} {
		rng := intKeys[key]
		v := rng.def
		if !empty(key) {
			raw := strings.TrimSpace(vals[key].value)
			n, err := strconv.Atoi(raw)
			if err != nil || strings.HasPrefix(raw, "+") {
				return Conf{}, warns, fail(key, "invalid number %q", raw)
			}
			if n < rng.min || n > rng.max {
				return Conf{}, warns, fail(key, "%d is out of range (%d to %d %s)", n, rng.min, rng.max, rng.unit)
			}
			v = n
		}
		switch key {
		case KeyCPU:
			c.Cores = v
		case KeyRAM:
			c.MemoryMiB = v
		case KeySwap:
			c.SwapMiB = v
		case KeyDisk:
			c.DiskGiB = v
		}
	}
	for _, key := range []string{KeyUnprivileged, KeyNesting, KeyKeyctl, KeyFuse, KeyPackagesStrict} {
		v := boolKeys[key]
		if !empty(key) {
			b, ok := parseBool(vals[key].value)
			if !ok {
				return Conf{}, warns, fail(key, "invalid boolean %q (want 0/1, yes/no, true/false or on/off)", strings.TrimSpace(vals[key].value))
			}
			v = b
		}
		switch key {
		case KeyUnprivileged:
			c.Unprivileged = v
		case KeyNesting:
			c.Nesting = v
		case KeyKeyctl:
			c.Keyctl = v
		case KeyFuse:
			c.Fuse = v
		case KeyPackagesStrict:
			c.PackagesStrict = v
		}
	}

	c.App = strings.TrimSpace(vals[KeyApp].value)
	c.Description = strings.TrimSpace(vals[KeyDescription].value)
	c.Tags = splitList(vals[KeyTags].value)
	if v := strings.TrimSpace(vals[KeyStorage].value); v != "" {
		if !storageRe.MatchString(v) {
			return Conf{}, warns, fail(KeyStorage, "invalid storage name %q", v)
		}
		c.Storage = v
	}
	if v := strings.TrimSpace(vals[KeyBridge].value); v != "" {
		if !bridgeRe.MatchString(v) {
			return Conf{}, warns, fail(KeyBridge, "invalid bridge name %q", v)
		}
		c.Bridge = v
	}
	for _, b := range splitList(vals[KeyBuckets].value) {
		if !libraryBucketRe.MatchString(b) {
			return Conf{}, warns, fail(KeyBuckets, "invalid bucket name %q (letters, digits, '-' and '_')", b)
		}
		c.Buckets = append(c.Buckets, b)
	}

	if _, set := vals[KeyOSTemplate]; set && !empty(KeyOSTemplate) {
		v := strings.TrimSpace(vals[KeyOSTemplate].value)
		if !osTemplateRe.MatchString(v) {
			return Conf{}, warns, fail(KeyOSTemplate, "invalid OS template %q (want storage:vztmpl/file or a short name such as debian-12-standard)", v)
		}
		c.OSTemplate = v
		for _, k := range []string{KeyOS, KeyVersion} {
			if a, ok := vals[k]; ok {
				warn(a.line, "%s is ignored because %s is set", k, KeyOSTemplate)
			}
		}
	} else {
		osName, version := DefaultOS, DefaultVersion
		if !empty(KeyOS) {
			osName = strings.ToLower(strings.TrimSpace(vals[KeyOS].value))
			if !osNameRe.MatchString(osName) {
				return Conf{}, warns, fail(KeyOS, "invalid OS name %q", osName)
			}
		}
		if !empty(KeyVersion) {
			version = strings.TrimSpace(vals[KeyVersion].value)
			if !osVersionRe.MatchString(version) {
				return Conf{}, warns, fail(KeyVersion, "invalid OS version %q", version)
			}
		}
		c.OSTemplate = osName + "-" + version + "-standard"
	}

	for _, key := range order {
		if knownKey(key) {
			continue
		}
		if c.Extra == nil {
			c.Extra = map[string]string{}
		}
		c.Extra[key] = vals[key].value
		warn(vals[key].line, "unknown key %s is kept but not used", key)
	}
	return c, warns, nil
}

// parseConfLine reads one line. ok is false for blank and comment lines.
func parseConfLine(line string, lookup func(string) (string, bool)) (key, value string, notes []string, ok bool, err error) {
	s := strings.TrimLeft(line, " \t")
	if s == "" || s[0] == '#' {
		return "", "", nil, false, nil
	}
	exported := false
	if rest, found := strings.CutPrefix(s, "export"); found && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
		exported = true
		s = strings.TrimLeft(rest, " \t")
	}
	k := 0
	for k < len(s) && isNameChar(s[k]) {
		k++
	}
	key = s[:k]
	if key == "" || !isNameStart(key[0]) {
		return "", "", nil, false, errors.New("malformed line: want KEY=VALUE")
	}
	rest := s[k:]
	if trimmed := strings.TrimLeft(rest, " \t"); exported && (trimmed == "" || trimmed[0] == '#') {
		return "", "", []string{fmt.Sprintf("export %s without a value is ignored", key)}, false, nil
	}
	switch {
	case rest == "":
		return "", "", nil, false, fmt.Errorf("malformed line: %s without '='", key)
	case strings.HasPrefix(strings.TrimLeft(rest, " \t"), "=") && rest[0] != '=':
		return "", "", nil, false, fmt.Errorf("%s: spaces around '=' are not allowed; write %s=VALUE", key, key)
	case rest[0] != '=':
		if exported && (rest[0] == ' ' || rest[0] == '\t') {
			return "", "", nil, false, fmt.Errorf("malformed line: export one KEY=VALUE per line")
		}
		return "", "", nil, false, errors.New("malformed line: want KEY=VALUE")
	}
	lx := &wordLexer{s: rest, i: 1, lookup: lookup}
	value, err = lx.word(0)
	if err != nil {
		return "", "", nil, false, fmt.Errorf("%s: %w", key, err)
	}
	after := strings.TrimLeft(rest[lx.i:], " \t")
	if after != "" && after[0] != '#' {
		return "", "", nil, false, fmt.Errorf("%s: unquoted whitespace in the value; quote the value", key)
	}
	return key, value, lx.notes, true, nil
}

// checkText rejects what no catalog text file should hold: invalid UTF-8
// (the store keeps text) and control characters other than tab.
func checkText(line string) error {
	if !utf8.ValidString(line) {
		return errors.New("not valid UTF-8")
	}
	for _, r := range line {
		if r != '\t' && (r < 0x20 || r == 0x7f) {
			return fmt.Errorf("control character %U", r)
		}
	}
	return nil
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "yes", "true", "on":
		return true, true
	case "0", "no", "false", "off":
		return false, true
	}
	return false, false
}

// splitList splits a ";"-separated list, trimming entries and dropping empty
// and repeated ones.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		p = strings.TrimSpace(p)
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// FormatTemplateConf writes c as a template.conf that ParseTemplateConf reads
// back to the same Conf.
func FormatTemplateConf(c Conf) []byte {
	var b bytes.Buffer
	b.WriteString("# lxcbot template settings (bash-style KEY=VALUE).\n")
	put := func(k, v string) { fmt.Fprintf(&b, "%s=%s\n", k, shellQuote(v)) }
	put(KeyApp, c.App)
	put(KeyDescription, c.Description)
	if len(c.Tags) > 0 {
		put(KeyTags, strings.Join(c.Tags, ";"))
	}
	if m := standardOSRe.FindStringSubmatch(c.OSTemplate); m != nil {
		put(KeyOS, m[1])
		put(KeyVersion, m[2])
	} else {
		put(KeyOSTemplate, c.OSTemplate)
	}
	put(KeyCPU, strconv.Itoa(c.Cores))
	put(KeyRAM, strconv.Itoa(c.MemoryMiB))
	put(KeySwap, strconv.Itoa(c.SwapMiB))
	put(KeyDisk, strconv.Itoa(c.DiskGiB))
	if c.Storage != "" {
		put(KeyStorage, c.Storage)
	}
	if c.Bridge != "" {
		put(KeyBridge, c.Bridge)
	}
	put(KeyUnprivileged, boolString(c.Unprivileged))
	put(KeyNesting, boolString(c.Nesting))
	put(KeyKeyctl, boolString(c.Keyctl))
	put(KeyFuse, boolString(c.Fuse))
	put(KeyPackagesStrict, boolString(c.PackagesStrict))
	if len(c.Buckets) > 0 {
		put(KeyBuckets, strings.Join(c.Buckets, ";"))
	}
	keys := make([]string, 0, len(c.Extra))
	for k := range c.Extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		put(k, c.Extra[k])
	}
	return b.Bytes()
}

func boolString(v bool) string {
	if v {
		return "1"
	}
	return "0"
}

var shellSafeRe = regexp.MustCompile(`^[A-Za-z0-9_./:@%+,=-]+$`)

// shellQuote quotes v for a bash assignment.
func shellQuote(v string) string {
	if shellSafeRe.MatchString(v) {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}
