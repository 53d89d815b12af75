package catalog

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
)

func TestParsePackagesValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		manager provision.Manager
		text    string
		want    []provision.Package
	}{
		{"apt with comments", provision.ManagerApt, "# base\ncurl\n\n  htop   # top, but nicer\nca-certificates\n",
			[]provision.Package{{Name: "curl"}, {Name: "htop"}, {Name: "ca-certificates"}}},
		{"apt pins", provision.ManagerApt, "nginx=1.22*\nlibc6:amd64\nnodejs/bookworm-backports\npostgresql-15=15.6-0+deb12u1\ng++\n",
			[]provision.Package{{Name: "nginx=1.22*"}, {Name: "libc6:amd64"}, {Name: "nodejs/bookworm-backports"}, {Name: "postgresql-15=15.6-0+deb12u1"}, {Name: "g++"}}},
		{"pip pins", provision.ManagerPip, "requests==2.31\nuvicorn[standard]>=0.20,<1\nDjango~=4.2\nnumpy\n",
			[]provision.Package{{Name: "requests==2.31"}, {Name: "uvicorn[standard]>=0.20,<1"}, {Name: "Django~=4.2"}, {Name: "numpy"}}},
		{"npm", provision.ManagerNpm, "express@4\n@angular/cli@^17.0.0\npm2\ntypescript@latest # tsc\n",
			[]provision.Package{{Name: "express@4"}, {Name: "@angular/cli@^17.0.0"}, {Name: "pm2"}, {Name: "typescript@latest"}}},
		{"custom", provision.ManagerCustom,
			"code-server|command -v code-server|curl -fsSL https://code-server.dev/install.sh | sh\n" +
				"rustup|test -x /root/.cargo/bin/rustup|curl -sSf https://sh.rustup.rs | sh -s -- -y|900\n" +
				"docker | command -v docker | sh /tmp/get-docker.sh   # spaced separators\n" +
				"tool|test -f /opt/x || false|echo '# not a comment' > /opt/x\n",
			[]provision.Package{
				{Name: "code-server", Check: "command -v code-server", Install: "curl -fsSL https://code-server.dev/install.sh | sh", TimeoutSec: 300},
				{Name: "rustup", Check: "test -x /root/.cargo/bin/rustup", Install: "curl -sSf https://sh.rustup.rs | sh -s -- -y", TimeoutSec: 900},
				{Name: "docker", Check: "command -v docker", Install: "sh /tmp/get-docker.sh", TimeoutSec: 300},
				{Name: "tool", Check: "test -f /opt/x || false", Install: "echo '# not a comment' > /opt/x", TimeoutSec: 300},
			}},
		{"empty", provision.ManagerApt, "# nothing yet\n\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParsePackages(tt.manager, strings.NewReader(tt.text))
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// Package names reach a root shell: the pipeline quotes them, and a name a
// manager would not accept is refused here with the line it is on.
func TestParsePackagesInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		manager provision.Manager
		text    string
		want    string
	}{
		{"apt semicolon", provision.ManagerApt, "curl\nnginx;rm -rf /", `line 2: one package per line`},
		{"apt semicolon no space", provision.ManagerApt, "nginx;reboot", `line 1: invalid apt package name "nginx;reboot": apt names use`},
		{"apt substitution", provision.ManagerApt, "$(reboot)", `invalid apt package name "$(reboot)"`},
		{"apt backtick", provision.ManagerApt, "`id`", "invalid apt package name"},
		{"apt uppercase", provision.ManagerApt, "Nginx", "invalid apt package name"},
		{"apt two per line", provision.ManagerApt, "curl htop", `line 1: one package per line: "curl htop" contains whitespace`},
		{"apt glued comment", provision.ManagerApt, "curl#x", "invalid apt package name"},
		{"apt option", provision.ManagerApt, "-y", "invalid apt package name"},
		{"apt control", provision.ManagerApt, "curl\x1b[0m", "line 1: control character"},
		{"pip marker", provision.ManagerPip, `requests;python_version<"3.8"`, "invalid pip package name"},
		{"pip url", provision.ManagerPip, "pkg@https://x/y.whl", "invalid pip package name"},
		{"pip redirect", provision.ManagerPip, "x>/etc/passwd", "invalid pip package name"},
		{"npm ampersand", provision.ManagerNpm, "express&&reboot", "invalid npm package name"},
		{"npm git", provision.ManagerNpm, "github:user/repo", "invalid npm package name"},
		{"duplicate", provision.ManagerApt, "curl\nhtop\ncurl", "line 3: curl is listed twice (first on line 1)"},
		{"custom too few", provision.ManagerCustom, "x|command -v x", `line 1: custom package "x|command -v x": want name|check command|install command`},
		{"custom bad timeout", provision.ManagerCustom, "x|true|true|5m", `line 1: custom package x: invalid timeout "5m"`},
		{"custom zero timeout", provision.ManagerCustom, "x|true|true|0", `invalid timeout "0"`},
		{"custom spaced pipe in command", provision.ManagerCustom, "x | true | curl u | sh", `invalid timeout "sh"`},
		{"custom too many", provision.ManagerCustom, "x|a|b|1|2", "5 '|'-separated fields"},
		{"custom empty check", provision.ManagerCustom, "x||true|", "want name|check command|install command"},
		{"custom empty install", provision.ManagerCustom, "x|true| ", "empty install command"},
		{"custom bad name", provision.ManagerCustom, "my tool|true|true", `invalid custom package name "my tool"`},
		{"custom name metachar", provision.ManagerCustom, "x;y|true|true", "invalid custom package name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParsePackages(tt.manager, strings.NewReader(tt.text))
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
			require.True(t, errors.Is(err, provision.ErrInvalid))
		})
	}
}

func TestParsePackagesUnknownManager(t *testing.T) {
	t.Parallel()
	_, err := ParsePackages("brew", strings.NewReader("wget"))
	require.ErrorContains(t, err, `unknown package manager "brew"`)
}

func TestParseBucketDescriptionAndRoundTrip(t *testing.T) {
	t.Parallel()
	text := "# Tools every container gets.\n#\n# Kept small.\ncurl\n# not description\nhtop\n"
	b, err := ParseBucket("base-tools", provision.ManagerApt, strings.NewReader(text))
	require.NoError(t, err)
	require.Equal(t, &provision.Bucket{Name: "base-tools", Manager: provision.ManagerApt,
		Description: "Tools every container gets.\nKept small.",
		Packages:    []provision.Package{{Name: "curl"}, {Name: "htop"}}}, b)

	for _, m := range []provision.Manager{provision.ManagerApt, provision.ManagerCustom} {
		in := &provision.Bucket{Name: "x", Manager: m, Description: "d", Packages: []provision.Package{{Name: "curl"}}}
		if m == provision.ManagerCustom {
			in.Packages = []provision.Package{
				{Name: "a", Check: "command -v a || test -x /opt/a", Install: "curl -fsSL https://x | sh", TimeoutSec: 300},
				{Name: "b", Check: "true", Install: "echo 'a|b' | tee /x", TimeoutSec: 60},
			}
		}
		out, err := ParseBucket("x", m, strings.NewReader(string(FormatPackages(in.Description, m, in.Packages))))
		require.NoError(t, err)
		require.Equal(t, in, out)
	}
}

func TestParseErrorNamesFileWhenLoaded(t *testing.T) {
	t.Parallel()
	err := inFile(parseErrorf("", 4, "bad"), "container-configs/packages/base.apt")
	require.EqualError(t, err, "container-configs/packages/base.apt:4: bad")
}
