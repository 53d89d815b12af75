package ssh

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// quoteSeeds are words that break naive quoting; they seed FuzzQuote and are
// checked against a real sh.
var quoteSeeds = []string{
	"", "a", "a b", "'", "''", "it's", `"`, `$HOME`, "`id`", "$(id)", "a\nb", "\t", " ",
	"*", "?", "~root", "a=b", "FOO=bar", "--", "-n", `\`, `\\'`, "!", "#x", ";rm -rf /",
	"a|b", "a&b", "<x>", "ünïcode", "\x01\x7f", "{a,b}", "[a]", "%s", `a'b"c\d`, "'\\''",
}

func TestQuote(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"":          "''",
		"plain":     "plain",
		"/etc/motd": "/etc/motd",
		"a b":       "'a b'",
		"it's":      `'it'\''s'`,
		"$HOME":     "'$HOME'",
		"a=b":       "'a=b'",
		"~":         "'~'",
	}
	for in, want := range cases {
		require.Equal(t, want, Quote(in), "Quote(%q)", in)
	}
	require.Equal(t, `bash -c 'echo '\''hi'\'''`, QuoteArgs([]string{"bash", "-c", "echo 'hi'"}))
}

// TestQuoteThroughShell hands quoted words to a real POSIX shell, once and
// through two shells as RunScript does, and checks every word arrives intact.
func TestQuoteThroughShell(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	require.NoError(t, err, "a POSIX sh is needed")

	printWords := "printf '%s\\0' " + QuoteArgs(quoteSeeds)
	for name, script := range map[string]string{
		"one shell":  printWords,
		"two shells": "sh -c " + Quote(printWords),
	} {
		out, err := exec.Command(sh, "-c", script).Output()
		require.NoError(t, err, name)
		got := strings.Split(string(out), "\x00")
		require.Equal(t, append(append([]string(nil), quoteSeeds...), ""), got, name)
	}
}

func FuzzQuote(f *testing.F) {
	for _, s := range quoteSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, 0) {
			return // a shell word cannot hold NUL
		}
		words, err := splitWords(Quote(s))
		if err != nil {
			t.Fatalf("Quote(%q) = %q does not parse: %v", s, Quote(s), err)
		}
		if len(words) != 1 || words[0] != s {
			t.Fatalf("Quote(%q) = %q parses as %q", s, Quote(s), words)
		}
		words, err = splitWords(QuoteArgs([]string{s, "x", s}))
		if err != nil || len(words) != 3 || words[0] != s || words[2] != s {
			t.Fatalf("QuoteArgs with %q parses as %q (%v)", s, words, err)
		}
	})
}

func TestSplitWords(t *testing.T) {
	t.Parallel()
	words, err := splitWords(`pct exec 104 -- 'a b' c\ d "e \"f\"" ''`)
	require.NoError(t, err)
	require.Equal(t, []string{"pct", "exec", "104", "--", "a b", "c d", `e "f"`, ""}, words)
	_, err = splitWords(`'open`)
	require.Error(t, err)
	_, err = splitWords(`a;b`)
	require.Error(t, err)
}

var errUnquotedSpecial = errors.New("unquoted special character")

// splitWords splits a command line the way a POSIX shell does for words made
// of plain characters, backslash escapes, single and double quotes. It refuses
// anything a shell would expand or interpret (unquoted $, `, ;, |, globs ...),
// because Quote must never leave such characters exposed.
func splitWords(s string) ([]string, error) {
	var (
		words  []string
		cur    strings.Builder
		inWord bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				switch {
				case s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0:
					i++
					if s[i] != '\n' {
						cur.WriteByte(s[i])
					}
				case s[i] == '$' || s[i] == '`':
					return nil, errUnquotedSpecial
				default:
					cur.WriteByte(s[i])
				}
			}
			if i >= len(s) {
				return nil, errors.New("unterminated double quote")
			}
			inWord = true
		case c == '\\':
			if i+1 >= len(s) {
				return nil, errors.New("trailing backslash")
			}
			i++
			if s[i] != '\n' {
				cur.WriteByte(s[i])
			}
			inWord = true
		case strings.IndexByte("$`;|&<>()*?[]{}#~=!", c) >= 0:
			// '=' and '!' are harmless in argument position but not at the
			// start of a command; Quote never leaves them bare.
			return nil, errUnquotedSpecial
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
