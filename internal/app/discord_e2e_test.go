package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/examples/templates"
	"github.com/lxcbot/lxcbot/internal/adapters/discord"
	"github.com/lxcbot/lxcbot/internal/adapters/discord/discordfake"
	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/pvesim/simenv"
	"github.com/lxcbot/lxcbot/internal/secret"
	"github.com/lxcbot/lxcbot/internal/store"
)

const (
	dcAppID    = "910000000000000001"
	dcBotToken = "bot-token-e2e.must-never-leak"
	dcGuild    = "710000000000000001"
	dcChannel  = "510000000000000001"
)

// Discord users of these tests: olive operates, vic only views.
var (
	olive = discordfake.User{ID: "110000000000000001", Name: "olive"}
	vic   = discordfake.User{ID: "110000000000000002", Name: "vic"}
)

func discordPrincipal(u discordfake.User) provision.Principal {
	return provision.Principal{Platform: provision.PlatformDiscord, UserID: u.ID, Name: u.Name}
}

// settableClock is the adapter's clock: signature windows and interaction
// token ages follow it, so a test can let 15 minutes pass at once.
type settableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *settableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *settableClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// discordBundle is the assembled bot behind the Discord HTTP interactions
// endpoint, talking REST to the Discord fake.
type discordBundle struct {
	app      *App
	sim      *simenv.Env
	fake     *discordfake.Server
	ad       *discord.Adapter
	endpoint string
	clock    *settableClock
}

// setupDiscord builds the bot on Postgres, redis-server and the simulated
// cluster with the example templates, and the Discord adapter the way
// NewDiscord does, plus a clock the test controls. The worker is the
// test's to start.
func setupDiscord(t *testing.T) *discordBundle {
	t.Helper()
	sim := startSim(t)
	a := newApp(t, appOptions{templates: templates.FS, nodes: sim.Nodes(),
		roles: config.Roles{Operators: []provision.Principal{discordPrincipal(olive)},
			Viewers: []provision.Principal{discordPrincipal(vic)}}})
	fake := discordfake.New(dcAppID, dcBotToken)
	t.Cleanup(fake.Close)
	clk := &settableClock{t: time.Now()}
	ad, err := discord.New(discord.Config{AppID: dcAppID, BotToken: secret.String(dcBotToken),
		PublicKey: fake.Signer.PublicKeyHex(), APIURL: fake.APIURL(), Router: a.Router(), Dedupe: a.Deduper(),
		Store: discord.NewRedisStore(a.Redis()), Log: slog.New(slog.DiscardHandler), Clock: clk,
		EditInterval: 5 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(ad.Close)
	srv := httptest.NewServer(ad.Handler())
	t.Cleanup(srv.Close)
	return &discordBundle{app: a, sim: sim, fake: fake, ad: ad, endpoint: srv.URL, clock: clk}
}

// startWorker runs the app's worker until the test ends.
func (b *discordBundle) startWorker(t *testing.T) { runWorker(t, b.app) }

// send delivers it signed at the adapter's time and returns the endpoint's
// answer, without waiting for the work it starts.
func (b *discordBundle) send(t *testing.T, it *discordfake.Interaction) discordfake.Delivery {
	t.Helper()
	if it.Type != discordfake.TypePing {
		if it.GuildID == "" {
			it.GuildID = dcGuild
		}
		if it.ChannelID == "" {
			it.ChannelID = dcChannel
		}
	}
	d, err := b.fake.Deliver(context.Background(), b.endpoint, it, b.clock.Now())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, d.Status, string(d.Body))
	return d
}

// deliver sends it and waits for every piece of work it started, job
// followers included.
func (b *discordBundle) deliver(t *testing.T, it *discordfake.Interaction) discordfake.Delivery {
	t.Helper()
	d := b.send(t, it)
	b.ad.Wait()
	return d
}

func (b *discordBundle) slash(t *testing.T, u discordfake.User, sub string, opts ...discordfake.Option) (*discordfake.Interaction, discordfake.Delivery) {
	t.Helper()
	it := &discordfake.Interaction{Type: discordfake.TypeCommand, User: u, Data: discordfake.Slash(sub, opts...)}
	return it, b.deliver(t, it)
}

func (b *discordBundle) clickOn(t *testing.T, u discordfake.User, msg discordfake.Message, label string) *discordfake.Interaction {
	t.Helper()
	require.NotEmpty(t, msg.Button(label), "no button %q on %q (buttons %v)", label, msg.Text(), msg.Buttons())
	return &discordfake.Interaction{Type: discordfake.TypeComponent, User: u, Data: discordfake.Click(msg.Button(label)),
		Message: msg.ID, ChannelID: msg.ChannelID}
}

func (b *discordBundle) click(t *testing.T, u discordfake.User, msg discordfake.Message, label string) (*discordfake.Interaction, discordfake.Delivery) {
	t.Helper()
	it := b.clickOn(t, u, msg, label)
	return it, b.deliver(t, it)
}

func (b *discordBundle) original(t *testing.T, it *discordfake.Interaction) discordfake.Message {
	t.Helper()
	m, ok := b.fake.Original(it.Token)
	require.True(t, ok, "interaction %s has no original message", it.ID)
	return m
}

// public returns the channel's non-ephemeral messages whose text contains s.
func (b *discordBundle) public(s string) []discordfake.Message {
	var out []discordfake.Message
	for _, m := range b.fake.Messages(dcChannel) {
		if !m.Ephemeral() && strings.Contains(m.Text(), s) {
			out = append(out, m)
		}
	}
	return out
}

// lastFor returns the newest message of user-facing text s in the channel.
func (b *discordBundle) lastFor(t *testing.T, s string) discordfake.Message {
	t.Helper()
	msgs := b.fake.Messages(dcChannel)
	for i := len(msgs) - 1; i >= 0; i-- {
		if strings.Contains(msgs[i].Text(), s) {
			return msgs[i]
		}
	}
	require.FailNow(t, "no message contains "+s)
	return discordfake.Message{}
}

func (b *discordBundle) container(t *testing.T, hostname string) provision.Container {
	t.Helper()
	ct, err := b.app.Store().FindContainer(context.Background(), hostname)
	require.NoError(t, err)
	return ct
}

func (b *discordBundle) simStatus(t *testing.T, vmid int) string {
	t.Helper()
	node, ok := b.sim.Cluster.FindContainer(vmid)
	require.True(t, ok, "container %d is not on the simulator", vmid)
	c, ok := b.sim.Cluster.Container(node, vmid)
	require.True(t, ok)
	return c.Status
}

// plan runs /lxc create with options and returns the private plan.
func (b *discordBundle) plan(t *testing.T, host string) discordfake.Message {
	t.Helper()
	it, d := b.slash(t, olive, "create", discordfake.Str("template", "nginx-web"), discordfake.Str("hostname", host),
		discordfake.Str("node", "pve1"))
	require.Equal(t, 5, d.Response.Type, "a command is deferred")
	plan := b.original(t, it)
	require.True(t, plan.Ephemeral(), "the plan is private")
	require.Contains(t, plan.Text(), "Create "+host+" from nginx-web?")
	return plan
}

// TestDiscordCreatesAndManagesOnTheRealBackend drives the Discord HTTP
// interactions endpoint against the assembled bot: a job card followed to
// ready with a thread of phases, Create delivered twice making one
// container, stop with its confirm step, a viewer refused, credentials kept
// private, and delete through the hostname modal.
func TestDiscordCreatesAndManagesOnTheRealBackend(t *testing.T) {
	b := setupDiscord(t)
	b.startWorker(t)
	ctx := context.Background()

	ping := b.deliver(t, &discordfake.Interaction{Type: discordfake.TypePing})
	require.Equal(t, 1, ping.Response.Type, "PING is answered with PONG")

	plan := b.plan(t, "web1")
	// The same press delivered twice (a retry of one interaction) acts once.
	press := b.clickOn(t, olive, plan, "Create")
	require.Equal(t, 6, b.send(t, press).Response.Type, "a button press is a deferred update")
	again := *press
	b.send(t, &again)
	b.ad.Wait()

	all, err := b.app.Store().ListContainers(ctx, store.ContainerFilter{IncludeDeleted: true})
	require.NoError(t, err)
	require.Len(t, all, 1, "one container for a repeated delivery")
	ct := all[0]
	require.Equal(t, provision.StateReady, ct.State)
	require.Equal(t, "pve1", ct.NodeName)
	require.Equal(t, discordPrincipal(olive).UserID, ct.Owner.UserID)

	closed := b.original(t, press)
	require.Contains(t, closed.Text(), "see the channel", "the plan is closed")
	cards := b.public("web1")
	require.Len(t, cards, 1, "one job card")
	card := cards[0]
	require.Contains(t, card.Text(), "web1 is ready")
	require.Positive(t, card.Edits, "the card is edited in place")
	var tokenEdits int
	for _, c := range b.fake.Calls() {
		if c.Method == http.MethodPatch && c.Route == "webhooks/{app}/{token}/messages/{message}" {
			tokenEdits++
		}
	}
	require.Positive(t, tokenEdits, "edits go through the interaction token while it lives")

	name, ok := b.fake.Thread(card.ID)
	require.True(t, ok, "the job card has a thread")
	require.Equal(t, "Creating web1", name)
	var thread []string
	for _, m := range b.fake.Messages(card.ID) {
		thread = append(thread, m.Text())
	}
	for _, p := range provision.Phases {
		if p == provision.PhaseReady {
			continue
		}
		n := 0
		for _, line := range thread {
			if strings.Contains(line, string(p)+" finished") {
				n++
			}
		}
		require.Equal(t, 1, n, "one thread message for phase %s in %q", p, thread)
	}
	require.Contains(t, thread[len(thread)-1], "🟢 ready at "+ct.IP)

	// Credentials: only ever ephemeral.
	const password = "Pa55-e2e-must-stay-private"
	require.NoError(t, b.app.Store().ReplaceCredentials(ctx, ct.ID, []provision.Credential{
		{ContainerID: ct.ID, Service: "nginx", Key: "ADMIN_PASSWORD", Value: secret.String(password)}}))
	creds, d := b.slash(t, olive, "creds", discordfake.Str("ct", "web1"))
	require.JSONEq(t, `{"flags":64}`, string(d.Response.Data))
	shown := b.original(t, creds)
	require.True(t, shown.Ephemeral())
	require.Contains(t, shown.Text(), password)
	b.requireOnlyEphemeral(t, password)

	// Stop: a confirm step, then stopped on the simulator.
	show, _ := b.slash(t, olive, "show", discordfake.Str("ct", "web1"))
	stop, d := b.click(t, olive, b.original(t, show), "Stop")
	require.Equal(t, 4, d.Response.Type, "the confirm step is answered at once")
	prompt := b.original(t, stop)
	require.True(t, prompt.Ephemeral())
	require.Contains(t, prompt.Text(), "Stop web1?")
	require.Equal(t, "running", b.simStatus(t, ct.VMID), "nothing happens before confirming")
	_, d = b.click(t, olive, prompt, "Stop")
	require.Equal(t, 6, d.Response.Type)
	require.Equal(t, "stopped", b.simStatus(t, ct.VMID))
	require.NotEmpty(t, b.public("stopped"), "the result is posted for everyone")

	// A viewer pressing Stop on olive's container is refused privately.
	b.slash(t, olive, "start", discordfake.Str("ct", "web1"))
	require.Equal(t, "running", b.simStatus(t, ct.VMID))
	view, _ := b.slash(t, vic, "show", discordfake.Str("ct", "web1"))
	vstop, _ := b.click(t, vic, b.original(t, view), "Stop")
	vprompt := b.original(t, vstop)
	b.click(t, vic, vprompt, "Stop")
	refusal, _ := b.fake.Message(vprompt.ID)
	require.Contains(t, refusal.Text(), "you need the operator role", "the refusal takes the spent question's place")
	require.True(t, refusal.Ephemeral(), "only the presser sees the refusal")
	require.Empty(t, refusal.Buttons())
	require.Equal(t, "running", b.simStatus(t, ct.VMID), "the viewer changed nothing")
	require.Equal(t, provision.StateReady, b.container(t, "web1").State)

	// A shutdown the guest ignores takes longer than the acknowledgement
	// may wait: the press is deferred first and the result posted after.
	require.NoError(t, b.sim.Cluster.SetIgnoreShutdown(ct.VMID, true))
	sd, _ := b.slash(t, olive, "shutdown", discordfake.Str("ct", "web1"))
	ask := b.original(t, sd)
	require.True(t, ask.Ephemeral())
	_, d = b.click(t, olive, ask, "Shut down web1")
	require.Equal(t, 6, d.Response.Type)
	require.Equal(t, "stopped", b.simStatus(t, ct.VMID))
	forced := b.public("forced stop")
	require.Len(t, forced, 1, "the result says the stop was forced")
	asked, _ := b.fake.Message(ask.ID)
	require.Empty(t, asked.Buttons(), "the question is closed: %q", asked.Text())

	// Delete through the hostname modal: a wrong name deletes nothing.
	_, d = b.slash(t, olive, "delete", discordfake.Str("ct", "web1"))
	require.Equal(t, 9, d.Response.Type, "delete opens a modal")
	md, err := discordfake.ParseModal(d.Response.Data)
	require.NoError(t, err)
	require.Len(t, md.Inputs, 1)
	require.Equal(t, "Type web1 to confirm", md.Inputs[0].Label)
	wrong := &discordfake.Interaction{Type: discordfake.TypeModalSubmit, User: olive,
		Data: discordfake.Submit(md.CustomID, map[string]string{md.Inputs[0].CustomID: "web2"})}
	b.deliver(t, wrong)
	fix := b.original(t, wrong)
	require.True(t, fix.Ephemeral())
	require.Contains(t, fix.Text(), "type web1 exactly")
	_, onSim := b.sim.Guest(ct.VMID)
	require.True(t, onSim, "a wrong hostname deletes nothing")
	// The fix button reopens the form, as a modal cannot stay open.
	_, d = b.click(t, olive, fix, "Fix and submit again")
	require.Equal(t, 9, d.Response.Type)
	md, err = discordfake.ParseModal(d.Response.Data)
	require.NoError(t, err)
	require.Len(t, md.Inputs, 1)
	right := &discordfake.Interaction{Type: discordfake.TypeModalSubmit, User: olive, Message: fix.ID,
		Data: discordfake.Submit(md.CustomID, map[string]string{md.Inputs[0].CustomID: "web1"})}
	b.deliver(t, right)
	after, err := b.app.Store().GetContainer(ctx, ct.ID)
	require.NoError(t, err)
	require.Equal(t, provision.StateDeleted, after.State)
	_, onSim = b.sim.Guest(ct.VMID)
	require.False(t, onSim, "deleted on Proxmox too")
	require.NotEmpty(t, b.public("deleted"))

	b.requireOnlyEphemeral(t, password)
	b.requireNoTokens(t)
}

// requireOnlyEphemeral checks every call the fake recorded, every
// interaction response and every message: s appears only in ephemeral ones.
func (b *discordBundle) requireOnlyEphemeral(t *testing.T, s string) {
	t.Helper()
	for _, c := range b.fake.Calls() {
		if !bytes.Contains(c.Body, []byte(s)) {
			continue
		}
		require.True(t, strings.HasPrefix(c.Route, "webhooks/"), "%s %s carries it", c.Method, c.Route)
		var body struct{ Flags int }
		require.NoError(t, json.Unmarshal(c.Body, &body))
		require.Equal(t, 64, body.Flags&64, "%s %s carries it without the ephemeral flag", c.Method, c.Route)
	}
	for _, r := range b.fake.Responses() {
		if bytes.Contains(r.Data, []byte(s)) {
			var data struct{ Flags int }
			require.NoError(t, json.Unmarshal(r.Data, &data))
			require.Equal(t, 64, data.Flags&64, "an interaction response of type %d carries it", r.Type)
		}
	}
	for _, m := range b.fake.AllMessages() {
		if strings.Contains(m.Text(), s) {
			require.True(t, m.Ephemeral(), "message %s shows it", m.ID)
		}
	}
}

// requireNoTokens checks that no bot token went anywhere but the
// Authorization header.
func (b *discordBundle) requireNoTokens(t *testing.T) {
	t.Helper()
	for _, c := range b.fake.Calls() {
		require.NotContains(t, string(c.Body), dcBotToken)
		require.NotContains(t, c.Path, dcBotToken)
	}
}

// TestDiscordAutocompleteOffersAtMost25Containers types into the ct option
// with more matching records in Postgres than Discord accepts choices.
func TestDiscordAutocompleteOffersAtMost25Containers(t *testing.T) {
	b := setupDiscord(t)
	ctx := context.Background()
	for i := range 30 {
		c := &provision.Container{Hostname: fmt.Sprintf("app%02d", i), TemplateName: "nginx-web", NodeName: "pve1",
			Owner: discordPrincipal(olive), Origin: provision.Origin{Platform: provision.PlatformDiscord}}
		require.NoError(t, b.app.Store().CreateContainer(ctx, c))
	}
	other := &provision.Container{Hostname: "db1", TemplateName: "postgres-db", NodeName: "pve2", Owner: discordPrincipal(olive),
		Origin: provision.Origin{Platform: provision.PlatformDiscord}}
	require.NoError(t, b.app.Store().CreateContainer(ctx, other))

	choices := func(u discordfake.User, sub string, opt discordfake.Option) []string {
		d := b.deliver(t, &discordfake.Interaction{Type: discordfake.TypeAutocomplete, User: u, Data: discordfake.Slash(sub, opt)})
		require.Equal(t, 8, d.Response.Type)
		var data struct {
			Choices []struct{ Name, Value string }
		}
		require.NoError(t, json.Unmarshal(d.Response.Data, &data))
		var out []string
		for _, c := range data.Choices {
			require.NotEmpty(t, c.Name)
			out = append(out, c.Value)
		}
		return out
	}
	got := choices(olive, "show", discordfake.Focused("ct", "app"))
	require.Len(t, got, 25, "Discord refuses more than 25 choices")
	for _, v := range got {
		require.True(t, strings.HasPrefix(v, "app"), v)
	}
	require.Len(t, choices(vic, "stop", discordfake.Focused("ct", "")), 25)
	require.Equal(t, []string{"db1"}, choices(vic, "show", discordfake.Focused("ct", "db")))
	require.Equal(t, []string{"nginx-web"}, choices(olive, "create", discordfake.Focused("template", "ngi")))
	require.Equal(t, []string{"pve1", "pve2"}, choices(olive, "create", discordfake.Focused("node", "pve")))
	require.Empty(t, choices(discordfake.User{ID: "110000000000000099", Name: "stranger"}, "show", discordfake.Focused("ct", "app")),
		"someone without a role sees no names")
}

// TestDiscordJobCardOutlivesTheInteractionToken lets 15 minutes pass between
// pressing Create and the job running: every later card edit goes through
// the bot token's channel message endpoint.
func TestDiscordJobCardOutlivesTheInteractionToken(t *testing.T) {
	b := setupDiscord(t)
	plan := b.plan(t, "late1")
	press := b.clickOn(t, olive, plan, "Create")
	b.send(t, press)
	// No worker runs yet: the job waits in the queue while the card is
	// posted through the interaction token.
	require.Eventually(t, func() bool { return len(b.public("late1")) == 1 }, 30*time.Second, 10*time.Millisecond)
	card := b.public("late1")[0]
	before := len(b.fake.Calls())

	b.clock.Advance(16 * time.Minute)
	b.fake.ExpireTokens()
	b.startWorker(t)
	b.ad.Wait()

	card, _ = b.fake.Message(card.ID)
	require.Contains(t, card.Text(), "late1 is ready")
	require.Equal(t, provision.StateReady, b.container(t, "late1").State)
	var botEdits int
	for _, c := range b.fake.Calls()[before:] {
		require.False(t, strings.HasPrefix(c.Route, "webhooks/"), "no webhook call after the token expired: %s %s", c.Method, c.Route)
		require.Less(t, c.Status, 300, "%s %s", c.Method, c.Route)
		if c.Method == http.MethodPatch && c.Route == "channels/{channel}/messages/{message}" {
			require.True(t, c.Bot)
			require.Equal(t, "channels/"+dcChannel+"/messages/"+card.ID, c.Path)
			botEdits++
		}
	}
	require.Positive(t, botEdits, "the card is edited with the bot token")
	thread := b.fake.Messages(card.ID)
	require.NotEmpty(t, thread)
	require.Contains(t, thread[len(thread)-1].Text(), "🟢 ready")

	// A press after the 15 minutes is a new interaction with a fresh
	// token: Show, then Delete on the card it shows, through the modal.
	_, d := b.click(t, olive, card, "Show")
	require.Equal(t, 6, d.Response.Type)
	show := b.lastFor(t, "Owner")
	require.True(t, show.Ephemeral())
	_, d = b.click(t, olive, show, "Delete")
	require.Equal(t, 9, d.Response.Type, "the Delete button opens the hostname modal")
	md, err := discordfake.ParseModal(d.Response.Data)
	require.NoError(t, err)
	require.Len(t, md.Inputs, 1)
	require.Equal(t, "Type late1 to confirm", md.Inputs[0].Label)
	ct := b.container(t, "late1")
	b.deliver(t, &discordfake.Interaction{Type: discordfake.TypeModalSubmit, User: olive, Message: show.ID,
		Data: discordfake.Submit(md.CustomID, map[string]string{md.Inputs[0].CustomID: "late1"})})
	after, err := b.app.Store().GetContainer(context.Background(), ct.ID)
	require.NoError(t, err)
	require.Equal(t, provision.StateDeleted, after.State)
	_, onSim := b.sim.Guest(ct.VMID)
	require.False(t, onSim)
	require.NotEmpty(t, b.public("deleted — by olive"), "the deletion is announced")
}

// TestDiscordCancelFromTheJobCardRepliesInItsThread cancels a queued
// creation with the card's button: the confirm step asks privately, and
// the answer goes into the job's thread, where the card's story is told.
func TestDiscordCancelFromTheJobCardRepliesInItsThread(t *testing.T) {
	b := setupDiscord(t)
	plan := b.plan(t, "gone1")
	b.send(t, b.clickOn(t, olive, plan, "Create"))
	require.Eventually(t, func() bool { return len(b.public("gone1")) == 1 }, 30*time.Second, 10*time.Millisecond)
	card := b.public("gone1")[0]
	ask := b.clickOn(t, olive, card, "Cancel")
	b.send(t, ask)
	prompt := b.original(t, ask)
	require.True(t, prompt.Ephemeral())
	b.send(t, b.clickOn(t, olive, prompt, "Cancel creation"))
	b.startWorker(t)
	b.ad.Wait()

	var thread []string
	for _, m := range b.fake.Messages(card.ID) {
		thread = append(thread, m.Text())
	}
	require.Contains(t, strings.Join(thread, "\n"), "cancelling the creation of gone1")
	require.Contains(t, thread[len(thread)-1], "cancelled")
	require.Empty(t, b.public("cancelling the creation"), "the answer is in the thread, not the channel")
	closed, _ := b.fake.Message(prompt.ID)
	require.Empty(t, closed.Buttons(), "the question is closed: %q", closed.Text())
	card, _ = b.fake.Message(card.ID)
	require.Contains(t, card.Text(), "gone1 cancelled")
	require.Equal(t, provision.StateCancelled, b.container(t, "gone1").State)
}
