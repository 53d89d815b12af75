package catalog

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/examples/templates"
	"github.com/lxcbot/lxcbot/internal/provision"
)

const examplesDir = "../../../examples/templates"

// The bundled examples are what the demo shows first: they must load without
// a single warning and contain what they promise.
func TestExampleTemplates(t *testing.T) {
	t.Parallel()
	load := func(name string) *Loaded {
		t.Helper()
		l, err := LoadDir(filepath.Join(examplesDir, name))
		require.NoError(t, err)
		require.Empty(t, l.Warnings, "%s", name)
		tpl := l.Template
		require.Equal(t, "debian-12-standard", tpl.OSTemplate, name)
		require.True(t, tpl.Unprivileged, name)
		require.NotEmpty(t, tpl.App, name)
		require.NotEmpty(t, tpl.Description, name)
		require.Contains(t, tpl.Buckets, "base-tools", name)
		for _, s := range tpl.Scripts {
			require.True(t, strings.HasPrefix(s.Body, "#!/usr/bin/env bash\n"), "%s/%s", name, s.Name)
			require.Contains(t, s.Body, "set -euo pipefail", "%s/%s", name, s.Name)
		}
		return l
	}
	packages := func(l *Loaded, bucket string) []provision.Package {
		for _, b := range l.Buckets {
			if b.Name == bucket {
				return b.Packages
			}
		}
		t.Fatalf("%s has no bucket %s", l.Template.Name, bucket)
		return nil
	}
	script := func(l *Loaded, name string) provision.TemplateScript {
		for _, s := range l.Template.Scripts {
			if s.Name == name {
				return s
			}
		}
		t.Fatalf("%s has no script %s", l.Template.Name, name)
		return provision.TemplateScript{}
	}

	web := load("nginx-web")
	require.Equal(t, []provision.Package{{Name: "nginx"}}, packages(web, "nginx-web.web"))
	require.Len(t, web.Template.Files, 1)
	index := web.Template.Files[0]
	require.Equal(t, "index.html", index.Name)
	require.Equal(t, "/var/www/html", index.TargetDir)
	require.Equal(t, provision.PolicyDefault, index.Policy)
	require.Contains(t, string(index.Content), "<h1>It works</h1>")
	enable := script(web, "10-enable-nginx.sh")
	require.True(t, enable.Enabled)
	require.Contains(t, enable.Body, "systemctl enable --now nginx")
	require.NotContains(t, enable.Body, "save_credential")
	require.False(t, script(web, "20-hide-version.sh").Enabled, "the optional script ships disabled")

	db := load("postgres-db")
	require.Equal(t, []provision.Package{{Name: "postgresql"}, {Name: "postgresql-contrib"}}, packages(db, "postgres-db.database"))
	require.True(t, db.Template.PackagesStrict)
	create := script(db, "10-create-database.sh")
	for _, want := range []string{"generate_password", "runuser -u postgres -- psql", "CREATE ROLE", "CREATE DATABASE",
		`save_credential postgres POSTGRES_PASSWORD "${pw}"`} {
		require.Contains(t, create.Body, want)
	}
	listen := script(db, "20-listen-on-network.sh")
	require.Contains(t, listen.Body, "listen_addresses = '*'")
	require.Contains(t, listen.Body, "systemctl restart postgresql")

	code := load("code-server")
	require.Equal(t, []provision.Package{{Name: "curl"}, {Name: "git"}}, packages(code, "code-server.tools"))
	require.Equal(t, []provision.Package{{Name: "code-server", Check: "command -v code-server",
		Install: "curl -fsSL https://code-server.dev/install.sh | sh", TimeoutSec: 600}}, packages(code, "code-server.code-server"))
	require.Len(t, code.Template.Files, 1)
	unit := code.Template.Files[0]
	require.Equal(t, "code-server.service", unit.Name)
	require.Equal(t, "/etc/systemd/system", unit.TargetDir)
	require.Equal(t, provision.PolicyReplace, unit.Policy)
	require.Equal(t, uint32(0o644), unit.Mode)
	require.Contains(t, string(unit.Content), "--bind-addr 0.0.0.0:8080")
	configure := script(code, "10-configure-code-server.sh")
	for _, want := range []string{"CONTAINER_USER", "generate_password", "run_as_user", ".config/code-server", "config.yaml",
		"systemctl enable code-server.service", `save_credential code-server PASSWORD "${pw}"`} {
		require.Contains(t, configure.Body, want)
	}
}

func TestExampleLibrary(t *testing.T) {
	t.Parallel()
	buckets, warns, err := LoadLibrary(examplesDir)
	require.NoError(t, err)
	require.Empty(t, warns)
	byName := map[string]provision.Bucket{}
	for _, b := range buckets {
		byName[b.Name] = b
		require.NotEmpty(t, b.Description, b.Name)
	}
	require.Equal(t, []provision.Package{{Name: "curl"}, {Name: "ca-certificates"}, {Name: "htop"}, {Name: "jq"}}, byName["base-tools"].Packages)
	require.Contains(t, byName, "net-debug")
}

// The demo imports the embedded copy; it must import cleanly too.
func TestSyncEmbeddedExamples(t *testing.T) {
	t.Parallel()
	store := newMemStore()
	rep, err := SyncFS(context.Background(), store, templates.FS, nil)
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	require.Empty(t, rep.Warnings)
	require.Equal(t, []string{"code-server", "nginx-web", "postgres-db"}, rep.Templates)
	require.Subset(t, rep.Buckets, []string{"base-tools", "net-debug", "nginx-web.web", "postgres-db.database",
		"code-server.tools", "code-server.code-server"})
}
