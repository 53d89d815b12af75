package guest

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCustomUnitListens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	script := `cat > /etc/systemd/system/app.service <<'UNIT'
[Unit]
Description=My app
[Service]
ExecStart=/opt/app/bin/server --bind-addr 10.0.0.5:5000
UNIT
cat > /etc/systemd/system/web.service <<'UNIT'
[Service]
# lxcbot-sim: listen=0.0.0.0:8080
ExecStart=/usr/bin/python3 -m http.server
UNIT
systemctl daemon-reload && systemctl enable --now app web && ss -tlnH`
	out, errOut, code := b.run(t, script)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "10.0.0.5:5000")
	require.Contains(t, out, "0.0.0.0:8080")
	out, _, _ = b.run(t, "systemctl is-enabled app; systemctl stop web; systemctl is-active web")
	require.Equal(t, "enabled\ninactive\n", out)

	_, errOut, code = b.run(t, "systemctl start missing")
	require.Equal(t, 5, code)
	require.Contains(t, errOut, "Unit missing.service not found.")
}

func TestPipAndNpmNeedTheirPackages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, errOut, code := b.run(t, "pip install flask")
	require.Equal(t, 127, code)
	require.Contains(t, errOut, "pip: command not found")
	_, errOut, code = b.run(t, "apt-get install -y python3-pip npm && pip install 'flask>=2' requests && npm install -g pm2@5 @scope/tool")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, []string{"flask", "requests"}, b.g.InstalledPackages("pip"))
	require.Equal(t, []string{"@scope/tool", "pm2"}, b.g.InstalledPackages("npm"))
}

func TestUsersAndOwnership(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out, errOut, code := b.run(t, `useradd -m -s /bin/bash app && id -u app && su - app -c 'echo hi > ~/f; whoami' && stat -c '%U:%G %a' /home/app/f`)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "1000\napp\napp:app 644\n", out)
	_, errOut, code = b.run(t, "useradd app")
	require.Equal(t, 9, code)
	require.Contains(t, errOut, "already exists")
	out, _, _ = b.run(t, "chown -R app:app /tmp && chmod 0750 /tmp && stat -c '%U %a' /tmp; chmod u+x,o+r /etc/hostname; stat -c %a /etc/hostname")
	require.Equal(t, "app 750\n744\n", out)
}

func TestNetworkAndOS(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.g.SetIP("10.0.0.5/24"))
	out, _, _ := b.run(t, "hostname -I; ip -4 addr show eth0 | grep inet; . /etc/os-release; echo $ID $VERSION_ID")
	require.Equal(t, "10.0.0.5 \n    inet 10.0.0.5/24 brd 10.0.0.255 scope global eth0\ndebian 12\n", out)
	g := New(Config{VMID: 102, OSTemplate: "local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst"})
	id, ver := g.OS()
	require.Equal(t, "ubuntu", id)
	require.Equal(t, "24.04", ver)
}

const helperLibrary = `CONTAINER_OS=debian
CONTAINER_OS_VERSION=12
CONTAINER_USER=app
log_info() { echo "[INFO] $*"; }
log_warn() { echo "[WARN] $*" >&2; }
log_error() { echo "[ERROR] $*" >&2; }
is_installed() { dpkg -s "$1" >/dev/null 2>&1; }
ensure_installed() { is_installed "$1" || DEBIAN_FRONTEND=noninteractive apt-get install -y "$1" >/dev/null; }
run_as_user() { su - "$CONTAINER_USER" -c "$*"; }
wait_for_apt_lock() { local i=0; while [ -e /var/lib/dpkg/lock-frontend.held ] && [ $i -lt 30 ]; do sleep 1; i=$((i+1)); done; }
generate_password() { head -c 32 /dev/urandom | base64 | tr -dc A-Za-z0-9 | head -c 24; }
save_credential() {
  local service="$1" key="$2" value="$3"
  mkdir -p /etc/infrahaus/credentials
  echo "${key}=${value}" >> "/etc/infrahaus/credentials/${service}"
  chmod 600 "/etc/infrahaus/credentials/${service}"
}
`

func TestHelperLibrary(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.g.MkdirAll("/usr/local/lib/lxcbot", 0o755))
	require.NoError(t, b.g.WriteFile("/usr/local/lib/lxcbot/helpers.sh", []byte(helperLibrary), 0o644, ""))
	script := `set -euo pipefail
source /usr/local/lib/lxcbot/helpers.sh
wait_for_apt_lock
ensure_installed nginx
is_installed nginx && log_info "nginx on $CONTAINER_OS $CONTAINER_OS_VERSION"
PASS=$(generate_password)
[ ${#PASS} -eq 24 ] || exit 9
save_credential grafana ADMIN_PASSWORD "$PASS"
save_credential grafana ADMIN_USER admin
useradd -m app
run_as_user 'echo from $(whoami)'
log_warn "done"
`
	out, errOut, code := b.run(t, script)
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out, errOut)
	require.Equal(t, "[INFO] nginx on debian 12\nfrom app\n", out)
	require.Equal(t, "[WARN] done\n", errOut)
	data, err := b.g.ReadFile("/etc/infrahaus/credentials/grafana")
	require.NoError(t, err)
	require.Regexp(t, `^ADMIN_PASSWORD=[A-Za-z0-9]{24}\nADMIN_USER=admin\n$`, string(data))
	fi, err := b.g.Stat("/etc/infrahaus/credentials/grafana")
	require.NoError(t, err)
	require.Equal(t, "-rw-------", modeString(fi))
}

func TestFaultsAndRecords(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.g.FailCommand("apt-get install", 100, "E: Sub-process /usr/bin/dpkg returned an error code (1)")
	_, errOut, code := b.run(t, "apt-get install -y nginx")
	require.Equal(t, 100, code)
	require.Contains(t, errOut, "dpkg returned an error code")
	require.NotContains(t, b.g.InstalledPackages("apt"), "nginx")
	b.g.ClearFaults()
	b.g.FailCommandOnce("systemctl restart", 1, "boom")
	_, _, code = b.run(t, "systemctl restart ssh")
	require.Equal(t, 1, code)
	_, _, code = b.run(t, "systemctl restart ssh")
	require.Equal(t, 0, code)

	evil := "x'; rm -rf / #"
	code = b.g.Exec(context.Background(), []string{"bash", "-c", "echo " + Quote(evil) + " " + Quote("$(reboot)")}, nil, nil, nil)
	require.Equal(t, 0, code)
	recs := b.g.Commands()
	var echoRec *ExecRecord
	for i := range recs {
		if recs[i].Argv[0] == "echo" {
			echoRec = &recs[i]
		}
	}
	require.NotNil(t, echoRec)
	require.Equal(t, []string{"echo", evil, "$(reboot)"}, echoRec.Argv)
	require.True(t, recs[len(recs)-1].Top)
	require.True(t, b.g.Exists("/usr/bin/cat"), "the filesystem was not wiped")
}

func TestSleepHonoursContext(t *testing.T) {
	t.Parallel()
	g := New(Config{VMID: 103, Options: Options{SleepScale: 1}})
	g.SetRunning(true)
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan struct{})
	done := make(chan int)
	go func() {
		done <- g.Exec(ctx, []string{"sh", "-c", "echo start; sleep 3600; echo never"}, nil, &notifyWriter{ch: first}, nil)
	}()
	<-first // the first line arrived while the sleep is still running
	cancel()
	require.Equal(t, 143, <-done)
}

// notifyWriter closes ch on its first write.
type notifyWriter struct {
	ch   chan struct{}
	seen bool
}

func (w *notifyWriter) Write(p []byte) (int, error) {
	if !w.seen {
		w.seen = true
		close(w.ch)
	}
	return len(p), nil
}

func TestStoppedGuestRefusesExec(t *testing.T) {
	t.Parallel()
	g := New(Config{VMID: 104})
	var errb bytes.Buffer
	require.Equal(t, 255, g.Exec(context.Background(), []string{"true"}, nil, nil, &errb))
	require.Contains(t, errb.String(), "not running")
}

func TestRunawayScriptsAreBounded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, errOut, code := b.run(t, "while true; do :; done")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "lxcbot-sim: unsupported: more than")
	_, errOut, code = b.run(t, "f() { f; }; f")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "nested more than 100")
}

func TestParseCommandLine(t *testing.T) {
	t.Parallel()
	items, err := ParseCommandLine(`pct exec 101 --keep-env 0 -- bash -c 'echo '\''hi'\''' && cat > /tmp/x 2>&1; rm -f /tmp/x`)
	require.NoError(t, err)
	require.Len(t, items, 3)
	require.Equal(t, []string{"pct", "exec", "101", "--keep-env", "0", "--", "bash", "-c", "echo 'hi'"}, items[0].Argv)
	require.Equal(t, "&&", items[1].Op)
	require.Equal(t, []Redirect{{Fd: 1, Path: "/tmp/x", DupTo: -1}, {Fd: 2, DupTo: 1}}, items[1].Redirects)
	require.Equal(t, ";", items[2].Op)
	_, err = ParseCommandLine("echo $HOME")
	var ue *UnsupportedError
	require.ErrorAs(t, err, &ue)
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`echo 'a'\''b' "c $X ${Y:-d}" $(e f) $((1+2))`,
		"cat <<'EOF'\nx\nEOF\n",
		`if [ -f x ]; then for i in a b; do echo $i; done; elif true; then :; else false; fi`,
		`f() { local a=${1#x}; case $a in a|b) echo;; esac; }; f | grep -q x && exit 3 || true`,
		"[[ a == b* && -n \"$x\" ]]; while read -r l; do echo \"$l\"; done < /etc/passwd",
		"`echo hi` ${#X} ${X//a/b} ${X:1:2} $@ \"$@\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		sc, err := Parse(src)
		if err == nil && sc == nil {
			t.Fatal("nil script without error")
		}
		_, _ = ParseCommandLine(src)
	})
}

func FuzzQuoteRoundTrip(f *testing.F) {
	for _, s := range []string{"", "x'; rm -rf / #", "$(reboot)", "a\nb", `\"'`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		items, err := ParseCommandLine("echo " + Quote(s))
		if err != nil {
			t.Fatalf("quoted %q does not parse: %v", s, err)
		}
		if len(items) != 1 || len(items[0].Argv) != 2 || items[0].Argv[1] != s {
			t.Fatalf("quoted %q came back as %#v", s, items)
		}
	})
}
