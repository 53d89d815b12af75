package app

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/store"
	"github.com/lxcbot/lxcbot/internal/testkit/chattest"
)

// TestRevealIsAuditedBeforeTheReply: other audit entries are batched, but a
// credential reveal is in Postgres by the time its reply is handed back.
func TestRevealIsAuditedBeforeTheReply(t *testing.T) {
	ctx := context.Background()
	a := newApp(t, appOptions{admins: []provision.Principal{ada}})
	c := &provision.Container{NodeName: "pve1", VMID: 150, Hostname: "db9", TemplateName: "postgres-db",
		Owner: ada, Origin: provision.Origin{Platform: provision.PlatformConsole}}
	require.NoError(t, a.Store().CreateContainer(ctx, c))
	require.NoError(t, a.Store().TransitionContainer(ctx, c.ID, []provision.State{provision.StatePending}, provision.StateReady))
	require.NoError(t, a.Store().ReplaceCredentials(ctx, c.ID, []provision.Credential{
		{ContainerID: c.ID, Service: "postgres", Key: "POSTGRES_PASSWORD", Value: "reveal-me-9"}}))

	resp := (&chattest.User{Router: a.Router(), Who: ada}).Command(t, "creds db9")
	chattest.RequireOK(t, resp)
	require.Contains(t, chattest.AllText(resp), "reveal-me-9")

	// Read the table directly, without AuditLog's flush.
	entries, err := a.Store().ListAudit(ctx, store.AuditFilter{Limit: 50})
	require.NoError(t, err)
	found := false
	for _, e := range entries {
		if strings.HasPrefix(e.Args, "reveal") {
			found = true
			require.NotContains(t, e.Args+e.Error, "reveal-me-9")
		}
	}
	require.True(t, found, "the reveal is recorded before its reply: %+v", entries)
}
