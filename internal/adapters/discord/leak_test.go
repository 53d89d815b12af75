package discord

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// Errors from REST calls name the route, never the bot token or an
// interaction token, whether Discord refused or the connection failed.
func TestErrorsNeverCarryTokens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	rc := &received{it: &interaction{ID: "1", Token: "itok-secret-interaction"}}
	_, err := b.a.editOriginal(ctx, rc, textMessage("x", false))
	require.Error(t, err)
	require.NotContains(t, err.Error(), "itok-secret-interaction")
	require.Contains(t, err.Error(), "webhooks/{app}/{token}/messages/@original")

	err = b.a.editTarget(ctx, &target{channelID: "1", messageID: "2"}, textMessage("x", false))
	require.Error(t, err)
	require.NotContains(t, err.Error(), botToken)

	b.fake.Close() // now the connection fails
	path, route := b.a.webhookOriginal("itok-secret-interaction")
	err = b.a.rest.do(ctx, call{method: http.MethodPatch, path: path, route: route, bot: true, body: map[string]any{}})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "itok-secret-interaction")
	require.NotContains(t, err.Error(), botToken)
}
