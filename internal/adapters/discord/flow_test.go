package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/adapters/discord/discordfake"
	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/commands/commandstest"
	"github.com/lxcbot/lxcbot/internal/provision"
)

func TestPingIsAnsweredWithPong(t *testing.T) {
	t.Parallel()
	b := setup(t)
	d := b.deliver(t, &discordfake.Interaction{Type: discordfake.TypePing})
	require.Equal(t, http.StatusOK, d.Status)
	require.Equal(t, 1, d.Response.Type)
}

func TestUnverifiedRequestsAreRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	body := []byte(`{"id":"1","type":1}`)
	now := b.clock.Now()
	other := discordfake.NewSigner()
	cases := map[string]http.Header{
		"bad signature":   withHeader(b.fake.Signer.Headers(now, body), "X-Signature-Ed25519", strings.Repeat("ab", 64)),
		"wrong key":       other.Headers(now, body),
		"stale timestamp": b.fake.Signer.Headers(now.Add(-6*time.Minute), body),
		"future":          b.fake.Signer.Headers(now.Add(6*time.Minute), body),
		"no signature":    withHeader(b.fake.Signer.Headers(now, body), "X-Signature-Ed25519", ""),
		"not hex":         withHeader(b.fake.Signer.Headers(now, body), "X-Signature-Ed25519", "zz"),
	}
	for name, h := range cases {
		d, err := b.fake.DeliverRaw(ctx, b.endpoint, "", body, h)
		require.NoError(t, err, name)
		require.Equal(t, http.StatusUnauthorized, d.Status, name)
	}
	// A body signed for another payload.
	h := b.fake.Signer.Headers(now, body)
	d, err := b.fake.DeliverRaw(ctx, b.endpoint, "", []byte(`{"id":"2","type":1}`), h)
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, d.Status)
	// Within the window on both sides it passes.
	d, err = b.fake.DeliverRaw(ctx, b.endpoint, "", body, b.fake.Signer.Headers(now.Add(-4*time.Minute), body))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, d.Status)

	big := bytes.Repeat([]byte("x"), 1<<20+1)
	d, err = b.fake.DeliverRaw(ctx, b.endpoint, "", big, b.fake.Signer.Headers(now, big))
	require.NoError(t, err)
	require.Equal(t, http.StatusRequestEntityTooLarge, d.Status)
}

func withHeader(h http.Header, k, v string) http.Header {
	h.Set(k, v)
	return h
}

// createJob runs /lxc create with options, then presses Create on the
// plan; it returns the job card message.
func createJob(t *testing.T, b *testBundle, host string, before func()) discordfake.Message {
	t.Helper()
	it, d := b.slash(t, opUser, "create", discordfake.Str("template", "nginx"), discordfake.Str("hostname", host),
		discordfake.Str("node", "pve2"), discordfake.Int("cores", 2))
	require.Equal(t, 5, d.Response.Type, "a command is deferred")
	require.JSONEq(t, `{"flags":64}`, string(d.Response.Data), "the plan is private")
	plan := b.original(t, it)
	require.True(t, plan.Ephemeral())
	require.Contains(t, plan.Text(), "Create "+host+" from nginx?")
	if before != nil {
		before()
	}
	click, d := b.click(t, opUser, plan, "Create")
	require.Equal(t, 6, d.Response.Type, "a button press is a deferred update")
	if before == nil { // a rate-limit storm may exhaust this edit's retries
		closed := b.original(t, click)
		require.Contains(t, closed.Text(), "see the channel")
	}
	return b.lastPublic(t, host)
}

func TestCreateFollowsTheJobToReady(t *testing.T) {
	t.Parallel()
	b := setup(t)
	card := createJob(t, b, "new1", nil)
	require.Contains(t, card.Text(), "🟢 new1 is ready")
	require.Contains(t, card.Text(), "pve2")
	require.Equal(t, []string{"Show", "Services", "Credentials"}, card.Buttons())
	require.Positive(t, card.Edits)

	name, ok := b.fake.Thread(card.ID)
	require.True(t, ok, "the job card has a thread")
	require.Equal(t, "Creating new1", name)
	var thread []string
	for _, m := range b.fake.Messages(card.ID) {
		thread = append(thread, m.Text())
	}
	all := strings.Join(thread, "\n")
	for _, phase := range []string{"reserve finished", "create finished", "scripts finished", "⚠ packages", "🟢 ready at 10.0.0.110"} {
		require.Contains(t, all, phase)
	}
	ct, err := b.mem.Container(context.Background(), "new1")
	require.NoError(t, err)
	require.Equal(t, provision.StateReady, ct.State)
	require.Equal(t, "pve2", ct.NodeName)
	require.Equal(t, 2, ct.Request.Cores)
}

func TestStopAsksThenStops(t *testing.T) {
	t.Parallel()
	b := setup(t)
	it, _ := b.slash(t, adminUser, "show", discordfake.Str("ct", "web1"))
	show := b.original(t, it)
	confirm, d := b.click(t, adminUser, show, "Stop")
	require.Equal(t, 4, d.Response.Type, "the confirm step is answered at once")
	prompt := b.original(t, confirm)
	require.True(t, prompt.Ephemeral())
	require.Contains(t, prompt.Text(), "Stop web1?")
	st, err := b.mem.Status(context.Background(), "ct-web1")
	require.NoError(t, err)
	require.Equal(t, "running", st.Status, "nothing happens before confirming")

	_, d = b.click(t, adminUser, prompt, "Stop")
	require.Equal(t, 6, d.Response.Type)
	st, err = b.mem.Status(context.Background(), "ct-web1")
	require.NoError(t, err)
	require.Equal(t, "stopped", st.Status)
	done := b.lastPublic(t, "stopped (forced)")
	require.Contains(t, done.Text(), "web1")
}

func TestConfirmStepCanBeCancelled(t *testing.T) {
	t.Parallel()
	b := setup(t)
	it, _ := b.slash(t, adminUser, "show", discordfake.Str("ct", "web1"))
	confirm, _ := b.click(t, adminUser, b.original(t, it), "Restart")
	prompt := b.original(t, confirm)
	_, d := b.click(t, adminUser, prompt, "Keep it running")
	require.Equal(t, 7, d.Response.Type)
	m, _ := b.fake.Message(prompt.ID)
	require.Contains(t, m.Text(), "Not done")
}

func TestOperatorCannotStopSomeoneElsesContainer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// A public card showing web2 (bob's), pressed by another operator.
	msgID := b.fake.AddMessage(channel, "web2")
	it := &discordfake.Interaction{Type: discordfake.TypeComponent, User: opUser, Message: msgID,
		Data: discordfake.Click("a|" + commands.ActStop + "|ct-web2")}
	d := b.deliver(t, it)
	require.Equal(t, 6, d.Response.Type)
	st, err := b.mem.Status(context.Background(), "ct-web2")
	require.NoError(t, err)
	require.Equal(t, "running", st.Status)
	var refusal *discordfake.Message
	for _, m := range b.fake.Messages(channel) {
		if strings.Contains(m.Text(), "belongs to bob") {
			refusal = &m
		}
	}
	require.NotNil(t, refusal, "the refusal is posted")
	require.True(t, refusal.Ephemeral(), "only the presser sees the refusal")
	orig, _ := b.fake.Message(msgID)
	require.Equal(t, "web2", orig.Text(), "the card itself is left alone")
}

func TestAutocompleteOffersAtMost25Choices(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	for i := range 30 {
		_, err := b.mem.Create(ctx, commandstest.Operator, provision.Origin{}, provision.CreateRequest{Template: "nginx", Hostname: fmt.Sprintf("app%02d", i)}, "")
		require.NoError(t, err)
	}
	choices := func(sub string, opt discordfake.Option) []choice {
		d := b.deliver(t, &discordfake.Interaction{Type: discordfake.TypeAutocomplete, User: opUser, Data: discordfake.Slash(sub, opt)})
		require.Equal(t, 8, d.Response.Type)
		var data struct{ Choices []choice }
		require.NoError(t, json.Unmarshal(d.Response.Data, &data))
		return data.Choices
	}
	got := choices("show", discordfake.Focused("ct", "app"))
	require.Len(t, got, 25)
	for _, c := range got {
		require.True(t, strings.HasPrefix(c.Value, "app"), c.Value)
	}
	got = choices("stop", discordfake.Focused("ct", "web"))
	require.Equal(t, []string{"web1", "web2"}, values(got))
	got = choices("template show", discordfake.Focused("name", "po"))
	require.Equal(t, []string{"postgres"}, values(got))
	got = choices("create", discordfake.Focused("node", "pve"))
	require.Equal(t, []string{"pve1", "pve2"}, values(got))
}

func values(cs []choice) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Value)
	}
	return out
}

func TestRepeatedDeliveryActsOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	it, _ := b.slash(t, opUser, "create", discordfake.Str("template", "nginx"), discordfake.Str("hostname", "twice"))
	plan := b.original(t, it)
	click := &discordfake.Interaction{Type: discordfake.TypeComponent, User: opUser, Data: discordfake.Click(plan.Button("Create")), Message: plan.ID}
	b.deliver(t, click)
	again := *click // same id and token
	b.deliver(t, &again)
	// And once more over the gateway.
	b.a.HandleGatewayInteraction(b.fake.Payload(&again))
	b.a.Wait()

	cts, err := b.mem.Containers(context.Background(), commands.ContainerFilter{})
	require.NoError(t, err)
	n := 0
	for _, c := range cts {
		if c.Hostname == "twice" {
			n++
		}
	}
	require.Equal(t, 1, n)
	cards := 0
	for _, m := range b.fake.Messages(channel) {
		if !m.Ephemeral() && strings.Contains(m.Text(), "twice is ready") {
			cards++
		}
	}
	require.Equal(t, 1, cards, "one job card")
}

// gated holds a job's progress until the test opens it.
type gated struct {
	*commandstest.Mem
	subscribed chan struct{}
	open       chan struct{}
}

func (g *gated) Subscribe(ctx context.Context, id, after string) (<-chan provision.ProgressEvent, error) {
	select {
	case g.subscribed <- struct{}{}:
	default:
	}
	select {
	case <-g.open:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.Mem.Subscribe(ctx, id, after)
}

func TestEditsUseTheBotTokenAfter15Minutes(t *testing.T) {
	t.Parallel()
	g := &gated{subscribed: make(chan struct{}, 1), open: make(chan struct{})}
	b := setup(t, setupOpts{backend: func(m *commandstest.Mem) commands.Backend { g.Mem = m; return g }})
	it, _ := b.slash(t, opUser, "create", discordfake.Str("template", "nginx"), discordfake.Str("hostname", "late1"))
	plan := b.original(t, it)
	click := &discordfake.Interaction{Type: discordfake.TypeComponent, User: opUser, Data: discordfake.Click(plan.Button("Create")), Message: plan.ID, GuildID: guildID, ChannelID: channel}
	_, err := b.fake.Deliver(context.Background(), b.endpoint, click, b.clock.Now())
	require.NoError(t, err)
	<-g.subscribed
	before := len(b.fake.Calls())
	b.clock.Advance(16 * time.Minute)
	b.fake.ExpireTokens()
	close(g.open)
	b.a.Wait()

	card := b.lastPublic(t, "late1")
	require.Contains(t, card.Text(), "🟢 late1 is ready")
	var botEdits int
	for _, c := range b.fake.Calls()[before:] {
		require.NotEqual(t, "webhooks/{app}/{token}/messages/@original", c.Route, "no token edits after expiry")
		require.NotEqual(t, http.StatusUnauthorized, c.Status)
		if c.Method == http.MethodPatch && c.Route == "channels/{channel}/messages/{message}" {
			require.True(t, c.Bot)
			botEdits++
		}
	}
	require.Positive(t, botEdits)
}

func TestRateLimitStormStillLandsTheFinalState(t *testing.T) {
	t.Parallel()
	for _, header := range []bool{false, true} {
		b := setup(t)
		host := fmt.Sprintf("storm%v", header)
		card := createJob(t, b, host, func() { b.fake.RateLimit(9, 0.01, header) })
		require.Contains(t, card.Text(), host+" is ready")
		thread := b.fake.Messages(card.ID)
		require.NotEmpty(t, thread)
		require.Contains(t, thread[len(thread)-1].Text(), "ready")
		limited := 0
		for _, c := range b.fake.Calls() {
			if c.Status == http.StatusTooManyRequests {
				limited++
			}
		}
		require.Equal(t, 9, limited)
	}
}

func TestCredentialsStayPrivate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	it, d := b.slash(t, adminUser, "creds", discordfake.Str("ct", "web1"))
	require.JSONEq(t, `{"flags":64}`, string(d.Response.Data))
	m := b.original(t, it)
	require.True(t, m.Ephemeral())
	require.Contains(t, m.Text(), "s3cret-pa55")
	again, _ := b.click(t, adminUser, m, "Reveal again")
	_ = again
	seen := 0
	for _, c := range b.fake.Calls() {
		if !bytes.Contains(c.Body, []byte("s3cret-pa55")) {
			continue
		}
		require.True(t, strings.HasPrefix(c.Route, "webhooks/"), "credentials only through the interaction webhook: %s", c.Route)
		var body struct{ Flags int }
		require.NoError(t, json.Unmarshal(c.Body, &body))
		require.Equal(t, 64, body.Flags&64, "credentials only in ephemeral messages")
		// An edit that raced the deferred reply gets 404 and is retried; only
		// delivered messages count.
		if c.Status < 300 {
			seen++
		}
	}
	require.Equal(t, 2, seen, "shown, then revealed again")
	for _, msg := range b.fake.AllMessages() {
		if strings.Contains(msg.Text(), "s3cret-pa55") {
			require.True(t, msg.Ephemeral())
		}
	}
}

func TestGatewayInteractionsAnswerThroughTheCallback(t *testing.T) {
	t.Parallel()
	b := setup(t)
	it := &discordfake.Interaction{Type: discordfake.TypeCommand, User: opUser, GuildID: guildID, ChannelID: channel, Data: discordfake.Slash("list")}
	b.a.HandleGatewayInteraction(b.fake.Payload(it))
	b.a.Wait()
	var routes []string
	for _, c := range b.fake.Calls() {
		routes = append(routes, c.Method+" "+c.Route)
	}
	require.Equal(t, []string{"POST interactions/{id}/{token}/callback", "PATCH webhooks/{app}/{token}/messages/@original"}, routes)
	require.Contains(t, b.original(t, it).Text(), "Containers (3)")
}

func TestDeleteAsksForTheHostnameInAModal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, d := b.slash(t, adminUser, "delete", discordfake.Str("ct", "web2"))
	require.Equal(t, 9, d.Response.Type)
	md, err := discordfake.ParseModal(d.Response.Data)
	require.NoError(t, err)
	require.Len(t, md.Inputs, 1)
	require.Equal(t, "Type web2 to confirm", md.Inputs[0].Label)

	wrong := &discordfake.Interaction{Type: discordfake.TypeModalSubmit, User: adminUser, Data: discordfake.Submit(md.CustomID, map[string]string{"hostname": "web1"})}
	b.deliver(t, wrong)
	ct, err := b.mem.Container(context.Background(), "ct-web2")
	require.NoError(t, err)
	require.Equal(t, provision.StateReady, ct.State)
	fix := b.original(t, wrong)
	require.True(t, fix.Ephemeral())
	require.Contains(t, fix.Text(), "type web2 exactly")

	right := &discordfake.Interaction{Type: discordfake.TypeModalSubmit, User: adminUser, Data: discordfake.Submit(md.CustomID, map[string]string{"hostname": "web2"})}
	b.deliver(t, right)
	gone, _ := b.mem.Get("ct-web2")
	require.Equal(t, provision.StateDeleted, gone.State)
	require.Contains(t, b.lastPublic(t, "deleted with its disks").Text(), "web2")
}

func TestCreateFormAsksSelectsThenAModal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	it, d := b.slash(t, opUser, "create")
	require.Equal(t, 4, d.Response.Type, "select step first: modals cannot hold selects")
	step := b.original(t, it)
	require.True(t, step.Ephemeral())
	ids := step.CustomIDs()
	require.Len(t, ids, 5, "template, node, OS template selects and Continue, Cancel: %v", ids)

	pick := &discordfake.Interaction{Type: discordfake.TypeComponent, User: opUser, Message: step.ID, Data: discordfake.Choose(ids[0], "postgres")}
	d = b.deliver(t, pick)
	require.Equal(t, 6, d.Response.Type)

	step, _ = b.fake.Message(step.ID)
	goOn, d := b.click(t, opUser, step, "Continue")
	_ = goOn
	require.Equal(t, 9, d.Response.Type)
	md, err := discordfake.ParseModal(d.Response.Data)
	require.NoError(t, err)
	require.LessOrEqual(t, len(md.Inputs), 5)
	var packed string
	for _, in := range md.Inputs {
		if strings.HasPrefix(in.CustomID, "+") {
			packed = in.CustomID
		}
	}
	require.Equal(t, "+cores+memory+disk", packed)

	sub := &discordfake.Interaction{Type: discordfake.TypeModalSubmit, User: opUser, Message: step.ID,
		Data: discordfake.Submit(md.CustomID, map[string]string{"hostname": "db9", packed: "4 / 2048 /", "ip": "dhcp"})}
	b.deliver(t, sub)
	plan := b.last(t, "Create db9 from postgres?")
	require.True(t, plan.Ephemeral())
	require.Contains(t, plan.Text(), "4 cores")
	require.Contains(t, plan.Text(), "2048 MiB")
}

func TestRegisterSendsAValidCommandTree(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.a.Register(context.Background(), guildID))
	require.NoError(t, b.a.Register(context.Background(), ""))
	for _, g := range []string{guildID, ""} {
		raw := b.fake.Commands(g)
		require.NotEmpty(t, raw)
		require.Empty(t, discordfake.ValidateCommands(raw))
		var cmds []appCommand
		require.NoError(t, json.Unmarshal(raw, &cmds))
		require.Len(t, cmds, 1)
		root := cmds[0]
		require.Equal(t, "lxc", root.Name)
		byName := map[string]appCommand{}
		for _, o := range root.Options {
			byName[o.Name] = o
		}
		for _, grp := range []string{"template", "node", "role", "buckets"} {
			require.Equal(t, optGroup, byName[grp].Type, grp)
		}
		create := byName["create"]
		require.Equal(t, optSubcommand, create.Type)
		opts := map[string]appCommand{}
		for _, o := range create.Options {
			opts[o.Name] = o
		}
		require.True(t, opts["template"].Autocomplete)
		require.True(t, opts["node"].Autocomplete)
		require.Equal(t, optInteger, opts["cores"].Type)
		require.Equal(t, 1, *opts["cores"].MinValue)
		require.Equal(t, 512, *opts["cores"].MaxValue)
		require.True(t, byName["stop"].Options[0].Autocomplete)
		require.True(t, byName["stop"].Options[0].Required)
	}
	for _, c := range b.fake.Calls() {
		require.True(t, c.Bot)
		require.Equal(t, http.StatusOK, c.Status)
	}
}
