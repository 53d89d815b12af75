package catalog

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// memStore keeps what Sync saves, by name, as the real store's upserts do.
type memStore struct {
	mu        sync.Mutex
	templates map[string]provision.Template
	buckets   map[string]provision.Bucket
	upserts   int
	failOn    string // a template or bucket name whose upsert fails
}

func newMemStore() *memStore {
	return &memStore{templates: map[string]provision.Template{}, buckets: map[string]provision.Bucket{}}
}

func (m *memStore) UpsertTemplate(ctx context.Context, t *provision.Template) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.upserts++
	if t.Name == m.failOn {
		return provision.ErrUnavailable
	}
	for _, b := range t.Buckets {
		if _, ok := m.buckets[b]; !ok {
			return provision.ErrNotFound // the real store has a foreign key
		}
	}
	m.templates[t.Name] = *t
	return nil
}

func (m *memStore) UpsertBucket(ctx context.Context, b *provision.Bucket) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.upserts++
	if b.Name == m.failOn {
		return provision.ErrUnavailable
	}
	m.buckets[b.Name] = *b
	return nil
}

var _ CatalogStore = (*memStore)(nil)

func catalogTree(t *testing.T) string {
	t.Helper()
	return writeTree(t, t.TempDir(), map[string]string{
		LibraryDir + "/base-tools.apt":               "# Everyday tools\ncurl\nhtop\n",
		LibraryDir + "/broken.apt":                   "not valid\n",
		"web/template.conf":                          "TEMPLATE_APP=Web\nTEMPLATE_BUCKETS=base-tools\n",
		"web/" + PackagesDir + "/base.apt":           "nginx\n",
		"web/" + ScriptsDir + "/10-enable.sh":        "systemctl enable --now nginx\n",
		"db/template.conf":                           "TEMPLATE_APP=DB\n",
		"db/" + PackagesDir + "/base.apt":            "postgresql\n",
		"broken/template.conf":                       "TEMPLATE_CPU=lots\n",
		"uses-broken/template.conf":                  "TEMPLATE_BUCKETS=broken\n",
		"uses-chat-bucket/template.conf":             "TEMPLATE_BUCKETS=made-in-chat\n",
		"not-a-template/README.md":                   "x",
		".git/template.conf":                         "",
		"_drafts/template.conf":                      "",
		"notes.txt":                                  "x",
		"web/" + ScriptsDir + "/leftover.bak":        "x",
		"db/" + FilesDir + "/pg.conf":                "x",
		"db/" + FilesDir + "/pg.conf.path":           "/etc/postgresql",
		"db/" + FilesDir + "/pg.conf.policy":         "replace",
		"uses-chat-bucket/" + ScriptsDir + "/1-a.sh": "true\n",
	})
}

func TestSyncOneBrokenTemplateDoesNotStopTheOthers(t *testing.T) {
	t.Parallel()
	store := newMemStore()
	store.buckets["made-in-chat"] = provision.Bucket{Name: "made-in-chat", Manager: provision.ManagerApt}
	rep, err := Sync(context.Background(), store, catalogTree(t), nil)
	require.NoError(t, err)

	require.Equal(t, []string{"db", "uses-chat-bucket", "web"}, rep.Templates)
	require.Equal(t, []string{"base-tools", "db.base", "web.base"}, rep.Buckets)
	require.Len(t, rep.Failed, 3)
	require.ErrorContains(t, rep.Failed["broken"], `template.conf:1: TEMPLATE_CPU: invalid number "lots"`)
	require.ErrorContains(t, rep.Failed["uses-broken"], "bucket broken in _buckets could not be imported")
	require.ErrorContains(t, rep.Failed[LibraryDir+"/broken.apt"], "broken.apt:1: one package per line")
	require.ErrorContains(t, rep.Err(), "broken: ")
	require.ElementsMatch(t, []string{
		"not-a-template: no template.conf; not a template",
		"web/" + ScriptsDir + "/leftover.bak: not a script (want NN-name.sh or NN-name.sh.disabled); ignored",
		"uses-chat-bucket/template.conf: TEMPLATE_BUCKETS: bucket made-in-chat is not in _buckets; it must already be in the library",
	}, warningStrings(rep.Warnings))

	web := store.templates["web"]
	require.Equal(t, "Web", web.App)
	require.Equal(t, []string{"base-tools", "web.base"}, web.Buckets)
	require.Len(t, web.Scripts, 1)
	require.Equal(t, []provision.Package{{Name: "nginx"}}, store.buckets["web.base"].Packages)
	require.Equal(t, []provision.Package{{Name: "postgresql"}}, store.buckets["db.base"].Packages,
		"two templates' base.apt stay apart")
	require.Equal(t, "Everyday tools", store.buckets["base-tools"].Description)
	require.NotContains(t, store.templates, "_drafts")
}

func TestSyncFollowsSymlinkedTemplates(t *testing.T) {
	t.Parallel()
	elsewhere := writeTree(t, t.TempDir(), map[string]string{"shared/template.conf": "TEMPLATE_APP=Shared\n"})
	dir := t.TempDir()
	require.NoError(t, os.Symlink(filepath.Join(elsewhere, "shared"), filepath.Join(dir, "shared")))
	store := newMemStore()
	rep, err := Sync(context.Background(), store, dir, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"shared"}, rep.Templates)
	require.Equal(t, "Shared", store.templates["shared"].App)
}

func TestSyncIsIdempotent(t *testing.T) {
	t.Parallel()
	dir := catalogTree(t)
	store := newMemStore()
	store.buckets["made-in-chat"] = provision.Bucket{Name: "made-in-chat", Manager: provision.ManagerApt}
	first, err := Sync(context.Background(), store, dir, nil)
	require.NoError(t, err)
	templates, buckets := cloneMaps(store)

	second, err := Sync(context.Background(), store, dir, nil)
	require.NoError(t, err)
	require.Equal(t, first.Templates, second.Templates)
	require.Equal(t, first.Buckets, second.Buckets)
	after, afterBuckets := cloneMaps(store)
	require.Equal(t, templates, after)
	require.Equal(t, buckets, afterBuckets)
}

func cloneMaps(m *memStore) (map[string]provision.Template, map[string]provision.Bucket) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := map[string]provision.Template{}
	for k, v := range m.templates {
		ts[k] = v
	}
	bs := map[string]provision.Bucket{}
	for k, v := range m.buckets {
		bs[k] = v
	}
	return ts, bs
}

func TestSyncStoreFailure(t *testing.T) {
	t.Parallel()
	store := newMemStore()
	store.failOn = "db.base"
	rep, err := Sync(context.Background(), store, catalogTree(t), nil)
	require.NoError(t, err)
	require.ErrorIs(t, rep.Failed["db"], provision.ErrUnavailable)
	require.ErrorContains(t, rep.Failed["db"], "saving bucket db.base")
	require.Contains(t, rep.Templates, "web")
	require.NotContains(t, store.templates, "db")

	store = newMemStore()
	store.failOn = "base-tools"
	rep, err = Sync(context.Background(), store, catalogTree(t), nil)
	require.NoError(t, err)
	require.ErrorIs(t, rep.Failed[LibraryDir+"/base-tools.apt"], provision.ErrUnavailable)
	require.ErrorContains(t, rep.Failed["web"], "bucket base-tools in _buckets could not be imported")
}

func TestSyncStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	store := newMemStore()
	_, err := Sync(ctx, store, catalogTree(t), nil)
	require.True(t, errors.Is(err, context.Canceled))
	require.Zero(t, store.upserts)
}

func TestSyncMissingDirectory(t *testing.T) {
	t.Parallel()
	_, err := Sync(context.Background(), newMemStore(), filepath.Join(t.TempDir(), "nope"), nil)
	require.ErrorContains(t, err, "listing templates directory")
}
