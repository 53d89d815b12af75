package slack

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// TestOpeningTheHomeTabIsAViewNotACommand opens the Home tab as an
// operator with a container of their own and as a user without a role:
// each gets a published view, and neither look writes an audit entry.
func TestOpeningTheHomeTabIsAViewNotACommand(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.mem.Create(context.Background(), slackOperator, provision.Origin{}, provision.CreateRequest{Hostname: "web8", Template: "nginx"}, "")
	require.NoError(t, err)
	before := len(b.mem.AuditEntries())

	open := func(user, dm, eventID string) string {
		t.Helper()
		n := len(b.fake.Calls("views.publish"))
		ev := map[string]any{"type": "event_callback", "team_id": team, "event_id": eventID,
			"event": map[string]any{"type": "app_home_opened", "user": user, "channel": dm, "tab": "home"}}
		resp, _ := b.do(t, b.signer.Event(b.srv.URL+"/slack/events", ev))
		require.Equal(t, http.StatusOK, resp.StatusCode)
		waitFor(t, "the home tab", func() bool { return len(b.fake.Calls("views.publish")) == n+1 })
		c := b.fake.Calls("views.publish")[n]
		require.Equal(t, user, c.Param("user_id"))
		return c.Param("view")
	}

	view := open(slackOperator.UserID, "DALICE", "EvHomeOp")
	require.Contains(t, view, `"type":"home"`)
	require.Contains(t, view, `"private_metadata":"DALICE"`)
	require.Contains(t, view, "web8", "the user's own container")
	require.NotContains(t, view, "web2", "only the user's containers")
	require.Contains(t, view, "Jobs in progress")
	require.Contains(t, view, "No creation running.")

	view = open(slackNobody.UserID, "DSAM", "EvHomeNobody")
	require.Contains(t, view, "no lxcbot role yet")
	require.NotContains(t, view, "web8")

	b.drain(t)
	require.Len(t, b.mem.AuditEntries(), before, "looking at the Home tab is not audited: %v", b.mem.AuditEntries())
}
