package provision_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
)

func TestParseSystemctlUnits(t *testing.T) {
	t.Parallel()
	out := `nginx.service            loaded active running A high performance web server
● postgresql@15-main.service loaded active running PostgreSQL Cluster 15-main
ssh.service              loaded active running OpenBSD Secure Shell server
console-getty.service    loaded active running Console Getty
cron.timer               loaded active waiting Daily
garbage
`
	units := provision.ParseSystemctlUnits(out)
	require.Equal(t, []provision.UnitStatus{
		{Unit: "nginx.service", Load: "loaded", Active: "active", Sub: "running"},
		{Unit: "postgresql@15-main.service", Load: "loaded", Active: "active", Sub: "running"},
		{Unit: "ssh.service", Load: "loaded", Active: "active", Sub: "running"},
		{Unit: "console-getty.service", Load: "loaded", Active: "active", Sub: "running"},
	}, units)
}

func TestParseSS(t *testing.T) {
	t.Parallel()
	out := `LISTEN 0      511          0.0.0.0:80        0.0.0.0:*    users:(("nginx",pid=12,fd=6),("nginx",pid=13,fd=6))
LISTEN 0      244         10.0.0.5:5432      0.0.0.0:*    users:(("postgres",pid=88,fd=7))
LISTEN 0      511        127.0.0.1:6379      0.0.0.0:*    users:(("redis-server",pid=99,fd=6))
LISTEN 0      511             [::]:80           [::]:*    users:(("nginx",pid=12,fd=7))
LISTEN 0      128                *:22              *:*    users:(("sshd",pid=1,fd=3))
LISTEN 0      128    10.0.0.5%eth0:53        0.0.0.0:*
LISTEN 0      128            bogus        0.0.0.0:*
`
	ls := provision.ParseSS(out)
	require.Len(t, ls, 6)
	require.Equal(t, provision.Listener{Addr: "0.0.0.0", Port: 80, Processes: []provision.ListenerProcess{{"nginx", 12}, {"nginx", 13}}}, ls[0])
	require.Equal(t, "10.0.0.5", ls[1].Addr)
	require.Equal(t, 5432, ls[1].Port)
	require.True(t, ls[2].Loopback())
	require.False(t, ls[1].Loopback())
	require.Equal(t, "::", ls[3].Addr)
	require.Equal(t, "*", ls[4].Addr)
	require.Equal(t, 22, ls[4].Port)
	require.Equal(t, "10.0.0.5", ls[5].Addr)
	require.Empty(t, ls[5].Processes)
}

func TestParseCredentialFile(t *testing.T) {
	t.Parallel()
	got := provision.ParseCredentialFile(`# saved by save_credential
DB_USER=app
DB_PASSWORD="s3cr et#x"
export TOKEN='abc'

EMPTY=
DB_USER=app2
bad line
`)
	require.Equal(t, []provision.CredentialPair{
		{Key: "DB_USER", Value: "app2"},
		{Key: "DB_PASSWORD", Value: "s3cr et#x"},
		{Key: "TOKEN", Value: "abc"},
		{Key: "EMPTY", Value: ""},
	}, got)
}

func TestUnitKind(t *testing.T) {
	t.Parallel()
	for unit, kind := range map[string]provision.ServiceKind{
		"nginx.service":                  provision.ServiceApplication,
		"postgresql@15-main.service":     provision.ServiceApplication,
		"code-server@root.service":       provision.ServiceApplication,
		"ssh.service":                    provision.ServiceSystem,
		"cron.service":                   provision.ServiceSystem,
		"systemd-journald.service":       provision.ServiceSystem,
		"dbus.service":                   provision.ServiceSystem,
		"rsyslog.service":                provision.ServiceSystem,
		"postfix.service":                provision.ServiceSystem,
		"getty@tty1.service":             provision.ServiceSystem,
		"container-getty@1.service":      provision.ServiceSystem,
		"console-getty.service":          provision.ServiceSystem,
		"systemd-networkd.service":       provision.ServiceSystem,
		"user@0.service":                 provision.ServiceSystem,
		"unattended-upgrades.service":    provision.ServiceSystem,
		"my-app-systemd-thing.service":   provision.ServiceApplication,
		"redis-server.service":           provision.ServiceApplication,
		"systemd-timesyncd.service":      provision.ServiceSystem,
		"networkd-dispatcher.service":    provision.ServiceSystem,
		"ifupdown-pre.service":           provision.ServiceSystem,
		"serial-getty@ttyS0.service":     provision.ServiceSystem,
		"user-runtime-dir@0.service":     provision.ServiceSystem,
		"dbus-org.freedesktop.hostname1": provision.ServiceSystem,
		"apparmor.service":               provision.ServiceSystem,
	} {
		require.Equal(t, kind, provision.UnitKind(unit), unit)
	}
}

func TestMaskerInterceptsAndMasks(t *testing.T) {
	t.Parallel()
	m := provision.NewMasker()
	require.False(t, m.Intercept("hello"))
	require.True(t, m.Intercept("##lxcbot-secret aHVudGVyMg=="))             // hunter2, generated
	require.True(t, m.Intercept("##lxcbot-secret aHVudGVyMjI= DB_PASSWORD")) // hunter22
	require.True(t, m.Intercept("##lxcbot-secret NTQzMg== DB_PORT"))         // 5432: not hidden
	require.True(t, m.Intercept("##lxcbot-secret YXBw DB_USER"))             // app: not hidden
	require.Equal(t, "pw=••••••, again ••••••, app on 5432", m.Mask("pw=hunter22, again hunter2, app on 5432"))
	m.Add("x") // too short to mask
	require.Equal(t, "x", m.Mask("x"))
}

func FuzzParseSS(f *testing.F) {
	f.Add(`LISTEN 0 511 0.0.0.0:80 0.0.0.0:* users:(("nginx",pid=12,fd=6))`)
	f.Add(`LISTEN 0 128 [::]:22 [::]:* users:(("sshd",pid=1,fd=3))`)
	f.Add("LISTEN 0 1 *:x *:*\n:::::\n[]:1")
	f.Fuzz(func(t *testing.T, s string) {
		for _, l := range provision.ParseSS(s) {
			if l.Port <= 0 || l.Port > 65535 || l.Addr == "" {
				t.Fatalf("bad listener %+v from %q", l, s)
			}
		}
	})
}

func FuzzParseSystemctlUnits(f *testing.F) {
	f.Add("nginx.service loaded active running Web\n")
	f.Add("● a.service loaded failed failed x\n.service a b c")
	f.Fuzz(func(t *testing.T, s string) {
		for _, u := range provision.ParseSystemctlUnits(s) {
			if u.Unit == ".service" || u.Active == "" {
				t.Fatalf("bad unit %+v from %q", u, s)
			}
		}
	})
}

func FuzzParseCredentialFile(f *testing.F) {
	f.Add("A=1\n# c\nB=\"two\"\nexport C='3'\n")
	f.Add("=\n'\"=\"\nK=\"")
	f.Fuzz(func(t *testing.T, s string) {
		seen := map[string]bool{}
		for _, p := range provision.ParseCredentialFile(s) {
			if p.Key == "" || seen[p.Key] {
				t.Fatalf("bad or repeated key %q from %q", p.Key, s)
			}
			seen[p.Key] = true
		}
	})
}
