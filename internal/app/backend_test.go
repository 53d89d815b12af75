package app

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/examples/templates"
	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/provision/catalog"
	"github.com/lxcbot/lxcbot/internal/testkit/chattest"
)

// TestNodeAddAsksToConfirmFingerprintsThenPinsThem: a node that is not
// pinned yet is not saved; the reply shows its certificate and host key, and
// running the same command again confirms and pins exactly those.
func TestNodeAddAsksToConfirmFingerprintsThenPinsThem(t *testing.T) {
	sim := startSim(t)
	a := newApp(t, appOptions{admins: []provision.Principal{ada}})
	ctx := context.Background()
	u := &chattest.User{Router: a.Router(), Who: ada}
	n := sim.Nodes()[0]
	add := fmt.Sprintf("node add %s --api-url %s --token-id %q --token-secret %q --ssh %s --ssh-user %s --ssh-password %q --default",
		n.Name, n.APIURL, n.TokenID, n.TokenSecret.Reveal(), n.SSHAddr, n.SSHUser, n.SSHPassword.Reveal())

	first := u.Command(t, add)
	require.Equal(t, commands.OutcomeUserError, first.Outcome, chattest.AllText(first))
	require.Contains(t, chattest.AllText(first), n.TLSFingerprint)
	require.Contains(t, chattest.AllText(first), n.SSHHostKey)
	require.Contains(t, chattest.AllText(first), "run the same /lxc node add command again")
	_, err := a.Store().GetNode(ctx, n.Name)
	require.ErrorIs(t, err, provision.ErrNotFound, "nothing is saved before confirmation")

	second := u.Command(t, add)
	chattest.RequireOK(t, second)
	require.Contains(t, chattest.AllText(second), "added")
	saved, err := a.Store().GetNode(ctx, n.Name)
	require.NoError(t, err)
	require.Equal(t, n.TLSFingerprint, saved.TLSFingerprint)
	require.Equal(t, n.SSHHostKey, saved.SSHHostKey)
	require.True(t, saved.IsDefault)

	test := u.Command(t, "node test "+n.Name)
	chattest.RequireOK(t, test)
	require.Contains(t, chattest.AllText(test), "API and SSH answer")

	// A confirmation is for the admin who was shown the fingerprints and
	// for one attempt: another node's add asks again.
	other := sim.Nodes()[1]
	again := u.Command(t, fmt.Sprintf("node add %s --api-url %s --token-id %q --token-secret %q --ssh %s --ssh-password %q",
		other.Name, other.APIURL, other.TokenID, other.TokenSecret.Reveal(), other.SSHAddr, other.SSHPassword.Reveal()))
	require.Equal(t, commands.OutcomeUserError, again.Outcome, chattest.AllText(again))
	require.Contains(t, chattest.AllText(again), other.SSHHostKey)
	for _, txt := range []string{chattest.AllText(first), chattest.AllText(second), chattest.AllText(again)} {
		require.NotContains(t, txt, n.TokenSecret.Reveal(), "secrets never appear in replies")
		require.NotContains(t, txt, n.SSHPassword.Reveal())
	}
}

// TestTemplateExportIsATarGzThatLoadsBack exports an example template and
// reads the archive back with the template loader.
func TestTemplateExportIsATarGzThatLoadsBack(t *testing.T) {
	a := newApp(t, appOptions{templates: templates.FS, admins: []provision.Principal{ada}})
	u := &chattest.User{Router: a.Router(), Who: ada}
	resp := u.Command(t, "template export nginx-web")
	chattest.RequireOK(t, resp)
	require.Len(t, resp.Files, 1)
	require.Equal(t, "nginx-web.tar.gz", resp.Files[0].Name)

	dir := t.TempDir()
	names := untar(t, resp.Files[0].Content, dir)
	require.Contains(t, names, "nginx-web/template.conf")
	require.Contains(t, names, "_buckets/base-tools.apt", "library buckets travel with the template")
	l, err := catalog.LoadDir(filepath.Join(dir, "nginx-web"))
	require.NoError(t, err)
	orig, err := a.Backend().Template(context.Background(), "nginx-web")
	require.NoError(t, err)
	require.Equal(t, orig.Cores, l.Template.Cores)
	require.Equal(t, orig.Buckets, l.Template.Buckets)

	again := u.Command(t, "template export nginx-web")
	require.Equal(t, resp.Files[0].Content, again.Files[0].Content, "the same template gives the same archive")
}

func untar(t *testing.T, data []byte, dir string) []string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	require.NoError(t, err)
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		require.NoError(t, err)
		names = append(names, h.Name)
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if h.Typeflag == tar.TypeDir {
			require.NoError(t, os.MkdirAll(p, 0o755))
			continue
		}
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		body, err := io.ReadAll(tr)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(p, body, 0o644))
	}
}

// recorder is a chat platform's notification poster.
type recorder struct {
	mu    sync.Mutex
	posts []string
}

func (r *recorder) post(_ context.Context, channel, text string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.posts = append(r.posts, channel+": "+text)
	return nil
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.posts...)
}

// TestNotificationsFollowTheTeamsSettings: lifecycle news reaches the
// channel an admin chose with /lxc notify, through the poster the platform
// registered, and only the kinds chosen.
func TestNotificationsFollowTheTeamsSettings(t *testing.T) {
	a := newApp(t, appOptions{admins: []provision.Principal{ada}})
	ctx := context.Background()
	rec := &recorder{}
	a.SetNotifier(provision.PlatformConsole, rec.post)
	chattest.RequireOK(t, (&chattest.User{Router: a.Router(), Who: ada}).Command(t, "notify #ops lifecycle"))

	ct := &provision.Container{Hostname: "web1", Origin: provision.Origin{Platform: provision.PlatformConsole, WorkspaceID: "console"}}
	note := func(kind provision.NotificationKind, text string) provision.Notification {
		return provision.Notification{Kind: kind, Platform: provision.PlatformConsole, Workspace: "console", Text: text, Container: ct}
	}
	require.NoError(t, a.Notifier().Notify(ctx, note(provision.NotifyLifecycle, "web1 stopped by alice")))
	require.NoError(t, a.Notifier().Notify(ctx, note(provision.NotifyCreated, "web1 is ready")))
	require.NoError(t, a.Notifier().Notify(ctx, provision.Notification{Kind: provision.NotifyLifecycle, Text: "for everyone"}))
	require.Equal(t, []string{"ops: web1 stopped by alice", "ops: for everyone"}, rec.all())
}

// TestConfigurationIsAppliedAtStartUp: nodes, roles and bootstrap admins
// from the configuration are in place once New returns, readiness checks
// pass, and a restart keeps a pin an admin confirmed that the file omits.
func TestConfigurationIsAppliedAtStartUp(t *testing.T) {
	sim := startSim(t)
	ctx := context.Background()
	nodes := sim.Nodes()
	cfg := testConfig(t, appOptions{nodes: nodes, admins: []provision.Principal{ada},
		roles: config.Roles{Operators: []provision.Principal{alice}, Viewers: []provision.Principal{alice}}})
	a, err := New(ctx, Options{Config: cfg, Fast: true})
	require.NoError(t, err)
	for _, c := range a.ReadinessChecks() {
		require.NoError(t, c.Fn(ctx), c.Name)
	}
	role, err := a.Backend().RoleOf(ctx, alice, nil)
	require.NoError(t, err)
	require.Equal(t, provision.RoleOperator, role, "the higher of two configured roles wins")
	role, err = a.Backend().RoleOf(ctx, ada, nil)
	require.NoError(t, err)
	require.Equal(t, provision.RoleAdmin, role)
	ns, err := a.Backend().Nodes(ctx)
	require.NoError(t, err)
	require.Len(t, ns, 2)
	for _, n := range ns {
		require.True(t, n.Online, "%s: %s", n.Node.Name, n.Problem)
	}
	a.Close()

	cfg.Nodes[0].TLSFingerprint, cfg.Nodes[0].SSH.HostKey = "", ""
	b, err := New(ctx, Options{Config: cfg, Fast: true})
	require.NoError(t, err)
	defer b.Close()
	n, err := b.Store().GetNode(ctx, nodes[0].Name)
	require.NoError(t, err)
	require.Equal(t, nodes[0].TLSFingerprint, n.TLSFingerprint)
	require.Equal(t, nodes[0].SSHHostKey, n.SSHHostKey)
}
