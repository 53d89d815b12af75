package ssh

import "strings"

// Quote returns s as one word for a POSIX shell. Words made only of
// characters no shell treats specially are returned as they are; everything
// else is wrapped in single quotes; an embedded quote closes the quoting,
// is written as a backslash-escaped quote, and reopens it.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	if isShellSafe(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// QuoteArgs quotes every element of argv and joins them with spaces.
func QuoteArgs(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(Quote(a))
	}
	return b.String()
}

// isShellSafe reports whether s needs no quoting. '=' and '~' are left out on
// purpose: a leading NAME= turns a word into an assignment and a leading ~
// expands.
func isShellSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '_', c == '-', c == '.', c == '/', c == ',', c == ':', c == '@', c == '%', c == '+':
		default:
			return false
		}
	}
	return true
}
