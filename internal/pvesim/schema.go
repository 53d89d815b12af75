package pvesim

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// embeddedSchema is a byte-for-byte copy of the shared reference
// pve-api-subset.json, embedded so the simulator binary works on its own.
//
//go:embed schema/pve-api-subset.json
var embeddedSchema []byte

// schemaProp is one parameter (or one sub-option of a property string) in
// the PVE JSON schema. Numbers in the schema are sometimes strings
// ("minimum": "0"), so they are decoded leniently.
type schemaProp struct {
	Type       string          `json:"type"`
	Optional   json.Number     `json:"optional"`
	Enum       []string        `json:"enum"`
	Minimum    json.RawMessage `json:"minimum"`
	Maximum    json.RawMessage `json:"maximum"`
	MaxLength  int             `json:"maxLength"`
	MinLength  int             `json:"minLength"`
	Pattern    string          `json:"pattern"`
	Format     json.RawMessage `json:"format"`
	DefaultKey json.Number     `json:"default_key"`

	formatName string
	subOptions map[string]*schemaProp
	defaultKey string
	min, max   *float64
	re         *regexp.Regexp
}

type schemaMethod struct {
	AllowToken json.Number `json:"allowtoken"`
	ProxyTo    string      `json:"proxyto"`
	Parameters struct {
		Properties map[string]*schemaProp `json:"properties"`
	} `json:"parameters"`
}

// apiSchema is the parsed subset of the PVE API schema, keyed by path
// template ("/nodes/{node}/lxc") and HTTP method.
type apiSchema struct {
	endpoints map[string]map[string]*schemaMethod
}

// loadSchema parses the schema from path, or the embedded copy when path is
// empty.
func loadSchema(path string) (*apiSchema, error) {
	raw := embeddedSchema
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading api schema: %w", err)
		}
		raw = b
	}
	var doc struct {
		Endpoints map[string]map[string]*schemaMethod `json:"endpoints"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parsing api schema: %w", err)
	}
	for _, methods := range doc.Endpoints {
		for _, m := range methods {
			for _, p := range m.Parameters.Properties {
				if err := p.prepare(); err != nil {
					return nil, err
				}
			}
		}
	}
	return &apiSchema{endpoints: doc.Endpoints}, nil
}

func (p *schemaProp) prepare() error {
	p.min = lenientNumber(p.Minimum)
	p.max = lenientNumber(p.Maximum)
	if p.Pattern != "" {
		// Perl's "(?^:...)" embedded-flag groups have no Go equivalent.
		re, err := regexp.Compile("^(?:" + strings.ReplaceAll(p.Pattern, "(?^:", "(?:") + ")$")
		if err == nil {
			p.re = re
		}
	}
	if len(p.Format) == 0 {
		return nil
	}
	if p.Format[0] == '"' {
		return json.Unmarshal(p.Format, &p.formatName)
	}
	if err := json.Unmarshal(p.Format, &p.subOptions); err != nil {
		return fmt.Errorf("parsing property string format: %w", err)
	}
	for name, sub := range p.subOptions {
		if err := sub.prepare(); err != nil {
			return err
		}
		if sub.DefaultKey.String() == "1" {
			p.defaultKey = name
		}
	}
	return nil
}

func lenientNumber(raw json.RawMessage) *float64 {
	if len(raw) == 0 {
		return nil
	}
	s := strings.Trim(string(raw), `"`)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil
	}
	return &f
}

func (p *schemaProp) optional() bool { return p.Optional.String() == "1" }

// method returns the schema entry for a path template and method.
func (s *apiSchema) method(template, method string) (*schemaMethod, bool) {
	m, ok := s.endpoints[template][method]
	return m, ok
}

// templates lists every path template in the schema.
func (s *apiSchema) templates() []string {
	out := make([]string, 0, len(s.endpoints))
	for t := range s.endpoints {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

var indexedParam = regexp.MustCompile(`^([a-z]+)(\d+)$`)

// indexLimits are the highest index plus one that pve-container accepts for
// the indexed keys.
var indexLimits = map[string]int{"net": 32, "mp": 256, "unused": 256, "dev": 256}

// lookup finds the schema for a concrete parameter name, resolving indexed
// names such as net0 to "net[n]".
func (m *schemaMethod) lookup(name string) (*schemaProp, bool) {
	if p, ok := m.Parameters.Properties[name]; ok {
		return p, true
	}
	sm := indexedParam.FindStringSubmatch(name)
	if sm == nil {
		return nil, false
	}
	p, ok := m.Parameters.Properties[sm[1]+"[n]"]
	if !ok {
		return nil, false
	}
	idx, err := strconv.Atoi(sm[2])
	if err != nil || idx >= indexLimits[sm[1]] {
		return nil, false
	}
	return p, true
}

const msgNotInSchema = "property is not defined in schema and the schema does not allow additional properties"

// validate checks params the way PVE::JSONSchema does and returns the
// per-parameter error messages (empty when everything is valid).
func (m *schemaMethod) validate(params map[string]string) map[string]string {
	errs := map[string]string{}
	for name, value := range params {
		p, ok := m.lookup(name)
		if !ok {
			errs[name] = msgNotInSchema
			continue
		}
		if msg := p.check(name, value); msg != "" {
			errs[name] = msg
		}
	}
	for name, p := range m.Parameters.Properties {
		if p.optional() || strings.HasSuffix(name, "[n]") {
			continue
		}
		if _, ok := params[name]; !ok {
			errs[name] = "property is missing and it is not optional"
		}
	}
	return errs
}

var (
	intRe    = regexp.MustCompile(`^-?\d+$`)
	numberRe = regexp.MustCompile(`^-?(?:\d+|\d*\.\d+)(?:[eE][-+]?\d+)?$`)
)

// check validates one value; name is used in property-string messages.
func (p *schemaProp) check(name, value string) string {
	switch p.Type {
	case "boolean":
		if value != "0" && value != "1" && value != "" {
			return fmt.Sprintf("type check ('boolean') failed - got '%s'", value)
		}
		return ""
	case "integer":
		if !intRe.MatchString(value) {
			return fmt.Sprintf("type check ('integer') failed - got '%s'", value)
		}
		return p.checkRange(value)
	case "number":
		if !numberRe.MatchString(value) {
			return fmt.Sprintf("type check ('number') failed - got '%s'", value)
		}
		return p.checkRange(value)
	}
	if p.MaxLength > 0 && len(value) > p.MaxLength {
		return fmt.Sprintf("value may only be %d characters long", p.MaxLength)
	}
	if p.MinLength > 0 && len(value) < p.MinLength {
		return fmt.Sprintf("value must be at least %d characters long", p.MinLength)
	}
	if len(p.Enum) > 0 && !slices.Contains(p.Enum, value) {
		return fmt.Sprintf("value '%s' does not have a value in the enumeration '%s'", value, strings.Join(p.Enum, ", "))
	}
	if p.re != nil && !p.re.MatchString(value) {
		return "value does not match the regex pattern"
	}
	if p.subOptions != nil {
		if msg := p.checkPropertyString(name, value); msg != "" {
			return "invalid format - format error\n" + msg
		}
		return ""
	}
	if msg := checkNamedFormat(p.formatName, value); msg != "" {
		return "invalid format - " + msg + "\n"
	}
	return ""
}

func (p *schemaProp) checkRange(value string) string {
	f, err := strconv.ParseFloat(value, 64)
	if err != nil {
		return ""
	}
	if p.min != nil && f < *p.min {
		return "value must have a minimum value of " + strconv.FormatFloat(*p.min, 'f', -1, 64)
	}
	if p.max != nil && f > *p.max {
		return "value must have a maximum value of " + strconv.FormatFloat(*p.max, 'f', -1, 64)
	}
	return ""
}

// checkPropertyString validates "key=value,key=value" strings against the
// sub-option schema (net[n], rootfs, features, ...).
func (p *schemaProp) checkPropertyString(name, value string) string {
	kv, err := parsePropertyString(value, p.defaultKey)
	if err != nil {
		return fmt.Sprintf("%s: %v", name, err)
	}
	var msgs []string
	for k, v := range kv {
		sub, ok := p.subOptions[k]
		if !ok {
			msgs = append(msgs, fmt.Sprintf("%s.%s: %s", name, k, msgNotInSchema))
			continue
		}
		if msg := sub.check(name+"."+k, v); msg != "" {
			msgs = append(msgs, fmt.Sprintf("%s.%s: %s", name, k, strings.TrimSuffix(msg, "\n")))
		}
	}
	for k, sub := range p.subOptions {
		if _, ok := kv[k]; !ok && !sub.optional() {
			msgs = append(msgs, fmt.Sprintf("%s.%s: property is missing and it is not optional", name, k))
		}
	}
	slices.Sort(msgs)
	if len(msgs) == 0 {
		return ""
	}
	return strings.Join(msgs, "\n") + "\n"
}

// parsePropertyString splits "a=1,b=2" (with an optional leading value for
// the default key) into a map.
func parsePropertyString(value, defaultKey string) (map[string]string, error) {
	out := map[string]string{}
	for part := range strings.SplitSeq(value, ",") {
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			if defaultKey == "" {
				return nil, fmt.Errorf("value without key, but schema does not define a default key")
			}
			k, v = defaultKey, part
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("duplicate key in comma-separated list property: %s", k)
		}
		out[k] = v
	}
	return out, nil
}

var (
	nodeNameRe  = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$`)
	dnsLabelRe  = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$`)
	storageIDRe = regexp.MustCompile(`^[a-z][a-z0-9\-_.]*[a-z0-9]$`)
	tagRe       = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9_\-+.]*$`)
)

// checkNamedFormat implements the handful of named PVE formats the
// simulator's endpoints rely on; unknown formats are accepted.
func checkNamedFormat(format, value string) string {
	switch format {
	case "pve-node":
		if !nodeNameRe.MatchString(value) {
			return "value does not look like a valid node name"
		}
	case "dns-name":
		for label := range strings.SplitSeq(value, ".") {
			if !dnsLabelRe.MatchString(label) {
				return "value does not look like a valid DNS name"
			}
		}
	case "pve-storage-id":
		if !storageIDRe.MatchString(value) {
			return fmt.Sprintf("storage ID '%s' contains illegal characters", value)
		}
	case "pve-tag-list":
		for _, tag := range splitTags(value) {
			if !tagRe.MatchString(tag) {
				return fmt.Sprintf("invalid tag '%s'", tag)
			}
		}
	}
	return ""
}

// splitTags splits a tag list on the separators PVE accepts.
func splitTags(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || r == ' ' })
}
