package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
)

func testTemplate(name string, buckets ...string) *provision.Template {
	return &provision.Template{
		Name: name, App: "Web Server", Description: "nginx with PHP", Tags: []string{"Web", "php"},
		OSTemplate: "debian-12-standard", Cores: 2, MemoryMiB: 1024, SwapMiB: 512, DiskGiB: 8,
		Storage: "local-lvm", Bridge: "vmbr0", Unprivileged: true, Keyctl: true, Fuse: true, PackagesStrict: true,
		Scripts: []provision.TemplateScript{
			{Order: 20, Name: "20-config.sh", Body: "echo config", Enabled: true},
			{Order: 10, Name: "10-install.sh", Body: "echo install", Enabled: true},
			{Order: 30, Name: "30-extra.sh", Body: "echo extra", Enabled: false},
		},
		Files: []provision.TemplateFile{
			{Name: "nginx.conf", TargetDir: "/etc/nginx", Policy: provision.PolicyReplace, Content: []byte("server {}\n"), Mode: 0o644},
			{Name: "app.env", TargetDir: "/opt/app", Content: []byte{0, 1, 2}},
		},
		Buckets: buckets,
		Extra:   map[string]string{"TEMPLATE_FOO": "bar"},
	}
}

func TestBuckets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := setup(t)

	_, err := db.GetBucket(ctx, "web")
	require.ErrorIs(t, err, provision.ErrNotFound)

	b := &provision.Bucket{Name: "web", Manager: provision.ManagerApt, Description: "web stack",
		Packages: []provision.Package{{Name: "nginx"}, {Name: "php8.2-fpm"}}}
	require.NoError(t, db.UpsertBucket(ctx, b))
	custom := &provision.Bucket{Name: "tools", Manager: provision.ManagerCustom,
		Packages: []provision.Package{{Name: "bun", Check: "command -v bun", Install: "curl | sh", TimeoutSec: 600}}}
	require.NoError(t, db.UpsertBucket(ctx, custom))

	got, err := db.GetBucket(ctx, "tools")
	require.NoError(t, err)
	require.Equal(t, custom.Packages, got.Packages)

	b2 := &provision.Bucket{Name: "web", Manager: provision.ManagerApt, Packages: []provision.Package{{Name: "caddy"}}}
	require.NoError(t, db.UpsertBucket(ctx, b2))
	require.Equal(t, b.ID, b2.ID)
	got, err = db.GetBucket(ctx, "web")
	require.NoError(t, err)
	require.Equal(t, []provision.Package{{Name: "caddy"}}, got.Packages)

	all, err := db.ListBuckets(ctx, "")
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.Equal(t, "tools", all[0].Name)
	apt, err := db.ListBuckets(ctx, provision.ManagerApt)
	require.NoError(t, err)
	require.Len(t, apt, 1)

	require.ErrorIs(t, db.UpsertBucket(ctx, &provision.Bucket{Name: "x", Manager: "brew"}), provision.ErrInvalid)

	// A bucket in use cannot be deleted; once unused it can.
	require.NoError(t, db.UpsertTemplate(ctx, testTemplate("lamp", "web")))
	require.ErrorIs(t, db.DeleteBucket(ctx, "web"), provision.ErrConflict)
	require.NoError(t, db.DeleteTemplate(ctx, "lamp"))
	require.NoError(t, db.DeleteBucket(ctx, "web"))
	require.ErrorIs(t, db.DeleteBucket(ctx, "web"), provision.ErrNotFound)
}

func TestTemplates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("UpsertReplacesChildren", func(t *testing.T) {
		t.Parallel()
		db, _ := setup(t)
		for _, name := range []string{"web", "db"} {
			require.NoError(t, db.UpsertBucket(ctx, &provision.Bucket{Name: name, Manager: provision.ManagerApt}))
		}
		tpl := testTemplate("lamp", "web", "db", "web")
		require.NoError(t, db.UpsertTemplate(ctx, tpl))
		require.NotZero(t, tpl.ID)

		got, err := db.GetTemplate(ctx, "lamp")
		require.NoError(t, err)
		require.Equal(t, []string{"10-install.sh", "20-config.sh", "30-extra.sh"},
			[]string{got.Scripts[0].Name, got.Scripts[1].Name, got.Scripts[2].Name}, "scripts in ascending order")
		require.False(t, got.Scripts[2].Enabled)
		require.Equal(t, []string{"web", "db"}, got.Buckets, "bucket order kept, duplicates dropped")
		require.Len(t, got.Files, 2)
		require.Equal(t, provision.PolicyDefault, got.Files[0].Policy, "a missing policy means default")
		require.Equal(t, []byte{0, 1, 2}, got.Files[0].Content)
		require.Equal(t, uint32(0o644), got.Files[1].Mode)
		require.Equal(t, map[string]string{"TEMPLATE_FOO": "bar"}, got.Extra)
		require.Equal(t, []string{"Web", "php"}, got.Tags)
		require.True(t, got.Keyctl)
		require.True(t, got.Fuse)
		require.True(t, got.PackagesStrict)
		require.Equal(t, 1024, got.MemoryMiB)

		// Importing again with fewer children replaces them; the id stays.
		again := testTemplate("lamp", "db")
		again.Scripts = again.Scripts[:1]
		again.Files = nil
		again.Extra = nil
		require.NoError(t, db.UpsertTemplate(ctx, again))
		require.Equal(t, tpl.ID, again.ID)
		got, err = db.GetTemplate(ctx, "lamp")
		require.NoError(t, err)
		require.Len(t, got.Scripts, 1)
		require.Empty(t, got.Files)
		require.Nil(t, got.Extra)
		require.Equal(t, []string{"db"}, got.Buckets)
	})

	t.Run("FailedUpsertChangesNothing", func(t *testing.T) {
		t.Parallel()
		db, _ := setup(t)
		require.NoError(t, db.UpsertTemplate(ctx, testTemplate("lamp")))
		broken := testTemplate("lamp", "no-such-bucket")
		broken.Scripts = nil
		require.ErrorIs(t, db.UpsertTemplate(ctx, broken), provision.ErrNotFound)
		got, err := db.GetTemplate(ctx, "lamp")
		require.NoError(t, err)
		require.Len(t, got.Scripts, 3, "the failed import was rolled back")

		bad := testTemplate("bad")
		bad.Files[0].Policy = "sometimes"
		require.ErrorIs(t, db.UpsertTemplate(ctx, bad), provision.ErrInvalid)
		_, err = db.GetTemplate(ctx, "bad")
		require.ErrorIs(t, err, provision.ErrNotFound)

		zero := testTemplate("zero")
		zero.Cores = 0
		require.ErrorIs(t, db.UpsertTemplate(ctx, zero), provision.ErrInvalid)

		dup := testTemplate("dup")
		dup.Scripts = append(dup.Scripts, dup.Scripts[0])
		require.ErrorIs(t, db.UpsertTemplate(ctx, dup), provision.ErrConflict)
	})

	t.Run("CreateRefusesDuplicateName", func(t *testing.T) {
		t.Parallel()
		db, b := setup(t)
		require.NoError(t, db.CreateTemplate(ctx, testTemplate("lamp")))
		require.ErrorIs(t, db.CreateTemplate(ctx, testTemplate("lamp")), provision.ErrConflict)
		_, err := b.raw.Exec(ctx, `INSERT INTO templates (name) VALUES ('lamp')`)
		require.ErrorContains(t, err, "templates_name_key")
	})

	t.Run("ListSearches", func(t *testing.T) {
		t.Parallel()
		db, _ := setup(t)
		require.NoError(t, db.UpsertTemplate(ctx, testTemplate("lamp")))
		pg := testTemplate("postgres")
		pg.App, pg.Description, pg.Tags = "PostgreSQL", "database server, 100% open", []string{"db"}
		require.NoError(t, db.UpsertTemplate(ctx, pg))

		names := func(search string) []string {
			t.Helper()
			ts, err := db.ListTemplates(ctx, search)
			require.NoError(t, err)
			var out []string
			for _, tpl := range ts {
				out = append(out, tpl.Name)
			}
			return out
		}
		require.Equal(t, []string{"lamp", "postgres"}, names(""))
		require.Equal(t, []string{"postgres"}, names("POST"), "name, ignoring case")
		require.Equal(t, []string{"postgres"}, names("sql"), "app")
		require.Equal(t, []string{"lamp"}, names("nginx"), "description")
		require.Equal(t, []string{"lamp"}, names("web"), "tag, ignoring case")
		require.Equal(t, []string{"postgres"}, names("db"), "whole tag")
		require.Equal(t, []string{"postgres"}, names("100%"), "% is literal")
		require.Empty(t, names("_"), "_ is literal")
		require.Empty(t, names("kafka"))

		ts, err := db.ListTemplates(ctx, "lamp")
		require.NoError(t, err)
		require.Len(t, ts[0].Scripts, 3, "listed templates are complete")
	})

	t.Run("ScriptsAndDelete", func(t *testing.T) {
		t.Parallel()
		db, _ := setup(t)
		require.NoError(t, db.UpsertTemplate(ctx, testTemplate("lamp")))
		require.NoError(t, db.SetScriptEnabled(ctx, "lamp", "30-extra.sh", true))
		require.NoError(t, db.SetScriptEnabled(ctx, "lamp", "10-install.sh", false))
		got, err := db.GetTemplate(ctx, "lamp")
		require.NoError(t, err)
		require.False(t, got.Scripts[0].Enabled)
		require.True(t, got.Scripts[2].Enabled)
		require.ErrorIs(t, db.SetScriptEnabled(ctx, "lamp", "99-none.sh", true), provision.ErrNotFound)
		require.ErrorIs(t, db.SetScriptEnabled(ctx, "none", "10-install.sh", true), provision.ErrNotFound)

		require.NoError(t, db.DeleteTemplate(ctx, "lamp"))
		require.ErrorIs(t, db.DeleteTemplate(ctx, "lamp"), provision.ErrNotFound)
		_, err = db.GetTemplate(ctx, "lamp")
		require.ErrorIs(t, err, provision.ErrNotFound)
	})
}
