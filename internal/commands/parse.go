package commands

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ArgType is the type of an option value.
type ArgType string

// Option types.
const (
	TypeString ArgType = "string"
	TypeInt    ArgType = "int"
	TypeBool   ArgType = "bool" // a flag: present means true; takes no value
)

// Arg is a positional argument.
type Arg struct {
	Name     string
	Required bool
	Variadic bool // takes the rest of the words (only last)
	Help     string
}

// Opt is a --name option.
type Opt struct {
	Name     string
	Type     ArgType
	Meta     string // value placeholder in usage, e.g. MiB
	Help     string
	Min, Max int // for TypeInt when Max > 0
	// Secret values are redacted in the audit log.
	Secret bool
	// Check validates a string value; its error message is shown.
	Check func(string) error
}

// Invocation is a parsed command line.
type Invocation struct {
	Command *Command
	Args    map[string]string // positional arguments by name
	Rest    []string          // the words of a variadic argument
	Opts    map[string]string // options by name; flags are "true"
	Ints    map[string]int    // integer options, parsed
	Order   []string          // option names in the order given
}

// Arg returns a positional argument, or "".
func (inv *Invocation) Arg(name string) string { return inv.Args[name] }

// Opt returns an option value, or "".
func (inv *Invocation) Opt(name string) string { return inv.Opts[name] }

// Flag reports whether a boolean option was given.
func (inv *Invocation) Flag(name string) bool { return inv.Opts[name] == "true" }

// Int returns an integer option, or def when it was not given.
func (inv *Invocation) Int(name string, def int) int {
	if v, ok := inv.Ints[name]; ok {
		return v
	}
	return def
}

// UsageError is a command line the router could not accept. Command is the
// command it was meant for, nil when the command itself is unknown.
type UsageError struct {
	Command *Command
	Msg     string
}

func (e *UsageError) Error() string { return e.Msg }

// Tokenize splits a command line into words. Words are separated by spaces;
// single quotes keep everything literally, double quotes allow \" and \\.
// Typographic quotes that chat clients substitute count as double quotes.
func Tokenize(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool // inside a word
		quote rune
	)
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case quote == '"':
			switch {
			case r == '"' || r == '“' || r == '”':
				quote = 0
			case r == '\\' && i+1 < len(rs) && (rs[i+1] == '"' || rs[i+1] == '\\'):
				i++
				cur.WriteRune(rs[i])
			default:
				cur.WriteRune(r)
			}
		case r == '\'':
			quote, in = '\'', true
		case r == '"' || r == '“' || r == '”':
			quote, in = '"', true
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("a %c quote is not closed", quote)
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}

// Parse reads a command line (everything after /lxc). An empty line is help.
func (t *Table) Parse(line string) (*Invocation, error) {
	words, err := Tokenize(line)
	if err != nil {
		return nil, &UsageError{Msg: err.Error() + "; quote values that contain spaces, e.g. --ssh-key 'ssh-ed25519 AAAA… me@host'"}
	}
	if len(words) == 0 {
		words = []string{"help"}
	}
	cmd, n := t.lookup(words)
	if cmd == nil {
		msg := fmt.Sprintf("unknown command %q", words[0])
		if s := t.suggest(words[0]); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		return nil, &UsageError{Msg: msg}
	}
	return parseArgs(cmd, words[n:])
}

func parseArgs(cmd *Command, words []string) (*Invocation, error) {
	inv := &Invocation{Command: cmd, Args: map[string]string{}, Opts: map[string]string{}, Ints: map[string]int{}}
	var pos []string
	onlyPos := false
	for i := 0; i < len(words); i++ {
		w := words[i]
		if onlyPos || !strings.HasPrefix(w, "--") {
			pos = append(pos, w)
			continue
		}
		if w == "--" {
			onlyPos = true
			continue
		}
		name, val, hasVal := strings.Cut(w[2:], "=")
		o := cmd.opt(name)
		if o == nil {
			return nil, usagef(cmd, "unknown option --%s", name)
		}
		if _, dup := inv.Opts[o.Name]; dup {
			return nil, usagef(cmd, "--%s is given twice", o.Name)
		}
		if o.Type == TypeBool {
			if hasVal {
				b, err := strconv.ParseBool(val)
				if err != nil {
					return nil, usagef(cmd, "--%s is a flag; write it without a value", o.Name)
				}
				val = strconv.FormatBool(b)
			} else {
				val = "true"
			}
		} else if !hasVal {
			if i+1 >= len(words) {
				return nil, usagef(cmd, "--%s needs a value (%s)", o.Name, o.meta())
			}
			i++
			val = words[i]
		}
		if err := o.accept(inv, val); err != nil {
			return nil, &UsageError{Command: cmd, Msg: err.Error()}
		}
		inv.Order = append(inv.Order, o.Name)
	}
	for i, a := range cmd.Args {
		if a.Variadic {
			if i < len(pos) {
				inv.Rest = append(inv.Rest, pos[i:]...)
				inv.Args[a.Name] = strings.Join(pos[i:], " ")
			}
			pos = nil
			break
		}
		if i < len(pos) {
			inv.Args[a.Name] = pos[i]
		}
	}
	if len(pos) > len(cmd.Args) && (len(cmd.Args) == 0 || !cmd.Args[len(cmd.Args)-1].Variadic) {
		return nil, usagef(cmd, "unexpected argument %q", pos[len(cmd.Args)])
	}
	for _, a := range cmd.Args {
		if a.Required && inv.Args[a.Name] == "" {
			return nil, usagef(cmd, "missing <%s>", a.Name)
		}
	}
	for _, a := range cmd.Args {
		if v := inv.Args[a.Name]; v != "" {
			if chk := cmd.argCheck(a.Name); chk != nil {
				if err := chk(v); err != nil {
					return nil, &UsageError{Command: cmd, Msg: err.Error()}
				}
			}
		}
	}
	return inv, nil
}

func (o *Opt) meta() string {
	if o.Meta != "" {
		return o.Meta
	}
	return strings.ToUpper(string(o.Type))
}

func (o *Opt) accept(inv *Invocation, val string) error {
	if o.Type == TypeInt {
		n, err := strconv.Atoi(val)
		if err != nil {
			return fmt.Errorf("--%s takes a whole number, not %q", o.Name, val)
		}
		if o.Max > 0 && (n < o.Min || n > o.Max) {
			return fmt.Errorf("--%s must be between %d and %d, not %d", o.Name, o.Min, o.Max, n)
		}
		inv.Ints[o.Name] = n
	}
	if o.Type == TypeString && val == "" {
		return fmt.Errorf("--%s needs a value (%s)", o.Name, o.meta())
	}
	if o.Check != nil {
		if err := o.Check(val); err != nil {
			return fmt.Errorf("--%s: %w", o.Name, err)
		}
	}
	inv.Opts[o.Name] = val
	return nil
}

func usagef(cmd *Command, format string, args ...any) error {
	return &UsageError{Command: cmd, Msg: fmt.Sprintf(format, args...)}
}

// lookup finds the longest command name that prefixes words.
func (t *Table) lookup(words []string) (*Command, int) {
	for n := min(2, len(words)); n >= 1; n-- {
		name := strings.ToLower(strings.Join(words[:n], " "))
		if c, ok := t.byName[name]; ok {
			return c, n
		}
	}
	return nil, 0
}

// suggest returns the command name closest to word, or "".
func (t *Table) suggest(word string) string {
	word = strings.ToLower(word)
	best, bestD := "", 3
	names := make([]string, 0, len(t.byName))
	for n := range t.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		first, _, _ := strings.Cut(n, " ")
		if d := distance(word, first); d < bestD {
			best, bestD = first, d
		}
	}
	return best
}

// distance is the Levenshtein distance, bounded to short words.
func distance(a, b string) int {
	if len(a) > 32 || len(b) > 32 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
