package provision_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/secret"
	"github.com/lxcbot/lxcbot/internal/store"
	"github.com/lxcbot/lxcbot/internal/testenv"
)

func TestAdminRolesNotifyAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	key, err := secret.GenerateKey()
	require.NoError(t, err)
	kr, err := secret.NewKeyring(key)
	require.NoError(t, err)
	db, err := store.Open(ctx, testenv.PostgresDSN(t), kr, nil)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	a := provision.NewAdmin(provision.AdminDeps{Store: db, Audit: provision.AuditListerFunc(
		func(ctx context.Context, q provision.AuditQuery) ([]provision.AuditEntry, error) {
			return db.ListAudit(ctx, store.AuditFilter{Target: q.Target, Before: q.Before, Limit: q.Limit})
		})})

	root := provision.Principal{Platform: provision.PlatformSlack, UserID: "U0"}
	require.NoError(t, a.ApplyBootstrap(ctx, []provision.Principal{root}))
	require.NoError(t, a.ApplyBootstrap(ctx, []provision.Principal{root}), "idempotent")
	role, err := db.RoleOf(ctx, provision.PlatformSlack, "U0", nil)
	require.NoError(t, err)
	require.Equal(t, provision.RoleAdmin, role)

	_, err = a.Grant(ctx, root, provision.PlatformSlack, "U5", provision.RoleOperator)
	require.NoError(t, err)
	_, err = a.Grant(ctx, root, provision.PlatformSlack, "group:S1", provision.RoleViewer)
	require.NoError(t, err)
	var ue *provision.UserError
	_, err = a.Grant(ctx, root, provision.PlatformSlack, "U6", "superuser")
	require.ErrorAs(t, err, &ue)
	bs, err := a.Roles(ctx)
	require.NoError(t, err)
	require.Len(t, bs, 3)
	require.ErrorAs(t, a.Revoke(ctx, root, provision.PlatformSlack, "U0"), &ue, "no self-revoke")
	require.NoError(t, a.Revoke(ctx, root, provision.PlatformSlack, "U5"))
	require.ErrorAs(t, a.Revoke(ctx, root, provision.PlatformSlack, "U5"), &ue)

	require.NoError(t, a.SetNotify(ctx, provision.PlatformSlack, "T1", "C9", []string{"drift", "node"}))
	require.ErrorAs(t, a.SetNotify(ctx, provision.PlatformSlack, "T1", "C9", []string{"everything"}), &ue)
	ws, err := db.GetWorkspace(ctx, provision.PlatformSlack, "T1")
	require.NoError(t, err)
	require.Equal(t, "C9", ws.NotifyChannel)
	require.Equal(t, []string{"drift", "node"}, ws.NotifyEvents)

	require.NoError(t, a.Record(ctx, &provision.AuditEntry{Actor: root, Command: "creds", Target: "web1", Outcome: "ok"}))
	es, err := a.Audit(ctx, provision.AuditQuery{Target: "web1"})
	require.NoError(t, err)
	require.Len(t, es, 1)
}
