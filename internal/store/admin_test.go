package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/store"
)

func TestWorkspaces(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := setup(t)

	_, err := db.GetWorkspace(ctx, provision.PlatformSlack, "T1")
	require.ErrorIs(t, err, provision.ErrNotFound)

	w := &provision.Workspace{Platform: provision.PlatformSlack, ExternalID: "T1", Name: "Acme",
		NotifyChannel: "C9", NotifyEvents: []string{"created"}}
	require.NoError(t, db.UpsertWorkspace(ctx, w))
	require.NotZero(t, w.ID)

	// Notification settings changed in chat survive a later upsert of the name.
	require.NoError(t, db.SetNotifications(ctx, provision.PlatformSlack, "T1", "C2", []string{"failed", "drift"}))
	again := &provision.Workspace{Platform: provision.PlatformSlack, ExternalID: "T1"}
	require.NoError(t, db.UpsertWorkspace(ctx, again))
	require.Equal(t, w.ID, again.ID)
	require.Equal(t, "Acme", again.Name, "an empty name must not erase the known one")
	require.Equal(t, "C2", again.NotifyChannel)
	require.Equal(t, []string{"failed", "drift"}, again.NotifyEvents)

	got, err := db.GetWorkspace(ctx, provision.PlatformSlack, "T1")
	require.NoError(t, err)
	require.Equal(t, *again, got)

	// SetNotifications records a workspace configuration names before it is seen.
	require.NoError(t, db.SetNotifications(ctx, provision.PlatformDiscord, "G1", "123", nil))
	all, err := db.ListWorkspaces(ctx)
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.Equal(t, "G1", all[0].ExternalID)
	require.Empty(t, all[0].NotifyEvents)

	err = db.SetNotifications(ctx, provision.PlatformSlack, "T1", "C2", []string{"everything"})
	require.ErrorIs(t, err, provision.ErrInvalid)
	err = db.UpsertWorkspace(ctx, &provision.Workspace{Platform: "irc", ExternalID: "x"})
	require.ErrorIs(t, err, provision.ErrInvalid)
}

func TestRoles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := setup(t)

	role, err := db.RoleOf(ctx, provision.PlatformSlack, "U1", nil)
	require.NoError(t, err)
	require.Equal(t, provision.RoleNone, role)

	grant := func(kind provision.SubjectKind, id string, r provision.Role) {
		t.Helper()
		b := &provision.RoleBinding{Platform: provision.PlatformSlack, SubjectKind: kind, SubjectID: id, Role: r, GrantedBy: "config"}
		require.NoError(t, db.GrantRole(ctx, b))
		require.NotZero(t, b.ID)
	}
	grant(provision.SubjectUser, "U1", provision.RoleViewer)
	grant(provision.SubjectGroup, "S-ops", provision.RoleOperator)
	grant(provision.SubjectGroup, "S-admins", provision.RoleAdmin)

	role, err = db.RoleOf(ctx, provision.PlatformSlack, "U1", nil)
	require.NoError(t, err)
	require.Equal(t, provision.RoleViewer, role)
	role, err = db.RoleOf(ctx, provision.PlatformSlack, "U1", []string{"S-ops"})
	require.NoError(t, err)
	require.Equal(t, provision.RoleOperator, role, "a group's higher role wins")
	role, err = db.RoleOf(ctx, provision.PlatformSlack, "U2", []string{"S-ops", "S-admins"})
	require.NoError(t, err)
	require.Equal(t, provision.RoleAdmin, role)
	role, err = db.RoleOf(ctx, provision.PlatformDiscord, "U1", []string{"S-admins"})
	require.NoError(t, err)
	require.Equal(t, provision.RoleNone, role, "bindings do not cross platforms")
	// A group id equal to a user id does not match the user binding.
	role, err = db.RoleOf(ctx, provision.PlatformSlack, "nobody", []string{"U1"})
	require.NoError(t, err)
	require.Equal(t, provision.RoleNone, role)

	// Granting again replaces the role.
	grant(provision.SubjectUser, "U1", provision.RoleAdmin)
	role, err = db.RoleOf(ctx, provision.PlatformSlack, "U1", nil)
	require.NoError(t, err)
	require.Equal(t, provision.RoleAdmin, role)

	list, err := db.ListRoleBindings(ctx, provision.PlatformSlack)
	require.NoError(t, err)
	require.Len(t, list, 3)
	require.Equal(t, provision.RoleAdmin, list[0].Role)
	list, err = db.ListRoleBindings(ctx, provision.PlatformDiscord)
	require.NoError(t, err)
	require.Empty(t, list)

	require.NoError(t, db.RevokeRole(ctx, provision.PlatformSlack, provision.SubjectUser, "U1"))
	role, err = db.RoleOf(ctx, provision.PlatformSlack, "U1", nil)
	require.NoError(t, err)
	require.Equal(t, provision.RoleNone, role)
	err = db.RevokeRole(ctx, provision.PlatformSlack, provision.SubjectUser, "U1")
	require.ErrorIs(t, err, provision.ErrNotFound)

	err = db.GrantRole(ctx, &provision.RoleBinding{Platform: provision.PlatformSlack, SubjectKind: provision.SubjectUser, SubjectID: "U3", Role: "root"})
	require.ErrorIs(t, err, provision.ErrInvalid)
	err = db.GrantRole(ctx, &provision.RoleBinding{Platform: provision.PlatformSlack, SubjectKind: "team", SubjectID: "U3", Role: provision.RoleViewer})
	require.ErrorIs(t, err, provision.ErrInvalid)
}

func TestChannelBindings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := setup(t)

	_, err := db.GetChannelBinding(ctx, provision.PlatformSlack, "C1")
	require.ErrorIs(t, err, provision.ErrNotFound)

	b := &provision.ChannelBinding{Platform: provision.PlatformSlack, ChannelID: "C1", AllowedCommands: []string{"start", "stop"}}
	require.NoError(t, db.SetChannelBinding(ctx, b))
	require.NoError(t, db.SetChannelBinding(ctx, &provision.ChannelBinding{Platform: provision.PlatformDiscord, ChannelID: "9"}))

	b2 := &provision.ChannelBinding{Platform: provision.PlatformSlack, ChannelID: "C1", AllowedCommands: []string{"list"}}
	require.NoError(t, db.SetChannelBinding(ctx, b2))
	require.Equal(t, b.ID, b2.ID)
	got, err := db.GetChannelBinding(ctx, provision.PlatformSlack, "C1")
	require.NoError(t, err)
	require.Equal(t, []string{"list"}, got.AllowedCommands)

	d, err := db.GetChannelBinding(ctx, provision.PlatformDiscord, "9")
	require.NoError(t, err)
	require.Empty(t, d.AllowedCommands, "no list means every command")

	all, err := db.ListChannelBindings(ctx, "")
	require.NoError(t, err)
	require.Len(t, all, 2)
	slack, err := db.ListChannelBindings(ctx, provision.PlatformSlack)
	require.NoError(t, err)
	require.Len(t, slack, 1)

	require.NoError(t, db.DeleteChannelBinding(ctx, provision.PlatformSlack, "C1"))
	require.ErrorIs(t, db.DeleteChannelBinding(ctx, provision.PlatformSlack, "C1"), provision.ErrNotFound)
}

func TestAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := setup(t)

	base := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	for i, e := range []provision.AuditEntry{
		{Actor: provision.Principal{Platform: provision.PlatformSlack, UserID: "U1"}, Command: "stop", Target: "web01", Outcome: "ok", Duration: 1500 * time.Millisecond},
		{Actor: provision.Principal{Platform: provision.PlatformSlack, UserID: "U2"}, Command: "creds", Target: "web01", Outcome: "denied"},
		{Actor: provision.Principal{Platform: provision.PlatformDiscord, UserID: "U1"}, Command: "nodes", Outcome: "error", Error: "internal error", RefID: "ref1"},
	} {
		e.At = base.Add(time.Duration(i) * time.Minute)
		require.NoError(t, db.AppendAudit(ctx, &e))
		require.NotZero(t, e.ID)
	}
	now := &provision.AuditEntry{Actor: provision.Principal{Platform: provision.PlatformConsole, UserID: "me"}, Command: "list", Outcome: "ok"}
	require.NoError(t, db.AppendAudit(ctx, now))
	require.False(t, now.At.IsZero(), "the time is filled in")

	all, err := db.ListAudit(ctx, store.AuditFilter{})
	require.NoError(t, err)
	require.Len(t, all, 4)
	require.Equal(t, "list", all[0].Command, "newest first")

	web, err := db.ListAudit(ctx, store.AuditFilter{Target: "web01"})
	require.NoError(t, err)
	require.Len(t, web, 2)
	require.Equal(t, "creds", web[0].Command)
	require.Equal(t, 1500*time.Millisecond, web[1].Duration)

	u1, err := db.ListAudit(ctx, store.AuditFilter{ActorUserID: "U1", ActorPlatform: provision.PlatformSlack})
	require.NoError(t, err)
	require.Len(t, u1, 1)

	older, err := db.ListAudit(ctx, store.AuditFilter{Before: base.Add(time.Minute), Limit: 10})
	require.NoError(t, err)
	require.Len(t, older, 1)
	require.Equal(t, "stop", older[0].Command)

	one, err := db.ListAudit(ctx, store.AuditFilter{Limit: 1})
	require.NoError(t, err)
	require.Len(t, one, 1)

	err = db.AppendAudit(ctx, &provision.AuditEntry{Actor: provision.Principal{Platform: provision.PlatformSlack}, Command: "x", Outcome: "maybe"})
	require.ErrorIs(t, err, provision.ErrInvalid)
}

func TestDeliveries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, b := setup(t)

	require.NoError(t, db.ClaimDelivery(ctx, "slack:event:Ev1", provision.PlatformSlack))
	err := db.ClaimDelivery(ctx, "slack:event:Ev1", provision.PlatformSlack)
	require.ErrorIs(t, err, provision.ErrConflict)
	require.NoError(t, db.ClaimDelivery(ctx, "discord:interaction:1", provision.PlatformDiscord))

	_, err = b.raw.Exec(ctx, `UPDATE inbound_deliveries SET received_at = now() - interval '2 hours' WHERE dedupe_key = 'slack:event:Ev1'`)
	require.NoError(t, err)
	n, err := db.PruneDeliveries(ctx, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	// A pruned key can be claimed again; a kept one cannot.
	require.NoError(t, db.ClaimDelivery(ctx, "slack:event:Ev1", provision.PlatformSlack))
	require.ErrorIs(t, db.ClaimDelivery(ctx, "discord:interaction:1", provision.PlatformDiscord), provision.ErrConflict)
}
