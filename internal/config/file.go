package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/lxcbot/lxcbot/internal/secret"
)

// maxConfigFile bounds the YAML file; real ones are a few KiB.
const maxConfigFile = 4 << 20

// file is the parsed LXCBOT_CONFIG file, ${VAR} references already expanded.
type file struct {
	path string
	flat map[string]*yaml.Node // top-level keys that mirror environment variables
	body fileBody
}

// fileBody is the structured part of the file.
type fileBody struct {
	Nodes         []fileNode        `yaml:"nodes"`
	Roles         fileRoles         `yaml:"roles"`
	Notifications fileNotifications `yaml:"notifications"`
}

type fileNode struct {
	Name               string        `yaml:"name"`
	APIURL             string        `yaml:"api_url"`
	TokenID            string        `yaml:"token_id"`
	TokenSecret        secret.String `yaml:"token_secret"`
	TokenSecretFile    string        `yaml:"token_secret_file"`
	TLSFingerprint     string        `yaml:"tls_fingerprint"`
	InsecureSkipVerify bool          `yaml:"insecure_skip_verify"`
	SSH                *fileSSH      `yaml:"ssh"`
	Default            bool          `yaml:"default"`
}

type fileSSH struct {
	Addr           string        `yaml:"addr"`
	User           string        `yaml:"user"`
	Password       secret.String `yaml:"password"`
	PasswordFile   string        `yaml:"password_file"`
	PrivateKeyFile string        `yaml:"private_key_file"`
	HostKey        string        `yaml:"host_key"`
}

type fileRoles struct {
	Admins    []string `yaml:"admins"`
	Operators []string `yaml:"operators"`
	Viewers   []string `yaml:"viewers"`
}

type fileNotifications struct {
	Slack   *fileNotify `yaml:"slack"`
	Discord *fileNotify `yaml:"discord"`
}

type fileNotify struct {
	Channel string   `yaml:"channel"`
	Events  []string `yaml:"events"`
}

// readFile reads and parses the configuration file at path.
func readFile(path string, env func(string) (string, bool)) (*file, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, errorf(EnvConfigFile, fmt.Sprintf("reading %s: %v", path, underlying(err)))
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxConfigFile+1))
	if err != nil {
		return nil, errorf(EnvConfigFile, fmt.Sprintf("reading %s: %v", path, underlying(err)))
	}
	if len(data) > maxConfigFile {
		return nil, errorf(EnvConfigFile, fmt.Sprintf("%s is larger than 4 MiB", path))
	}
	f, err := parseFile(path, data, env)
	if err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			return nil, err
		}
		return nil, errorf(EnvConfigFile, fmt.Sprintf("%s: %v", path, err))
	}
	return f, nil
}

// parseFile parses the YAML document in data. Errors that are not *Error are
// about the file as a whole; the caller names it.
func parseFile(path string, data []byte, env func(string) (string, bool)) (*file, error) {
	f := &file{path: path, flat: make(map[string]*yaml.Node)}
	shielded, refs := shieldRefs(data)
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(shielded))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return f, nil // an empty file sets nothing
		}
		return nil, err
	}
	if len(doc.Content) == 0 {
		return f, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return f, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, errors.New("must be a YAML mapping of settings")
	}
	if err := expandNodes(root, refs, env); err != nil {
		return nil, err
	}

	keys := make(map[string]setting)
	for _, s := range settings() {
		keys[s.key()] = s
		if s.secret {
			keys[s.key()+"_file"] = s
		}
	}
	structured := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch _, isSetting := keys[k.Value]; {
		case k.Value == "nodes" || k.Value == "roles" || k.Value == "notifications":
			structured.Content = append(structured.Content, k, v)
		case isSetting:
			if _, dup := f.flat[k.Value]; dup {
				return nil, fmt.Errorf("line %d: key %q appears twice", k.Line, k.Value)
			}
			f.flat[k.Value] = v
		default:
			return nil, fmt.Errorf("line %d: unknown key %q", k.Line, k.Value)
		}
	}
	if err := checkKeys(structured, reflect.TypeFor[fileBody](), ""); err != nil {
		return nil, err
	}
	if err := structured.Decode(&f.body); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return nil, errors.New(strings.Join(te.Errors, "; "))
		}
		return nil, err
	}
	return f, nil
}

// expandNodes expands ${VAR} in every scalar value (not in keys).
func expandNodes(n *yaml.Node, r *refs, env func(string) (string, bool)) error {
	switch n.Kind {
	case yaml.ScalarNode:
		v, err := Expand(r.restore(n.Value), env)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		if v != n.Value {
			n.Value = v
			if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle|yaml.TaggedStyle) == 0 {
				n.Tag = "" // resolve the expanded text afresh: ${SKIP} may be "true"
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			n.Content[i].Value = r.restore(n.Content[i].Value) // keys are not expanded
			if err := expandNodes(n.Content[i+1], r, env); err != nil {
				return err
			}
		}
	case yaml.SequenceNode, yaml.DocumentNode:
		for _, c := range n.Content {
			if err := expandNodes(c, r, env); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkKeys refuses keys that t has no field for, so a typo is an error
// instead of a silently ignored setting.
func checkKeys(n *yaml.Node, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			field, ok := fieldByTag(t, k.Value)
			if !ok {
				name := k.Value
				if q := strconv.Quote(name); q[1:len(q)-1] != name {
					name = q // keep the error on one line
				}
				return errorf(join(path, name), fmt.Sprintf("unknown key (line %d)", k.Line))
			}
			if err := checkKeys(n.Content[i+1], field.Type, join(path, k.Value)); err != nil {
				return err
			}
		}
	case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for i, c := range n.Content {
			if err := checkKeys(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func fieldByTag(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// setting returns the file's value for s, if the file sets it.
func (f *file) setting(s setting) (string, bool, error) {
	key := s.key()
	n, hasValue := f.flat[key]
	fn, hasFile := f.flat[key+"_file"]
	switch {
	case hasValue && hasFile:
		return "", false, errorf(s.name, fmt.Sprintf("both %s and %s_file are set in %s; set only one", key, key, f.path))
	case hasFile:
		p, err := scalar(fn, key+"_file", f.path)
		if err != nil {
			return "", false, errorf(s.name, err.Error())
		}
		v, err := readSecretFile(relTo(f.path, p))
		if err != nil {
			return "", false, errorf(s.name, fmt.Sprintf("%v (%s_file in %s)", err, key, f.path))
		}
		return v, true, nil
	case !hasValue:
		return "", false, nil
	}
	var v string
	if n.Kind == yaml.SequenceNode && s.name == EnvAdmins {
		items := make([]string, 0, len(n.Content))
		for _, c := range n.Content {
			item, err := scalar(c, key, f.path)
			if err != nil {
				return "", false, errorf(s.name, err.Error())
			}
			items = append(items, item)
		}
		v = strings.Join(items, ",")
	} else {
		var err error
		if v, err = scalar(n, key, f.path); err != nil {
			return "", false, errorf(s.name, err.Error())
		}
	}
	if v == "" {
		return "", false, nil
	}
	if s.path {
		v = relTo(f.path, v)
	}
	return v, true, nil
}

func scalar(n *yaml.Node, key, path string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("%s in %s (line %d) must be a single value", key, path, n.Line)
	}
	if n.ShortTag() == "!!null" {
		return "", nil
	}
	return n.Value, nil
}

// apply validates the structured part of the file and stores it in c.
func (f *file) apply(c *Config) error {
	for i, fn := range f.body.Nodes {
		n, err := f.node(i, fn)
		if err != nil {
			return err
		}
		for j, prev := range c.Nodes {
			if strings.EqualFold(prev.Name, n.Name) {
				return errorf(fmt.Sprintf("nodes[%d].name", i), fmt.Sprintf("%q is already the name of nodes[%d]", n.Name, j))
			}
			if prev.Default && n.Default {
				return errorf(fmt.Sprintf("nodes[%d].default", i), fmt.Sprintf("only one node can be the default; nodes[%d] already is", j))
			}
		}
		c.Nodes = append(c.Nodes, n)
	}

	var err error
	if c.Roles.Admins, err = rolePrincipals("roles.admins", f.body.Roles.Admins); err != nil {
		return err
	}
	if c.Roles.Operators, err = rolePrincipals("roles.operators", f.body.Roles.Operators); err != nil {
		return err
	}
	if c.Roles.Viewers, err = rolePrincipals("roles.viewers", f.body.Roles.Viewers); err != nil {
		return err
	}

	if c.Notifications.Slack, err = notify("notifications.slack", f.body.Notifications.Slack, false); err != nil {
		return err
	}
	if c.Notifications.Discord, err = notify("notifications.discord", f.body.Notifications.Discord, true); err != nil {
		return err
	}
	return nil
}
