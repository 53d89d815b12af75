package guest

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type testBundle struct {
	g *Guest
}

func setup(t *testing.T) testBundle {
	t.Helper()
	g := New(Config{VMID: 101, Hostname: "web", OSTemplate: "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"})
	g.SetRunning(true)
	return testBundle{g: g}
}

func (b testBundle) run(t *testing.T, script string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := b.g.Exec(context.Background(), []string{"bash", "-c", script}, nil, &out, &errb)
	return out.String(), errb.String(), code
}

func TestShellSemantics(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, script, out string
		code              int
	}{
		{"quoting", `echo 'a  b' "c $HOME" d\ e 'it'\''s'`, "a  b c /root d e it's\n", 0},
		{"splitting", `X="1  2 3"; for i in $X; do echo "<$i>"; done; for i in "$X"; do echo "<$i>"; done`, "<1>\n<2>\n<3>\n<1  2 3>\n", 0},
		{"defaults", `unset U; echo ${U:-def} ${U-x} ${U:+alt}; V=; echo "[${V:-e}]"; echo ${W:=set} $W`, "def x\n[e]\nset set\n", 0},
		{"trim", `P=/etc/nginx/nginx.conf; echo ${P##*/} ${P%/*} ${P#/etc} ${#P} ${P//n/N}`, "nginx.conf /etc/nginx /nginx/nginx.conf 21 /etc/NgiNx/NgiNx.coNf\n", 0},
		{"arith", `i=2; echo $((i*3+1)) $((10/3)) $((i<3 && 1)); ((i++)); echo $i`, "7 3 1\n3\n", 0},
		{"cmdsubst", `x=$(echo "a b"; echo c); echo "$x"; echo $(echo nested $(echo deep))`, "a b\nc\nnested deep\n", 0},
		{"status", `false; echo $?; true; echo $?; ! false; echo $?`, "1\n0\n0\n", 0},
		{"andor", `false && echo no || echo yes; true || echo no; true && echo yes2`, "yes\nyes2\n", 0},
		{"set -e stops", "set -e\necho one\nfalse\necho two", "one\n", 1},
		{"set -e exempts conditions", "set -e\nif false; then echo x; fi\nfalse || true\n! true\necho ok", "ok\n", 0},
		{"pipefail", "set -o pipefail; false | true; echo $?; set +o pipefail; false | true; echo $?", "1\n0\n", 0},
		{"functions", `f() { local x=$1; echo "f:$x:$#"; return 4; }; x=outer; f in 2; echo $? $x`, "f:in:2\n4 outer\n", 0},
		{"case", `for o in debian ubuntu alpine; do case "$o" in debian|ubuntu) echo deb;; *) echo other;; esac; done`, "deb\ndeb\nother\n", 0},
		{"test", `[ -d /etc ] && [ ! -f /etc ] && [ -z "" ] && [ -n x ] && [ 3 -gt 2 ] && [ a = a ] && [ a != b ] && echo ok`, "ok\n", 0},
		{"dbltest", `[[ -e /etc/os-release && abc == a* && "a*" != "a*x" ]] && [[ v1.2 =~ ^v[0-9] ]] && echo ok`, "ok\n", 0},
		{"while", `i=0; while [ $i -lt 5 ]; do i=$((i+1)); [ $i -eq 2 ] && continue; [ $i -eq 4 ] && break; echo $i; done`, "1\n3\n", 0},
		{"heredoc", "N=x\ncat <<EOF\nv=$N \\$N\nEOF\ncat <<'EOF'\nv=$N\nEOF\ncat <<-EOF\n\tindented\n\tEOF", "v=x $N\nv=$N\nindented\n", 0},
		{"redirects", `echo out > /tmp/f; echo more >> /tmp/f; cat /tmp/f; ls /nope 2>/dev/null; echo err >&2 2>/dev/null; cat < /tmp/f | wc -l`, "out\nmore\n2\n", 0},
		{"stderr to stdout", `ls /nope 2>&1 | grep -c 'No such'`, "1\n", 0},
		{"exit code", "echo a; exit 3; echo b", "a\n", 3},
		{"nested bash", `bash -c 'echo "inner $0 $1"; exit 5' name arg; echo $?`, "inner name arg\n5\n", 0},
		{"source", "printf 'greet() { echo hi $1; }\\n' > /tmp/lib.sh; . /tmp/lib.sh; greet you", "hi you\n", 0},
		{"printf", `printf '%s=%d\n' a 1 b 2; printf '%-4s|\n' x; printf '%q\n' "it's"`, "a=1\nb=2\nx   |\n'it'\\''s'\n", 0},
		{"sed and grep", "printf 'listen 80;\\nroot /var;\\n' > /tmp/c; sed -i 's/listen [0-9]*;/listen 8080;/' /tmp/c; grep -n 8080 /tmp/c", "1:listen 8080;\n", 0},
		{"glob", "mkdir -p /tmp/g; touch /tmp/g/a.conf /tmp/g/b.conf /tmp/g/c.txt; for f in /tmp/g/*.conf; do echo $f; done; echo /tmp/g/*.none", "/tmp/g/a.conf\n/tmp/g/b.conf\n/tmp/g/*.none\n", 0},
		{"unknown command", "nosuchcmd", "", 127},
		{"syntax error", "if then", "", 2},
		{"unsupported brace", "echo {a,b}", "", 2},
		{"unsupported background", "sleep 1 &", "", 2},
		{"unsupported array", "a=(1 2)", "", 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			out, errOut, code := b.run(t, tc.script)
			require.Equal(t, tc.code, code, "stderr: %s", errOut)
			require.Equal(t, tc.out, out)
		})
	}
}

func TestUnsupportedIsLoud(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, sc := range []string{"echo {1..3}", "cat <(echo x)", "awk '{print $1}' /etc/passwd", "trap 'echo x' EXIT", "echo $'x'"} {
		_, errOut, code := b.run(t, sc)
		require.Equal(t, 2, code, sc)
		require.Contains(t, errOut, "lxcbot-sim: unsupported: ", sc)
	}
	_, errOut, code := b.run(t, "nosuch --flag")
	require.Equal(t, 127, code)
	require.Equal(t, "bash: nosuch: command not found\n", errOut)
}

func TestPackagesUnitsAndPorts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, errOut, code := b.run(t, "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nginx postgresql")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, b.g.InstalledPackages("apt"), "nginx")

	out, _, code := b.run(t, "systemctl list-units --type=service --state=running --no-legend --plain")
	require.Equal(t, 0, code)
	require.Regexp(t, `(?m)^nginx\.service\s+loaded\s+active\s+running\s+A high performance`, out)
	require.Regexp(t, `(?m)^ssh\.service\s+loaded active running`, out)

	out, _, _ = b.run(t, "ss -tlnpH")
	require.Regexp(t, `(?m)^LISTEN\s+\d+\s+\d+\s+0\.0\.0\.0:80\s+0\.0\.0\.0:\*\s+users:\(\("nginx",pid=\d+`, out)
	require.Regexp(t, `(?m)^LISTEN.*\[::\]:80\s`, out)
	require.Regexp(t, `(?m)^LISTEN.*127\.0\.0\.1:5432\s`, out)

	// reconfiguring postgres and restarting moves its socket
	_, errOut, code = b.run(t, `sed -i "s/#listen_addresses = 'localhost'/listen_addresses = '*'/" /etc/postgresql/15/main/postgresql.conf && systemctl restart postgresql`)
	require.Equal(t, 0, code, errOut)
	out, _, _ = b.run(t, "ss -tlnH")
	require.Regexp(t, `(?m)0\.0\.0\.0:5432\s`, out)

	out, _, code = b.run(t, "journalctl -u nginx -n 5 --no-pager")
	require.Equal(t, 0, code)
	require.Len(t, strings.Split(strings.TrimSpace(out), "\n"), 5)
	require.Contains(t, out, "Started A high performance web server")

	out, _, _ = b.run(t, "systemctl show nginx -p ActiveState -p SubState; systemctl is-active nginx; dpkg -s nginx | grep Status")
	require.Equal(t, "ActiveState=active\nSubState=running\nactive\nStatus: install ok installed\n", out)

	_, errOut, code = b.run(t, "apt-get install nope'")
	require.Equal(t, 2, code, errOut)
	_, errOut, code = b.run(t, "apt-get install -y 'Bad Name'")
	require.Equal(t, 100, code)
	require.Contains(t, errOut, "Unable to locate package Bad Name")
	_, _, code = b.run(t, "apt-get install redis-server")
	require.Equal(t, 1, code, "install without -y aborts without a terminal")
}
