package catalog

import (
	"errors"
	"fmt"
	"strings"
)

// maxExpansionDepth bounds ${A:-${B:-...}} nesting; real files nest once.
const maxExpansionDepth = 8

// wordLexer reads one bash word (the value of KEY=VALUE) with quote removal
// and the ${NAME:-default} expansions a template.conf may use. It never runs
// anything: command substitution is an error.
type wordLexer struct {
	s      string
	i      int
	lookup func(name string) (string, bool)
	notes  []string // warnings found while reading
}

func isNameStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isNameChar(c byte) bool { return isNameStart(c) || (c >= '0' && c <= '9') }

func (l *wordLexer) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	for _, n := range l.notes {
		if n == msg {
			return
		}
	}
	l.notes = append(l.notes, msg)
}

// word reads up to unquoted whitespace (or, inside ${...:-default}, up to the
// closing brace, where whitespace is part of the word).
func (l *wordLexer) word(depth int) (string, error) {
	inDefault := depth > 0
	var b strings.Builder
	for l.i < len(l.s) {
		c := l.s[l.i]
		switch {
		case (c == ' ' || c == '\t') && !inDefault:
			return b.String(), nil
		case c == '}' && inDefault:
			return b.String(), nil
		case c == '\'':
			end := strings.IndexByte(l.s[l.i+1:], '\'')
			if end < 0 {
				return "", errors.New("unterminated single quote")
			}
			b.WriteString(l.s[l.i+1 : l.i+1+end])
			l.i += end + 2
		case c == '"':
			l.i++
			if err := l.doubleQuoted(&b, depth); err != nil {
				return "", err
			}
		case c == '\\':
			if l.i+1 >= len(l.s) {
				return "", errors.New("a trailing backslash (line continuation) is not supported")
			}
			b.WriteByte(l.s[l.i+1])
			l.i += 2
		case c == '$':
			if err := l.dollar(&b, depth, false); err != nil {
				return "", err
			}
		case c == '`':
			return "", errors.New("command substitution is not supported")
		case c == ';':
			l.note("unquoted ';' ends a command in bash; quote the value")
			b.WriteByte(c)
			l.i++
		case strings.IndexByte("&|<>()", c) >= 0:
			return "", fmt.Errorf("unquoted %q; quote the value", c)
		default:
			b.WriteByte(c)
			l.i++
		}
	}
	if inDefault {
		return "", errors.New("unterminated ${")
	}
	return b.String(), nil
}

func (l *wordLexer) doubleQuoted(b *strings.Builder, depth int) error {
	for l.i < len(l.s) {
		c := l.s[l.i]
		switch c {
		case '"':
			l.i++
			return nil
		case '\\':
			if l.i+1 < len(l.s) && strings.IndexByte("$`\"\\", l.s[l.i+1]) >= 0 {
				b.WriteByte(l.s[l.i+1])
				l.i += 2
				continue
			}
			b.WriteByte(c)
			l.i++
		case '$':
			if err := l.dollar(b, depth, true); err != nil {
				return err
			}
		case '`':
			return errors.New("command substitution is not supported")
		default:
			b.WriteByte(c)
			l.i++
		}
	}
	return errors.New("unterminated double quote")
}

// dollar handles a '$' at l.i; inDQ says it is inside double quotes, where
// "cost$" keeps its '$'.
func (l *wordLexer) dollar(b *strings.Builder, depth int, inDQ bool) error {
	rest := l.s[l.i+1:]
	switch {
	case rest == "" || rest[0] == ' ' || rest[0] == '\t' || (inDQ && rest[0] == '"'):
		b.WriteByte('$')
		l.i++
		return nil
	case rest[0] == '(':
		return errors.New("command substitution is not supported")
	case rest[0] == '{':
		return l.braced(b, depth)
	case isNameStart(rest[0]):
		n := 1
		for n < len(rest) && isNameChar(rest[n]) {
			n++
		}
		b.WriteString(l.get(rest[:n]))
		l.i += 1 + n
		return nil
	case strings.IndexByte("0123456789@*#?$!-'\"", rest[0]) >= 0:
		return fmt.Errorf("unsupported expansion $%c", rest[0])
	}
	b.WriteByte('$')
	l.i++
	return nil
}

func (l *wordLexer) get(name string) string {
	v, ok := l.lookup(name)
	if !ok {
		l.note("${%s} is not set earlier in this file; using an empty value", name)
	}
	return v
}

// braced handles ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:=default}
// and ${NAME=default}.
func (l *wordLexer) braced(b *strings.Builder, depth int) error {
	if depth >= maxExpansionDepth {
		return errors.New("${...} nested too deeply")
	}
	start := l.i + 2
	j := start
	for j < len(l.s) && isNameChar(l.s[j]) {
		j++
	}
	name := l.s[start:j]
	if name == "" || !isNameStart(name[0]) {
		return errors.New("unsupported expansion: want ${NAME} or ${NAME:-default}")
	}
	if j >= len(l.s) {
		return errors.New("unterminated ${")
	}
	if l.s[j] == '}' {
		b.WriteString(l.get(name))
		l.i = j + 1
		return nil
	}
	op := ""
	for _, o := range []string{":-", ":=", "-", "="} {
		if strings.HasPrefix(l.s[j:], o) {
			op = o
			break
		}
	}
	if op == "" {
		return fmt.Errorf("unsupported expansion ${%s%c...}: want ${NAME} or ${NAME:-default}", name, l.s[j])
	}
	l.i = j + len(op)
	def, err := l.word(depth + 1)
	if err != nil {
		return err
	}
	if l.i >= len(l.s) || l.s[l.i] != '}' {
		return errors.New("unterminated ${")
	}
	l.i++
	v, ok := l.lookup(name)
	useDefault := !ok || (v == "" && op[0] == ':')
	if useDefault {
		v = def
	}
	b.WriteString(v)
	return nil
}
