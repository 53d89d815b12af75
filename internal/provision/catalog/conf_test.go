package catalog

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
)

func parseConf(t *testing.T, text string) (Conf, []Warning) {
	t.Helper()
	c, w, err := ParseTemplateConf(strings.NewReader(text))
	require.NoError(t, err)
	return c, w
}

func TestParseTemplateConfDefaults(t *testing.T) {
	t.Parallel()
	c, w := parseConf(t, "")
	require.Empty(t, w)
	require.Equal(t, DefaultConf(), c)
	require.Equal(t, "debian-12-standard", c.OSTemplate)
	require.Equal(t, 1, c.Cores)
	require.Equal(t, 512, c.MemoryMiB)
	require.Equal(t, 512, c.SwapMiB)
	require.Equal(t, 8, c.DiskGiB)
	require.True(t, c.Unprivileged)
	require.False(t, c.Nesting || c.Keyctl || c.Fuse || c.PackagesStrict)
}

func TestParseTemplateConfFull(t *testing.T) {
	t.Parallel()
	c, w := parseConf(t, `# Postgres database
TEMPLATE_APP="PostgreSQL"
TEMPLATE_DESCRIPTION='Relational database # with a hash'
export TEMPLATE_TAGS="db; postgres ;;sql"
TEMPLATE_CPU=2
TEMPLATE_RAM=${TEMPLATE_RAM:-2048}
TEMPLATE_SWAP=1024
TEMPLATE_DISK="20"   # GiB
TEMPLATE_OS=ubuntu
TEMPLATE_VERSION=22.04
TEMPLATE_STORAGE=local-lvm
TEMPLATE_BRIDGE=vmbr1
TEMPLATE_UNPRIVILEGED=yes
TEMPLATE_NESTING=true
TEMPLATE_KEYCTL=1
TEMPLATE_FUSE=on
TEMPLATE_PACKAGES_STRICT=1
TEMPLATE_BUCKETS="base-tools;monitoring"
`)
	require.Empty(t, w)
	require.Equal(t, Conf{
		App:            "PostgreSQL",
		Description:    "Relational database # with a hash",
		Tags:           []string{"db", "postgres", "sql"},
		OSTemplate:     "ubuntu-22.04-standard",
		Cores:          2,
		MemoryMiB:      2048,
		SwapMiB:        1024,
		DiskGiB:        20,
		Storage:        "local-lvm",
		Bridge:         "vmbr1",
		Unprivileged:   true,
		Nesting:        true,
		Keyctl:         true,
		Fuse:           true,
		PackagesStrict: true,
		Buckets:        []string{"base-tools", "monitoring"},
	}, c)
}

// The dashboard this replaces ignored inline comments and read
// "1 # keep" as not-1, creating privileged containers by accident.
func TestParseTemplateConfInlineComments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want func(Conf) bool
	}{
		{"unprivileged with comment", "TEMPLATE_UNPRIVILEGED=1 # keep", func(c Conf) bool { return c.Unprivileged }},
		{"unprivileged with tab comment", "TEMPLATE_UNPRIVILEGED=1\t#keep", func(c Conf) bool { return c.Unprivileged }},
		{"quoted with comment", `TEMPLATE_UNPRIVILEGED="1" # 0 would be privileged`, func(c Conf) bool { return c.Unprivileged }},
		{"privileged explicitly", "TEMPLATE_UNPRIVILEGED=0 # needs raw devices", func(c Conf) bool { return !c.Unprivileged }},
		{"keyctl with comment", "TEMPLATE_KEYCTL=1 # docker", func(c Conf) bool { return c.Keyctl }},
		{"fuse with comment", "TEMPLATE_FUSE=yes # sshfs", func(c Conf) bool { return c.Fuse }},
		{"nesting with comment", "  TEMPLATE_NESTING=1   # indented", func(c Conf) bool { return c.Nesting }},
		{"cpu with comment", "TEMPLATE_CPU=4 # cores", func(c Conf) bool { return c.Cores == 4 }},
		{"hash inside double quotes", `TEMPLATE_APP="C# runner"`, func(c Conf) bool { return c.App == "C# runner" }},
		{"hash inside single quotes", `TEMPLATE_APP='a # b'`, func(c Conf) bool { return c.App == "a # b" }},
		{"hash inside a word", `TEMPLATE_APP=C#`, func(c Conf) bool { return c.App == "C#" }},
		{"hash right after =", `TEMPLATE_APP=#x`, func(c Conf) bool { return c.App == "#x" }},
		{"comment-only lines", "# TEMPLATE_UNPRIVILEGED=0\n   # TEMPLATE_CPU=9\n\n", func(c Conf) bool { return c.Unprivileged && c.Cores == 1 }},
		{"windows line endings", "TEMPLATE_CPU=3\r\nTEMPLATE_UNPRIVILEGED=1 # x\r\n", func(c Conf) bool { return c.Cores == 3 && c.Unprivileged }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, w := parseConf(t, tt.text)
			require.Empty(t, w)
			require.True(t, tt.want(c), "%+v", c)
		})
	}
}

func TestParseTemplateConfValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, line, want string
		warns            int
	}{
		{"bare", "TEMPLATE_APP=nginx", "nginx", 0},
		{"double quoted", `TEMPLATE_APP="Nginx Web"`, "Nginx Web", 0},
		{"single quoted", `TEMPLATE_APP='Nginx $HOME "x"'`, `Nginx $HOME "x"`, 0},
		{"concatenated", `TEMPLATE_APP=a'b c'"d"`, "ab cd", 0},
		{"escaped quote in single", `TEMPLATE_APP='it'\''s'`, "it's", 0},
		{"escapes in double", `TEMPLATE_APP="a \"b\" \$c \\ \n"`, `a "b" $c \ \n`, 0},
		{"backslash space", `TEMPLATE_APP=a\ b`, "a b", 0},
		{"default", "TEMPLATE_APP=${APP:-Nginx}", "Nginx", 0},
		{"default with space", "TEMPLATE_APP=${APP:-Nginx web}", "Nginx web", 0},
		{"default quoted", `TEMPLATE_APP="${APP:-"Nginx web"}"`, "Nginx web", 0},
		{"default without colon", "TEMPLATE_APP=${APP-x}", "x", 0},
		{"assign default", "TEMPLATE_APP=${APP:=x}", "x", 0},
		{"empty default", "TEMPLATE_APP=${APP:-}", "", 0},
		{"nested default", "TEMPLATE_APP=${A:-${B:-deep}}", "deep", 0},
		{"unset braced", "TEMPLATE_APP=${APP}", "", 1},
		{"unset bare", "TEMPLATE_APP=$APP", "", 1},
		{"earlier key", "NAME=web\nTEMPLATE_APP=${NAME}-1", "web-1", 1}, // NAME itself is unknown
		{"earlier key default", "NAME=web\nTEMPLATE_APP=${NAME:-other}", "web", 1},
		{"empty earlier key default", "NAME=\nTEMPLATE_APP=${NAME:-other}", "other", 1},
		{"empty earlier key dash", "NAME=\nTEMPLATE_APP=${NAME-other}", "", 1},
		{"dollar at end", `TEMPLATE_APP=cost$`, "cost$", 0},
		{"dollar before quote in double", `TEMPLATE_APP="cost$"`, "cost$", 0},
		{"dollar before slash", `TEMPLATE_APP=a$/b`, "a$/b", 0},
		{"export", "export TEMPLATE_APP=x", "x", 0},
		{"export tab", "export\tTEMPLATE_APP=x", "x", 0},
		{"empty", "TEMPLATE_APP=", "", 0},
		{"empty quotes", `TEMPLATE_APP=""`, "", 0},
		{"unicode", `TEMPLATE_APP="Café ☕"`, "Café ☕", 0},
		{"unquoted semicolon", "TEMPLATE_APP=a;b", "a;b", 1},
		{"bom", "\uFEFFTEMPLATE_APP=x", "x", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, w := parseConf(t, tt.line)
			require.Equal(t, tt.want, c.App)
			require.Len(t, w, tt.warns, "%v", w)
		})
	}
}

func TestParseTemplateConfErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text, want string
	}{
		{"invalid cpu", "# c\nTEMPLATE_CPU=two", `template.conf:2: TEMPLATE_CPU: invalid number "two"`},
		{"cpu zero", "TEMPLATE_CPU=0", "template.conf:1: TEMPLATE_CPU: 0 is out of range"},
		{"negative swap", "TEMPLATE_SWAP=-1", "template.conf:1: TEMPLATE_SWAP: -1 is out of range"},
		{"ram float", "TEMPLATE_RAM=1.5", `template.conf:1: TEMPLATE_RAM: invalid number "1.5"`},
		{"disk huge", "TEMPLATE_DISK=99999999999999999999", `template.conf:1: TEMPLATE_DISK: invalid number`},
		{"comment glued to value", "TEMPLATE_UNPRIVILEGED=1#keep", `template.conf:1: TEMPLATE_UNPRIVILEGED: invalid boolean "1#keep"`},
		{"bad bool", "\n\nTEMPLATE_FUSE=maybe", `template.conf:3: TEMPLATE_FUSE: invalid boolean "maybe"`},
		{"unquoted space", "TEMPLATE_DESCRIPTION=Nginx web server", "template.conf:1: TEMPLATE_DESCRIPTION: unquoted whitespace in the value; quote the value"},
		{"spaces around =", "TEMPLATE_CPU = 2", "template.conf:1: TEMPLATE_CPU: spaces around '=' are not allowed"},
		{"no =", "TEMPLATE_CPU", "template.conf:1: malformed line: TEMPLATE_CPU without '='"},
		{"not an assignment", "echo hi", "template.conf:1: malformed line"},
		{"command substitution", "TEMPLATE_APP=$(hostname)", "template.conf:1: TEMPLATE_APP: command substitution is not supported"},
		{"backticks", "TEMPLATE_APP=\"`id`\"", "template.conf:1: TEMPLATE_APP: command substitution is not supported"},
		{"pipe", "TEMPLATE_APP=a|b", `template.conf:1: TEMPLATE_APP: unquoted '|'`},
		{"unterminated double", `TEMPLATE_APP="abc`, "template.conf:1: TEMPLATE_APP: unterminated double quote"},
		{"unterminated single", `TEMPLATE_APP='abc`, "template.conf:1: TEMPLATE_APP: unterminated single quote"},
		{"unterminated brace", `TEMPLATE_APP=${A:-x`, "template.conf:1: TEMPLATE_APP: unterminated ${"},
		{"unsupported expansion", `TEMPLATE_APP=${A:+x}`, "template.conf:1: TEMPLATE_APP: unsupported expansion"},
		{"positional", `TEMPLATE_APP=$1`, "template.conf:1: TEMPLATE_APP: unsupported expansion $1"},
		{"continuation", `TEMPLATE_APP=a\`, "template.conf:1: TEMPLATE_APP: a trailing backslash"},
		{"control char", "TEMPLATE_APP=a\x01", "template.conf:1: control character"},
		{"invalid utf8", "TEMPLATE_APP=\xff", "template.conf:1: not valid UTF-8"},
		{"bad os", "TEMPLATE_OS=deb ian", "unquoted whitespace"},
		{"bad os chars", "TEMPLATE_OS='deb/ian'", `template.conf:1: TEMPLATE_OS: invalid OS name "deb/ian"`},
		{"bad version", "TEMPLATE_VERSION=12-1", `template.conf:1: TEMPLATE_VERSION: invalid OS version "12-1"`},
		{"bad ostemplate", "TEMPLATE_OSTEMPLATE='local:iso/x.iso'", "template.conf:1: TEMPLATE_OSTEMPLATE: invalid OS template"},
		{"bad storage", "TEMPLATE_STORAGE='a b'", "template.conf:1: TEMPLATE_STORAGE: invalid storage name"},
		{"bad bucket", "TEMPLATE_BUCKETS='web.apt'", `template.conf:1: TEMPLATE_BUCKETS: invalid bucket name "web.apt"`},
		{"too deep", "TEMPLATE_APP=" + strings.Repeat("${A:-", 20) + "x" + strings.Repeat("}", 20), "nested too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := ParseTemplateConf(strings.NewReader(tt.text))
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
			require.True(t, errors.Is(err, provision.ErrInvalid))
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, ConfFile, pe.File)
		})
	}
}

func TestParseTemplateConfWarnings(t *testing.T) {
	t.Parallel()
	c, w := parseConf(t, `TEMPLATE_APP=web
TEMPLATE_HOMEPAGE="https://example.org" # unknown
TEMPLATE_CPU=2
TEMPLATE_CPU=3
TEMPLATE_UNPRIVILEGED=
export FOO
TEMPLATE_OSTEMPLATE=local:vztmpl/alpine-3.19-default_20240207_amd64.tar.xz
TEMPLATE_OS=debian
`)
	require.Equal(t, map[string]string{"TEMPLATE_HOMEPAGE": "https://example.org"}, c.Extra)
	require.Equal(t, 3, c.Cores)
	require.True(t, c.Unprivileged, "an empty value means the default, never false")
	require.Equal(t, "local:vztmpl/alpine-3.19-default_20240207_amd64.tar.xz", c.OSTemplate)
	var got []string
	for _, x := range w {
		got = append(got, x.String())
	}
	require.ElementsMatch(t, []string{
		"template.conf:2: unknown key TEMPLATE_HOMEPAGE is kept but not used",
		"template.conf:4: TEMPLATE_CPU is set again (first on line 3); the last value wins",
		"template.conf:5: TEMPLATE_UNPRIVILEGED is empty; using the default",
		"template.conf:6: export FOO without a value is ignored",
		"template.conf:8: TEMPLATE_OS is ignored because TEMPLATE_OSTEMPLATE is set",
	}, got)
}

func TestParseTemplateConfBooleans(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"1", "yes", "YES", "true", "True", "on", `"1"`, "'yes'"} {
		c, _ := parseConf(t, "TEMPLATE_NESTING="+v)
		require.True(t, c.Nesting, v)
	}
	for _, v := range []string{"0", "no", "false", "FALSE", "off"} {
		c, _ := parseConf(t, "TEMPLATE_UNPRIVILEGED="+v)
		require.False(t, c.Unprivileged, v)
	}
}

func TestFormatTemplateConfRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []Conf{
		DefaultConf(),
		{
			App: "It's \"quoted\" $HOME `x`", Description: "a # b; c\\d", Tags: []string{"web", "a b"},
			OSTemplate: "local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst", Cores: 4, MemoryMiB: 4096,
			SwapMiB: 0, DiskGiB: 32, Storage: "local-zfs", Bridge: "vmbr0", Unprivileged: false,
			Nesting: true, Keyctl: true, Fuse: true, PackagesStrict: true, Buckets: []string{"base-tools"},
			Extra: map[string]string{"MY_KEY": "  spaced  ", "OTHER": "${not expanded}"},
		},
		{OSTemplate: "ubuntu-22.04-standard", Cores: 1, MemoryMiB: 16, DiskGiB: 1},
	}
	for _, want := range tests {
		got, _, err := ParseTemplateConf(strings.NewReader(string(FormatTemplateConf(want))))
		require.NoError(t, err, "%s", FormatTemplateConf(want))
		require.Equal(t, want, got)
	}
}
