package catalog

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
)

func sampleTemplate() (*provision.Template, []provision.Bucket) {
	t := &provision.Template{
		Name: "web", App: "It's \"Web\"", Description: "Nginx # with $vars", Tags: []string{"web", "nginx"},
		OSTemplate: "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst", Cores: 2, MemoryMiB: 1024, SwapMiB: 0, DiskGiB: 10,
		Storage: "local-lvm", Bridge: "vmbr0", Unprivileged: true, Nesting: true, Keyctl: true, Fuse: false, PackagesStrict: true,
		Scripts: []provision.TemplateScript{
			{Order: 5, Name: "05-first.sh", Body: "echo first\n", Enabled: true},
			{Order: 10, Name: "10-b.sh", Body: "echo b\n", Enabled: false},
			{Order: 10, Name: "10-c.sh", Body: "", Enabled: true},
		},
		Files: []provision.TemplateFile{
			{Name: ".bashrc", TargetDir: "/root", Policy: provision.PolicyBackup, Content: []byte("alias ll='ls -l'\n")},
			{Name: "index.html", TargetDir: "/var/www/html", Policy: provision.PolicyDefault, Content: []byte("<h1>hi</h1>")},
			{Name: "run", TargetDir: "/usr/local/bin", Policy: provision.PolicyReplace, Content: []byte{0, 1, 2, 0xff}, Mode: 0o750},
		},
		Buckets: []string{"base-tools", "web.base", "web.tools"},
		Extra:   map[string]string{"TEMPLATE_HOMEPAGE": "https://example.org"},
	}
	buckets := []provision.Bucket{
		{Name: "web.base", Manager: provision.ManagerApt, Description: "Web server", Packages: []provision.Package{{Name: "nginx=1.22*"}, {Name: "curl"}}},
		{Name: "web.tools", Manager: provision.ManagerCustom, Packages: []provision.Package{
			{Name: "code-server", Check: "command -v code-server", Install: "curl -fsSL https://code-server.dev/install.sh | sh", TimeoutSec: 600}}},
		{Name: "base-tools", Manager: provision.ManagerApt, Packages: []provision.Package{{Name: "htop"}}}, // library: not written
	}
	return t, buckets
}

func TestExportRoundTrip(t *testing.T) {
	t.Parallel()
	tpl, buckets := sampleTemplate()
	root := t.TempDir()
	require.NoError(t, Export(tpl, buckets, root))

	l, err := LoadDir(filepath.Join(root, "web"))
	require.NoError(t, err)
	require.Equal(t, tpl, l.Template)
	require.Equal(t, buckets[:2], l.Buckets)
	require.Equal(t, []string{"template.conf:18: unknown key TEMPLATE_HOMEPAGE is kept but not used"}, warningStrings(l.Warnings))

	info, err := os.Stat(filepath.Join(root, "web", ScriptsDir, "05-first.sh"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o755), info.Mode().Perm(), "scripts are executable")
	_, err = os.Stat(filepath.Join(root, "web", ScriptsDir, "10-b.sh.disabled"))
	require.NoError(t, err, "a disabled script keeps its .disabled suffix")
	_, err = os.Stat(filepath.Join(root, "web", PackagesDir, "base-tools.apt"))
	require.ErrorIs(t, err, os.ErrNotExist, "library buckets are referenced, not copied")

	// Loading and exporting again gives the same template: the format is
	// stable.
	root2 := t.TempDir()
	require.NoError(t, Export(l.Template, l.Buckets, root2))
	l2, err := LoadDir(filepath.Join(root2, "web"))
	require.NoError(t, err)
	require.Equal(t, l, l2)
}

func TestExportReplacesStaleContent(t *testing.T) {
	t.Parallel()
	tpl, buckets := sampleTemplate()
	root := t.TempDir()
	require.NoError(t, Export(tpl, buckets, root))
	tpl.Scripts = tpl.Scripts[:1]
	tpl.Files = nil
	tpl.Buckets = []string{"web.base"}
	require.NoError(t, Export(tpl, buckets, root))
	l, err := LoadDir(filepath.Join(root, "web"))
	require.NoError(t, err)
	require.Len(t, l.Template.Scripts, 1)
	require.Empty(t, l.Template.Files)
	require.Equal(t, []string{"web.base"}, l.Template.Buckets)

	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary directories are left behind")
}

func TestExportRefusesWhatCannotLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*provision.Template)
		want   string
	}{
		{"bad name", func(t *provision.Template) { t.Name = "../x" }, `invalid template name "../x"`},
		{"own bucket without packages", func(t *provision.Template) { t.Buckets = append(t.Buckets, "web.missing") }, "bucket web.missing: its packages were not given"},
		{"unknown bucket", func(t *provision.Template) { t.Buckets = append(t.Buckets, "other.x") }, "bucket other.x is neither"},
		{"script order mismatch", func(t *provision.Template) { t.Scripts[0].Order = 7 }, "script 05-first.sh: order 7 does not match its name"},
		{"script name", func(t *provision.Template) { t.Scripts[0].Name = "first.sh" }, `script "first.sh": name must be NN-name.sh`},
		{"relative target", func(t *provision.Template) { t.Files[0].TargetDir = "root" }, "file .bashrc: target directory"},
		{"file path in name", func(t *provision.Template) { t.Files[0].Name = "a/b" }, `file "a/b": not a plain file name`},
		{"reserved file name", func(t *provision.Template) { t.Files[0].Name = "x.path" }, "reserved"},
		{"bad policy", func(t *provision.Template) { t.Files[0].Policy = "keep" }, `invalid policy "keep"`},
		{"zero cores", func(t *provision.Template) { t.Cores = 0 }, "TEMPLATE_CPU: 0 is out of range"},
		{"newline in description", func(t *provision.Template) { t.Description = "a\nb" }, "control character"},
		{"known key in extra", func(t *provision.Template) { t.Extra = map[string]string{"TEMPLATE_UNPRIVILEGED": "0"} }, "extra key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tpl, buckets := sampleTemplate()
			tt.change(tpl)
			root := t.TempDir()
			err := Export(tpl, buckets, root)
			require.ErrorContains(t, err, tt.want)
			entries, rerr := os.ReadDir(root)
			require.NoError(t, rerr)
			require.Empty(t, entries, "a refused export writes nothing")
		})
	}
}

func TestExportBucketRoundTrip(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	b := &provision.Bucket{Name: "base-tools", Manager: provision.ManagerApt, Description: "Everyday tools\nSecond line",
		Packages: []provision.Package{{Name: "curl"}, {Name: "htop"}}}
	require.NoError(t, ExportBucket(b, root))
	got, err := LoadBucketFile(filepath.Join(root, LibraryDir, "base-tools.apt"))
	require.NoError(t, err)
	require.Equal(t, b, got)

	require.ErrorContains(t, ExportBucket(&provision.Bucket{Name: "web.base", Manager: provision.ManagerApt}, root), "not a library bucket name")
	require.ErrorContains(t, ExportBucket(&provision.Bucket{Name: "x", Manager: "brew"}, root), `unknown manager "brew"`)
}
