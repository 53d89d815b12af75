package guest_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	templates "github.com/lxcbot/lxcbot/examples/templates"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/provision/catalog"
	"github.com/lxcbot/lxcbot/internal/pvesim/guest"
)

// exampleRun is one example template applied to a fresh guest the way the
// provisioning pipeline applies it: packages (apt, then custom), managed
// files, then the helper library and every enabled script.
type exampleRun struct {
	g      *guest.Guest
	stdout map[string]string // per script
	stderr map[string]string
	custom map[string]string // output of each custom package's install command
}

func libraryBuckets(t *testing.T) map[string]provision.Bucket {
	t.Helper()
	out := map[string]provision.Bucket{}
	entries, err := fs.ReadDir(templates.FS, catalog.LibraryDir)
	require.NoError(t, err)
	for _, e := range entries {
		name, ext, ok := strings.Cut(e.Name(), ".")
		if !ok {
			continue
		}
		m, ok := catalog.ParseManager(ext)
		if !ok {
			continue
		}
		data, err := fs.ReadFile(templates.FS, catalog.LibraryDir+"/"+e.Name())
		require.NoError(t, err)
		b, err := catalog.ParseBucket(name, m, bytes.NewReader(data))
		require.NoError(t, err)
		out[name] = *b
	}
	return out
}

func runExample(t *testing.T, name, user string) exampleRun {
	t.Helper()
	ctx := context.Background()
	sub, err := fs.Sub(templates.FS, name)
	require.NoError(t, err)
	l, err := catalog.LoadFS(sub, name)
	require.NoError(t, err)
	buckets := libraryBuckets(t)
	for _, b := range l.Buckets {
		buckets[b.Name] = b
	}

	g := guest.New(guest.Config{VMID: 120, Hostname: name, OSTemplate: "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"})
	g.SetRunning(true)
	require.NoError(t, g.SetIP("10.0.0.20/24"))
	exec := func(argv ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := g.Exec(ctx, argv, nil, &out, &errb)
		return out.String(), errb.String(), code
	}
	if user != "root" {
		_, errOut, code := exec("useradd", "-m", "-s", "/bin/bash", user)
		require.Equal(t, 0, code, errOut)
	}

	by := map[provision.Manager][]provision.Package{}
	for _, bn := range l.Template.Buckets {
		b, ok := buckets[bn]
		require.True(t, ok, "bucket %s", bn)
		by[b.Manager] = append(by[b.Manager], b.Packages...)
	}
	if pkgs := by[provision.ManagerApt]; len(pkgs) > 0 {
		argv := []string{"env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "--"}
		for _, p := range pkgs {
			argv = append(argv, p.Name)
		}
		_, errOut, code := exec("apt-get", "update")
		require.Equal(t, 0, code, errOut)
		_, errOut, code = exec(argv...)
		require.Equal(t, 0, code, errOut)
	}
	r := exampleRun{g: g, stdout: map[string]string{}, stderr: map[string]string{}, custom: map[string]string{}}
	for _, p := range by[provision.ManagerCustom] {
		if _, _, code := exec("bash", "-c", p.Check); code == 0 {
			continue
		}
		out, errOut, code := exec("bash", "-c", p.Install)
		require.Equal(t, 0, code, "installing %s:\n%s\n%s", p.Name, out, errOut)
		r.custom[p.Name] = out + errOut
		_, errOut, code = exec("bash", "-c", p.Check)
		require.Equal(t, 0, code, "%s is not installed after its install command: %s", p.Name, errOut)
	}
	for _, f := range l.Template.Files {
		require.NoError(t, g.MkdirAll(f.TargetDir, 0o755))
		mode := fs.FileMode(f.Mode)
		if mode == 0 {
			mode = 0o644
		}
		require.NoError(t, g.WriteFile(path.Join(f.TargetDir, f.Name), f.Content, mode, "root"))
	}

	require.NoError(t, g.MkdirAll(provision.ScriptDir, 0o755))
	require.NoError(t, g.WriteFile(provision.HelperLibraryPath, []byte(provision.HelperLibrary), 0o644, "root"))
	for _, sc := range l.Template.Scripts {
		if !sc.Enabled {
			continue
		}
		dest := provision.ScriptDir + "/" + sc.Name
		require.NoError(t, g.WriteFile(dest, []byte(sc.Body), 0o700, "root"))
		cmd := fmt.Sprintf("export CONTAINER_OS=debian CONTAINER_OS_VERSION=12 CONTAINER_USER=%s; set -e; source %s; source %s",
			guest.Quote(user), provision.HelperLibraryPath, dest)
		out, errOut, code := exec("bash", "-c", cmd)
		require.Equal(t, 0, code, "%s/%s:\nstdout:\n%s\nstderr:\n%s", name, sc.Name, out, errOut)
		r.stdout[sc.Name], r.stderr[sc.Name] = out, errOut
	}
	return r
}

// credentials parses a credentials file written by save_credential.
func (r exampleRun) credentials(t *testing.T, service string) map[string]string {
	t.Helper()
	fi, err := r.g.Stat(provision.CredentialsDir + "/" + service)
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o600), fi.Mode.Perm())
	data, err := r.g.ReadFile(provision.CredentialsDir + "/" + service)
	require.NoError(t, err)
	out := map[string]string{}
	for _, ln := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		k, v, ok := strings.Cut(ln, "=")
		require.True(t, ok, ln)
		out[k] = v
	}
	return out
}

// rerun runs one of the template's scripts again; it returns its output.
func (r exampleRun) rerun(t *testing.T, script string) string {
	t.Helper()
	cmd := fmt.Sprintf("export CONTAINER_OS=debian CONTAINER_OS_VERSION=12 CONTAINER_USER=root; set -e; source %s; source %s",
		provision.HelperLibraryPath, provision.ScriptDir+"/"+script)
	var out bytes.Buffer
	code := r.g.Exec(context.Background(), []string{"bash", "-c", cmd}, nil, &out, &out)
	require.Equal(t, 0, code, out.String())
	return out.String()
}

func (r exampleRun) sh(t *testing.T, script string) string {
	t.Helper()
	var out, errb bytes.Buffer
	code := r.g.Exec(context.Background(), []string{"bash", "-c", script}, nil, &out, &errb)
	require.Equal(t, 0, code, "%s: %s", script, errb.String())
	return out.String()
}

func TestExampleNginxWeb(t *testing.T) {
	t.Parallel()
	r := runExample(t, "nginx-web", "root")
	require.Contains(t, r.stdout["10-enable-nginx.sh"], "nginx is serving /var/www/html on port 80")
	require.Equal(t, "active\nenabled\n", r.sh(t, "systemctl is-active nginx; systemctl is-enabled nginx"))
	ss := r.sh(t, "ss -tlnpH")
	require.Contains(t, ss, "0.0.0.0:80 ")
	require.Contains(t, ss, `users:(("nginx"`)
	page := r.sh(t, "curl -fsS http://localhost/")
	require.Contains(t, page, "nginx-web")
}

func TestExamplePostgresDB(t *testing.T) {
	t.Parallel()
	r := runExample(t, "postgres-db", "root")
	require.Equal(t, "active\nenabled\n", r.sh(t, "systemctl is-active postgresql; systemctl is-enabled postgresql"))
	ss := r.sh(t, "ss -tlnH")
	require.Contains(t, ss, "0.0.0.0:5432 ")
	require.Contains(t, ss, "[::]:5432 ")

	creds := r.credentials(t, "postgres")
	require.Equal(t, "app", creds["POSTGRES_USER"])
	require.Equal(t, "app", creds["POSTGRES_DB"])
	require.Equal(t, "5432", creds["POSTGRES_PORT"])
	require.Regexp(t, `^[A-Za-z0-9]{32}$`, creds["POSTGRES_PASSWORD"])

	// The SQL created the role with the saved password and the database.
	var app *guest.PostgresRole
	for _, role := range r.g.PostgresRoles() {
		if role.Name == "app" {
			app = &role
		}
	}
	require.NotNil(t, app, "%+v", r.g.PostgresRoles())
	require.True(t, app.Login)
	require.False(t, app.Superuser)
	require.True(t, r.g.PostgresPasswordMatches("app", creds["POSTGRES_PASSWORD"]))
	require.Contains(t, r.g.PostgresDatabases(), guest.PostgresDatabase{Name: "app", Owner: "app", Extensions: []string{"plpgsql"}})
	require.NotContains(t, r.stdout["10-create-database.sh"]+r.stderr["10-create-database.sh"], "ERROR")

	conf := r.sh(t, "cat /etc/postgresql/15/main/postgresql.conf")
	require.Contains(t, conf, "listen_addresses = '*'")
	hba := r.sh(t, "cat /etc/postgresql/15/main/pg_hba.conf")
	require.Contains(t, hba, "host    all    all    samenet    scram-sha-256")

	// The saved password logs in over TCP.
	out := r.sh(t, "PGPASSWORD="+guest.Quote(creds["POSTGRES_PASSWORD"])+" psql -h localhost -U app -d app -tAc 'SELECT current_user'")
	require.Equal(t, "app\n", out)

	// Running the scripts again keeps the database and changes the password.
	before := creds["POSTGRES_PASSWORD"]
	r2 := r.rerun(t, "10-create-database.sh")
	require.NotContains(t, r2, "ERROR")
	after := r.credentials(t, "postgres")["POSTGRES_PASSWORD"]
	require.NotEqual(t, before, after)
	require.True(t, r.g.PostgresPasswordMatches("app", after))
	require.Len(t, r.g.PostgresDatabases(), 4)
}

func TestExampleCodeServer(t *testing.T) {
	t.Parallel()
	for _, user := range []string{"root", "dev"} {
		t.Run(user, func(t *testing.T) {
			t.Parallel()
			r := runExample(t, "code-server", user)
			home := "/root"
			if user != "root" {
				home = "/home/" + user
			}
			require.Contains(t, r.stdout["10-configure-code-server.sh"], "code-server is listening on port 8080 as "+user)
			// The installer installed the release .deb as on Debian.
			inst := r.custom["code-server"]
			require.Contains(t, inst, "Installing v4.96.4 of the amd64 deb package from GitHub.")
			require.Contains(t, inst, "+ curl -#fL -o ~/.cache/code-server/code-server_4.96.4_amd64.deb.incomplete -C - "+
				"https://github.com/coder/code-server/releases/download/v4.96.4/code-server_4.96.4_amd64.deb")
			require.Contains(t, inst, "Setting up code-server (4.96.4) ...")
			require.Contains(t, inst, "deb package has been installed.")
			require.Contains(t, r.g.InstalledPackages("apt"), "code-server")
			require.True(t, r.g.Exists("/usr/lib/systemd/system/code-server@.service"))
			require.True(t, r.g.Exists("/root/.cache/code-server/code-server_4.96.4_amd64.deb"))
			require.Contains(t, r.sh(t, "code-server --version"), "4.96.4")

			require.Equal(t, "active\nenabled\n", r.sh(t, "systemctl is-active code-server; systemctl is-enabled code-server"))
			ss := r.sh(t, "ss -tlnpH")
			require.Contains(t, ss, "0.0.0.0:8080 ")
			require.Contains(t, ss, `users:(("code-server"`)
			require.Contains(t, r.sh(t, "systemctl show -p User --value code-server"), user)

			creds := r.credentials(t, "code-server")
			require.Regexp(t, `^[A-Za-z0-9]{24}$`, creds["PASSWORD"])
			cfg := r.sh(t, "cat "+home+"/.config/code-server/config.yaml")
			require.Contains(t, cfg, "password: "+creds["PASSWORD"]+"\n")
			fi, err := r.g.Stat(home + "/.config/code-server/config.yaml")
			require.NoError(t, err)
			require.Equal(t, user, fi.Owner)
			require.Equal(t, fs.FileMode(0o600), fi.Mode)
		})
	}
}
