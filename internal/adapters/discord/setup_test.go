package discord

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/adapters/discord/discordfake"
	redisx "github.com/lxcbot/lxcbot/internal/adapters/redis"
	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/commands/commandstest"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/secret"
	"github.com/lxcbot/lxcbot/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

const (
	appID    = "900000000000000001"
	botToken = "bot-token-Nzk5.must-never-leak"
	guildID  = "700000000000000001"
	channel  = "500000000000000001"
)

// Discord users of the tests.
var (
	opUser    = discordfake.User{ID: "100000000000000001", Name: "olive"}
	adminUser = discordfake.User{ID: "100000000000000002", Name: "adam"}
)

func principalOf(u discordfake.User) provision.Principal {
	return provision.Principal{Platform: provision.PlatformDiscord, UserID: u.ID, Name: u.Name}
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer collects logs from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testBundle struct {
	fake     *discordfake.Server
	mem      *commandstest.Mem
	router   *commands.Router
	a        *Adapter
	endpoint string
	clock    *clock
	logs     *syncBuffer
	rdb      *redis.Client
}

type setupOpts struct {
	backend func(*commandstest.Mem) commands.Backend
	cards   CardStore
}

func setup(t *testing.T, opts ...setupOpts) *testBundle {
	t.Helper()
	fake := discordfake.New(appID, botToken)
	t.Cleanup(fake.Close)
	mem := commandstest.NewMem()
	mem.SetRole(principalOf(opUser), provision.RoleOperator)
	mem.SetRole(principalOf(adminUser), provision.RoleAdmin)
	var backend commands.Backend = mem
	var cards CardStore
	for _, o := range opts {
		if o.backend != nil {
			backend = o.backend(mem)
		}
		if o.cards != nil {
			cards = o.cards
		}
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	router := commands.New(commands.Deps{Backend: backend, Log: log, Clock: commandstest.FixedClock{T: commandstest.Epoch}, NewRef: func() string { return "ref1" }})
	rdb := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t)})
	t.Cleanup(func() { _ = rdb.Close() })
	clk := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	a, err := New(Config{
		AppID: appID, BotToken: secret.String(botToken), PublicKey: fake.Signer.PublicKeyHex(), APIURL: fake.APIURL(),
		Router: router, Dedupe: redisx.NewDeduper(rdb), Store: NewRedisStore(rdb), Cards: cards, Log: log, Clock: clk,
		EditInterval: 5 * time.Millisecond,
	})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	b := &testBundle{fake: fake, mem: mem, router: router, a: a, endpoint: srv.URL, clock: clk, logs: logs, rdb: rdb}
	t.Cleanup(func() { b.assertNoLeaks(t) })
	return b
}

// deliver sends an interaction over HTTP and waits for all work it started.
func (b *testBundle) deliver(t *testing.T, it *discordfake.Interaction) discordfake.Delivery {
	t.Helper()
	if it.GuildID == "" {
		it.GuildID = guildID
	}
	if it.ChannelID == "" {
		it.ChannelID = channel
	}
	d, err := b.fake.Deliver(context.Background(), b.endpoint, it, b.clock.Now())
	require.NoError(t, err)
	b.a.Wait()
	return d
}

func (b *testBundle) slash(t *testing.T, u discordfake.User, sub string, opts ...discordfake.Option) (*discordfake.Interaction, discordfake.Delivery) {
	t.Helper()
	it := &discordfake.Interaction{Type: discordfake.TypeCommand, User: u, Data: discordfake.Slash(sub, opts...)}
	return it, b.deliver(t, it)
}

func (b *testBundle) click(t *testing.T, u discordfake.User, msg discordfake.Message, label string) (*discordfake.Interaction, discordfake.Delivery) {
	t.Helper()
	id := msg.Button(label)
	require.NotEmpty(t, id, "no button %q on message %q (buttons %v)", label, msg.Text(), msg.Buttons())
	it := &discordfake.Interaction{Type: discordfake.TypeComponent, User: u, Data: discordfake.Click(id), Message: msg.ID, ChannelID: msg.ChannelID}
	return it, b.deliver(t, it)
}

func (b *testBundle) original(t *testing.T, it *discordfake.Interaction) discordfake.Message {
	t.Helper()
	m, ok := b.fake.Original(it.Token)
	require.True(t, ok, "interaction %s has no original message", it.ID)
	return m
}

// assertNoLeaks checks that neither the bot token nor any interaction
// token reached the logs.
func (b *testBundle) assertNoLeaks(t *testing.T) {
	logs := b.logs.String()
	require.NotContains(t, logs, botToken)
	require.NotContains(t, logs, "itok-")
	require.NotContains(t, logs, "s3cret-pa55")
}

// last returns the last message whose text contains s.
func (b *testBundle) last(t *testing.T, s string) discordfake.Message {
	t.Helper()
	msgs := b.fake.Messages(channel)
	for i := len(msgs) - 1; i >= 0; i-- {
		if strings.Contains(msgs[i].Text(), s) {
			return msgs[i]
		}
	}
	t.Fatalf("no message contains %q", s)
	return discordfake.Message{}
}

// lastPublic returns the last non-ephemeral message whose text contains s.
func (b *testBundle) lastPublic(t *testing.T, s string) discordfake.Message {
	t.Helper()
	msgs := b.fake.Messages(channel)
	for i := len(msgs) - 1; i >= 0; i-- {
		if !msgs[i].Ephemeral() && strings.Contains(msgs[i].Text(), s) {
			return msgs[i]
		}
	}
	t.Fatalf("no public message contains %q", s)
	return discordfake.Message{}
}
