package app

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/store"
	"github.com/lxcbot/lxcbot/internal/testkit/chattest"
)

// countingStore records the container reads the Backend makes and how many
// rows they decoded.
type countingStore struct {
	BackendStore
	mu      sync.Mutex
	lists   []store.ContainerFilter
	rows    int
	counted int
}

func (s *countingStore) ListContainers(ctx context.Context, f store.ContainerFilter) ([]provision.Container, error) {
	cs, err := s.BackendStore.ListContainers(ctx, f)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists = append(s.lists, f)
	s.rows += len(cs)
	return cs, err
}

func (s *countingStore) CountContainers(ctx context.Context, f store.ContainerFilter) (int, error) {
	s.mu.Lock()
	s.counted++
	s.mu.Unlock()
	return s.BackendStore.CountContainers(ctx, f)
}

// TestListPagesInTheDatabase: /lxc list reads one page of rows and a count,
// never every container to show one page of them.
func TestListPagesInTheDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin := provision.Principal{Platform: provision.PlatformConsole, UserID: "admin"}
	a := newApp(t, appOptions{admins: []provision.Principal{admin}})
	const total, pageSize = 11, 4
	for i := range total {
		c := &provision.Container{Hostname: fmt.Sprintf("pg%02d", i), TemplateName: "nginx-web", Owner: admin,
			Origin: provision.Origin{Platform: provision.PlatformConsole}}
		require.NoError(t, a.Store().CreateContainer(ctx, c))
	}
	st := &countingStore{BackendStore: a.Store()}
	b := NewBackend(BackendDeps{Engine: a.engine, Lifecycle: a.lifecycle, Monitor: a.monitor, Nodes: a.nodeAdmin,
		Catalog: a.catalog, Admin: a.admin, Store: st, BootstrapAdmins: []provision.Principal{admin}})
	r := commands.New(commands.Deps{Backend: b, PageSize: pageSize})
	list := func(text string) string {
		resp := r.Handle(ctx, commands.Request{Principal: admin, Platform: provision.PlatformConsole,
			Workspace: "console", Channel: "console", Kind: commands.KindCommand, Text: text})
		return chattest.AllText(resp)
	}

	text := list("list --page 2")
	require.Contains(t, text, fmt.Sprintf("Containers (%d)", total))
	require.Contains(t, text, "page 2 of 3")
	require.Equal(t, []store.ContainerFilter{{Limit: pageSize, Offset: pageSize}}, st.lists, "one read of one page")
	require.Equal(t, pageSize, st.rows, "only the page's rows were decoded")
	require.Equal(t, 1, st.counted)

	// Newest first, as before: page 2 holds the 5th to 8th newest.
	require.Contains(t, text, "pg06")
	require.Contains(t, text, "pg03")
	require.NotContains(t, text, "pg07")
	require.NotContains(t, text, "pg02")

	// A page past the end shows the last one.
	st.lists, st.rows = nil, 0
	text = list("list --page 9")
	require.Contains(t, text, "page 3 of 3")
	require.Contains(t, text, "pg00")
	require.Equal(t, total-2*pageSize, st.rows)
	for _, f := range st.lists {
		require.Equal(t, pageSize, f.Limit, "every read is bounded")
	}
}
