package catalog

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// writeTree writes files (slash paths relative to root) and returns root.
func writeTree(t *testing.T, root string, files map[string]string) string {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return root
}

// templateDir writes one template named name under a fresh templates dir.
func templateDir(t *testing.T, name string, files map[string]string) string {
	t.Helper()
	prefixed := map[string]string{}
	for k, v := range files {
		prefixed[name+"/"+k] = v
	}
	return filepath.Join(writeTree(t, t.TempDir(), prefixed), name)
}

func warningStrings(ws []Warning) []string {
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		out = append(out, w.String())
	}
	return out
}

func TestLoadDirFull(t *testing.T) {
	t.Parallel()
	dir := templateDir(t, "web", map[string]string{
		"template.conf":                      "TEMPLATE_APP=Web\nTEMPLATE_KEYCTL=1 # for docker\nTEMPLATE_FUSE=1\nTEMPLATE_BUCKETS=base-tools\n",
		ScriptsDir + "/10-install.sh":        "echo install\n",
		ScriptsDir + "/9-early.sh":           "echo early\n",
		ScriptsDir + "/010-also-ten.sh":      "echo ten\n",
		ScriptsDir + "/100-late.sh.disabled": "echo late\n",
		ScriptsDir + "/README.md":            "notes",
		ScriptsDir + "/.gitkeep":             "",
		FilesDir + "/index.html":             "<h1>hi</h1>\n",
		FilesDir + "/index.html.path":        "  /var/www/html/ \n",
		FilesDir + "/index.html.policy":      "default\n",
		FilesDir + "/app.conf":               "listen 80;\n",
		FilesDir + "/app.conf.path":          "/etc/nginx/conf.d",
		FilesDir + "/app.conf.policy":        "Replace",
		FilesDir + "/run.sh":                 "#!/bin/sh\n",
		FilesDir + "/run.sh.path":            "/usr/local/bin",
		FilesDir + "/run.sh.policy":          "backup",
		FilesDir + "/run.sh.mode":            "0755\n",
		PackagesDir + "/base.apt":            "# Base\ncurl\nnginx=1.22* # pinned\n",
		PackagesDir + "/frontend.npm":        "express@4\n",
		PackagesDir + "/tools.custom":        "code-server|command -v code-server|curl -fsSL https://code-server.dev/install.sh | sh\n",
		PackagesDir + "/py.pip":              "requests==2.31\n",
		PackagesDir + "/notes.txt":           "ignored",
	})
	l, err := LoadDir(dir)
	require.NoError(t, err)
	tpl := l.Template
	require.Equal(t, "web", tpl.Name)
	require.Equal(t, "Web", tpl.App)
	require.True(t, tpl.Unprivileged)
	require.True(t, tpl.Keyctl, "keyctl must be applied")
	require.True(t, tpl.Fuse, "fuse must be applied")

	require.Equal(t, []provision.TemplateScript{
		{Order: 9, Name: "9-early.sh", Body: "echo early\n", Enabled: true},
		{Order: 10, Name: "010-also-ten.sh", Body: "echo ten\n", Enabled: true},
		{Order: 10, Name: "10-install.sh", Body: "echo install\n", Enabled: true},
		{Order: 100, Name: "100-late.sh", Body: "echo late\n", Enabled: false},
	}, tpl.Scripts)

	require.Equal(t, []provision.TemplateFile{
		{Name: "app.conf", TargetDir: "/etc/nginx/conf.d", Policy: provision.PolicyReplace, Content: []byte("listen 80;\n")},
		{Name: "index.html", TargetDir: "/var/www/html", Policy: provision.PolicyDefault, Content: []byte("<h1>hi</h1>\n")},
		{Name: "run.sh", TargetDir: "/usr/local/bin", Policy: provision.PolicyBackup, Content: []byte("#!/bin/sh\n"), Mode: 0o755},
	}, tpl.Files)

	require.Equal(t, []string{"base-tools", "web.base", "web.frontend", "web.py", "web.tools"}, tpl.Buckets)
	require.Equal(t, []provision.Bucket{
		{Name: "web.base", Manager: provision.ManagerApt, Description: "Base", Packages: []provision.Package{{Name: "curl"}, {Name: "nginx=1.22*"}}},
		{Name: "web.frontend", Manager: provision.ManagerNpm, Packages: []provision.Package{{Name: "express@4"}}},
		{Name: "web.py", Manager: provision.ManagerPip, Packages: []provision.Package{{Name: "requests==2.31"}}},
		{Name: "web.tools", Manager: provision.ManagerCustom, Packages: []provision.Package{{Name: "code-server",
			Check: "command -v code-server", Install: "curl -fsSL https://code-server.dev/install.sh | sh", TimeoutSec: 300}}},
	}, l.Buckets)

	require.ElementsMatch(t, []string{
		ScriptsDir + "/README.md: not a script (want NN-name.sh or NN-name.sh.disabled); ignored",
		PackagesDir + "/notes.txt: not a package file (want <bucket>.apt, .npm, .pip or .custom); ignored",
	}, warningStrings(l.Warnings))
}

func TestLoadDirMinimal(t *testing.T) {
	t.Parallel()
	l, err := LoadDir(templateDir(t, "bare", map[string]string{"template.conf": ""}))
	require.NoError(t, err)
	require.Empty(t, l.Warnings)
	require.Equal(t, "debian-12-standard", l.Template.OSTemplate)
	require.Empty(t, l.Template.Scripts)
	require.Empty(t, l.Template.Files)
	require.Empty(t, l.Buckets)
}

func TestLoadDirErrors(t *testing.T) {
	t.Parallel()
	conf := map[string]string{"template.conf": "TEMPLATE_APP=x\n"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range conf {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"no template.conf", map[string]string{ScriptsDir + "/10-a.sh": ""}, "reading template.conf"},
		{"bad conf", map[string]string{"template.conf": "\nTEMPLATE_RAM=lots\n"}, `template.conf:2: TEMPLATE_RAM: invalid number "lots"`},
		{"relative path", with(map[string]string{FilesDir + "/a": "x", FilesDir + "/a.path": "etc/a"}),
			FilesDir + `/a.path: "etc/a" is not absolute`},
		{"dotdot path", with(map[string]string{FilesDir + "/a": "x", FilesDir + "/a.path": "/etc/../root"}),
			FilesDir + `/a.path: "/etc/../root" contains '..'`},
		{"empty path", with(map[string]string{FilesDir + "/a": "x", FilesDir + "/a.path": "\n"}), FilesDir + "/a.path: empty"},
		{"two line path", with(map[string]string{FilesDir + "/a": "x", FilesDir + "/a.path": "/etc\n/opt\n"}), FilesDir + "/a.path: more than one line"},
		{"missing path", with(map[string]string{FilesDir + "/a": "x"}), FilesDir + "/a.path: missing"},
		{"bad policy", with(map[string]string{FilesDir + "/a": "x", FilesDir + "/a.path": "/etc", FilesDir + "/a.policy": "overwrite"}),
			FilesDir + `/a.policy: invalid policy "overwrite" (want replace, default or backup)`},
		{"bad mode", with(map[string]string{FilesDir + "/a": "x", FilesDir + "/a.path": "/etc", FilesDir + "/a.mode": "rwx"}),
			FilesDir + `/a.mode: invalid mode "rwx"`},
		{"mode too big", with(map[string]string{FilesDir + "/a": "x", FilesDir + "/a.path": "/etc", FilesDir + "/a.mode": "17777"}), "invalid mode"},
		{"zero mode", with(map[string]string{FilesDir + "/a": "x", FilesDir + "/a.path": "/etc", FilesDir + "/a.mode": "0"}), "mode 0"},
		{"orphan sidecar", with(map[string]string{FilesDir + "/a.path": "/etc"}), FilesDir + "/a.path: there is no file a"},
		{"bad package", with(map[string]string{PackagesDir + "/base.apt": "curl\nnginx;reboot\n"}),
			PackagesDir + `/base.apt:2: invalid apt package name "nginx;reboot"`},
		{"bucket on two managers", with(map[string]string{PackagesDir + "/base.apt": "curl\n", PackagesDir + "/base.pip": "requests\n"}),
			PackagesDir + "/base.pip: bucket x.base is also " + PackagesDir + "/base.apt"},
		{"bad bucket name", with(map[string]string{PackagesDir + "/my.base.apt": "curl\n"}), `invalid bucket name "my.base"`},
		{"enabled and disabled", with(map[string]string{ScriptsDir + "/10-a.sh": "", ScriptsDir + "/10-a.sh.disabled": ""}),
			"script 10-a.sh is also"},
		{"binary script", with(map[string]string{ScriptsDir + "/10-a.sh": "\x00\x01"}), ScriptsDir + "/10-a.sh: not a text file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadDir(templateDir(t, "x", tt.files))
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
			require.True(t, strings.HasPrefix(err.Error(), "loading template x: "), err.Error())
		})
	}
}

func TestLoadDirPathIsADirectory(t *testing.T) {
	t.Parallel()
	// The dashboard read .path as the file's full path. Here it is the
	// directory; a path ending in the file's own name is almost certainly
	// the old reading, so it is accepted with a warning that says where the
	// file will land.
	l, err := LoadDir(templateDir(t, "x", map[string]string{
		"template.conf":                  "",
		FilesDir + "/nginx.conf":         "x",
		FilesDir + "/nginx.conf.path":    "/etc/nginx/nginx.conf\n",
		FilesDir + "/nginx.conf.policy":  "replace",
		FilesDir + "/site.conf":          "y",
		FilesDir + "/site.conf.path":     "/etc/nginx/sites-enabled",
		FilesDir + "/site.conf.policy":   "backup",
		FilesDir + "/.gitkeep":           "",
		FilesDir + "/subdir/ignored.txt": "z",
	}))
	require.NoError(t, err)
	require.Equal(t, "/etc/nginx/nginx.conf", l.Template.Files[0].TargetDir)
	require.Equal(t, "/etc/nginx/sites-enabled", l.Template.Files[1].TargetDir)
	require.Equal(t, []string{
		FilesDir + "/nginx.conf.path: holds the target directory, so the file is written to /etc/nginx/nginx.conf/nginx.conf",
		FilesDir + "/subdir: directories are not managed files; ignored",
	}, warningStrings(l.Warnings))
}

func TestLoadDirInvalidName(t *testing.T) {
	t.Parallel()
	_, err := LoadDir(templateDir(t, "-bad", map[string]string{"template.conf": ""}))
	require.ErrorContains(t, err, `invalid template name "-bad"`)
}

func TestLoadBucketFile(t *testing.T) {
	t.Parallel()
	root := writeTree(t, t.TempDir(), map[string]string{
		"base-tools.apt": "# Everyday tools\ncurl\nhtop\n",
		"bad.apt":        "curl\n`reboot`\n",
		"notes.txt":      "x",
		"a.b.apt":        "curl",
	})
	b, err := LoadBucketFile(filepath.Join(root, "base-tools.apt"))
	require.NoError(t, err)
	require.Equal(t, &provision.Bucket{Name: "base-tools", Manager: provision.ManagerApt, Description: "Everyday tools",
		Packages: []provision.Package{{Name: "curl"}, {Name: "htop"}}}, b)

	_, err = LoadBucketFile(filepath.Join(root, "bad.apt"))
	require.ErrorContains(t, err, "bad.apt:2: invalid apt package name")
	require.True(t, errors.Is(err, provision.ErrInvalid))
	_, err = LoadBucketFile(filepath.Join(root, "notes.txt"))
	require.ErrorContains(t, err, "notes.txt: not a package file")
	_, err = LoadBucketFile(filepath.Join(root, "a.b.apt"))
	require.ErrorContains(t, err, `invalid bucket name "a.b"`)
	_, err = LoadBucketFile(filepath.Join(root, "missing.apt"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestLoadLibrary(t *testing.T) {
	t.Parallel()
	root := writeTree(t, t.TempDir(), map[string]string{
		LibraryDir + "/base-tools.apt": "curl\n",
		LibraryDir + "/web.npm":        "express@4\n",
		LibraryDir + "/web.pip":        "flask\n",
		LibraryDir + "/broken.apt":     "bad name\n",
		LibraryDir + "/README":         "x",
	})
	buckets, warns, err := LoadLibrary(root)
	require.Error(t, err)
	require.Contains(t, err.Error(), LibraryDir+"/broken.apt:1: one package per line")
	require.Contains(t, err.Error(), LibraryDir+"/web.pip: bucket web is also "+LibraryDir+"/web.npm")
	names := []string{}
	for _, b := range buckets {
		names = append(names, b.Name)
	}
	require.Equal(t, []string{"base-tools", "web"}, names)
	require.Equal(t, []string{LibraryDir + "/README: not a package file (want <bucket>.apt, .npm, .pip or .custom); ignored"}, warningStrings(warns))

	empty, warns, err := LoadLibrary(t.TempDir())
	require.NoError(t, err)
	require.Empty(t, empty)
	require.Empty(t, warns)
}
