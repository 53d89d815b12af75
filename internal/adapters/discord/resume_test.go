package discord

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/adapters/discord/discordfake"
	redisx "github.com/lxcbot/lxcbot/internal/adapters/redis"
	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/commands/commandstest"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/secret"
)

// cardBook is a CardStore that keeps the origins recorded.
type cardBook struct {
	mu      sync.Mutex
	origins map[string]provision.Origin
}

func (c *cardBook) SetContainerMessage(_ context.Context, id string, o provision.Origin) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.origins[id] = o
	return nil
}

func (c *cardBook) origin(id string) (provision.Origin, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.origins[id]
	return o, ok
}

// TestAJobCardIsResumedAfterARestart: the adapter records where it posted a
// job card; when it stops mid-job, a new adapter instance resumes the card
// from that record and edits it, with the bot token, to the final state.
func TestAJobCardIsResumedAfterARestart(t *testing.T) {
	t.Parallel()
	g := &gated{subscribed: make(chan struct{}, 1), open: make(chan struct{})}
	book := &cardBook{origins: map[string]provision.Origin{}}
	b := setup(t, setupOpts{backend: func(m *commandstest.Mem) commands.Backend { g.Mem = m; return g }, cards: book})

	it, _ := b.slash(t, opUser, "create", discordfake.Str("template", "nginx"), discordfake.Str("hostname", "phoenix"))
	plan := b.original(t, it)
	click := &discordfake.Interaction{Type: discordfake.TypeComponent, User: opUser, Data: discordfake.Click(plan.Button("Create")),
		Message: plan.ID, GuildID: guildID, ChannelID: channel}
	_, err := b.fake.Deliver(context.Background(), b.endpoint, click, b.clock.Now())
	require.NoError(t, err)
	<-g.subscribed // the card is posted and followed; the job has not run yet
	card := b.lastPublic(t, "phoenix")
	require.NotContains(t, card.Text(), "is ready")

	ct, err := b.mem.Container(context.Background(), "phoenix")
	require.NoError(t, err)
	origin, ok := book.origin(ct.ID)
	require.True(t, ok, "the job card was recorded")
	require.Equal(t, provision.Origin{Platform: provision.PlatformDiscord, WorkspaceID: guildID, ChannelID: channel, MessageID: card.ID}, origin)

	// The process stops; its interaction tokens go with it.
	b.a.Close()
	b.fake.ExpireTokens()
	before := len(b.fake.Calls())

	next, err := New(Config{AppID: appID, BotToken: secret.String(botToken), APIURL: b.fake.APIURL(), Router: b.router,
		Dedupe: redisx.NewDeduper(b.rdb), Store: NewRedisStore(b.rdb), Cards: book, Clock: b.clock, EditInterval: 5 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(next.Close)
	require.NoError(t, next.Resume(context.Background(), ct.ID, origin))
	close(g.open)
	next.Wait()

	card, ok = b.fake.Message(card.ID)
	require.True(t, ok)
	require.Contains(t, card.Text(), "🟢 phoenix is ready")
	var botEdits int
	for _, c := range b.fake.Calls()[before:] {
		require.NotEqual(t, http.StatusUnauthorized, c.Status)
		if c.Method == http.MethodPatch && c.Route == "channels/{channel}/messages/{message}" {
			require.True(t, c.Bot)
			botEdits++
		}
	}
	require.Positive(t, botEdits, "the new instance edited the card with the bot token")

	// Origins of other platforms, or without a card, are not Discord's to resume.
	require.NoError(t, next.Resume(context.Background(), ct.ID, provision.Origin{Platform: provision.PlatformSlack, ChannelID: "C1", MessageID: "1.2"}))
	require.NoError(t, next.Resume(context.Background(), ct.ID, provision.Origin{Platform: provision.PlatformDiscord, ChannelID: channel}))
}
