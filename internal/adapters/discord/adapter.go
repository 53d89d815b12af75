package discord

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/metrics"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/secret"
)

// Config configures the adapter.
type Config struct {
	AppID    string
	BotToken secret.String
	// PublicKey (64 hex characters) enables the HTTP interactions endpoint.
	PublicKey string
	// APIURL is the REST base (DISCORD_API_URL); empty = DefaultAPIURL.
	APIURL string
	Router *commands.Router
	Dedupe Deduper
	Store  Store
	// Cards records where each job card lives, so that Resume can pick it
	// up after a restart or on another replica; nil = not recorded.
	Cards CardStore
	Log   *slog.Logger
	// Clock tells the time for signature windows and interaction token
	// age; nil = wall clock.
	Clock provision.Clock
	// HTTPClient makes REST calls; nil = a client with a 15 s timeout.
	HTTPClient *http.Client
	// EditInterval spaces job card edits; 0 = one second.
	EditInterval time.Duration
	// MaxInFlight bounds interactions handled at once; 0 = 32.
	MaxInFlight int
	// MaxWatches bounds jobs followed at once; 0 = 64.
	MaxWatches int
	// MaxRetries bounds retries of a rate-limited REST call; 0 = 5.
	MaxRetries int
	// Metrics counts deliveries, ack latency and REST calls; nil = none.
	Metrics *metrics.Metrics
}

// Adapter is the Discord integration. Build it with New.
type Adapter struct {
	appID    string
	pubKey   ed25519.PublicKey
	router   *commands.Router
	dedupe   Deduper
	store    Store
	cards    CardStore
	log      *slog.Logger
	clock    provision.Clock
	rest     *rest
	metrics  *metrics.Metrics
	hc       *http.Client
	interval time.Duration

	sem     chan struct{}
	watches chan struct{}
	wg      sync.WaitGroup
	// base is the context of background work; Close cancels it.
	base context.Context
	stop context.CancelFunc

	// ackBudget is how long the core may take before the first response
	// goes out deferred; Discord allows three seconds in all.
	ackBudget time.Duration
	// workTimeout bounds completing one interaction.
	workTimeout time.Duration
}

// tokenLifetime is how long an interaction token may edit and follow up;
// a margin keeps edits from racing the expiry.
const (
	tokenLifetime = 15 * time.Minute
	tokenMargin   = 30 * time.Second
)

// New checks cfg and builds the adapter.
func New(cfg Config) (*Adapter, error) {
	if !isSnowflake(cfg.AppID) {
		return nil, errors.New("discord: the application id must be a Discord id")
	}
	if cfg.BotToken.IsZero() {
		return nil, errors.New("discord: the bot token is empty")
	}
	if cfg.Router == nil || cfg.Dedupe == nil || cfg.Store == nil {
		return nil, errors.New("discord: router, deduper and store are required")
	}
	a := &Adapter{
		appID: cfg.AppID, router: cfg.Router, dedupe: cfg.Dedupe, store: cfg.Store, cards: cfg.Cards,
		log: cfg.Log, clock: cfg.Clock, hc: cfg.HTTPClient, interval: cfg.EditInterval,
		ackBudget: 1500 * time.Millisecond, workTimeout: 2 * time.Minute,
	}
	if cfg.PublicKey != "" {
		k, err := ParsePublicKey(cfg.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("discord: %w", err)
		}
		a.pubKey = k
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.log = a.log.With("integration", "discord")
	if a.clock == nil {
		a.clock = provision.SystemClock{}
	}
	if a.hc == nil {
		a.hc = &http.Client{Timeout: 15 * time.Second}
	}
	if a.interval <= 0 {
		a.interval = time.Second
	}
	api := cfg.APIURL
	if api == "" {
		api = DefaultAPIURL
	}
	if !strings.HasSuffix(api, "/") {
		api += "/"
	}
	base, err := url.Parse(api)
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("discord: api url %q is not an absolute URL", api)
	}
	retries := cfg.MaxRetries
	if retries <= 0 {
		retries = 5
	}
	a.rest = &rest{base: base, hc: a.hc, token: cfg.BotToken, log: a.log, maxRetries: retries, maxWait: 30 * time.Second,
		metrics: cfg.Metrics}
	a.metrics = cfg.Metrics
	a.sem = make(chan struct{}, orDefault(cfg.MaxInFlight, 32))
	a.watches = make(chan struct{}, orDefault(cfg.MaxWatches, 64))
	a.base, a.stop = context.WithCancel(context.Background())
	return a, nil
}

func orDefault(n, d int) int {
	if n <= 0 {
		return d
	}
	return n
}

// Wait blocks until every interaction and job follower started so far has
// finished.
func (a *Adapter) Wait() { a.wg.Wait() }

// Close stops following jobs and waits for work in flight to end; call it
// after the HTTP server and gateway have stopped taking interactions.
func (a *Adapter) Close() {
	a.stop()
	a.wg.Wait()
}

// acker sends an interaction's first response: in the HTTP answer, or by
// POST interactions/{id}/{token}/callback on the gateway path.
type acker func(ctx context.Context, r response) error

// received is an interaction being handled.
type received struct {
	it *interaction
	at time.Time // when it arrived: its token expires 15 minutes later
	// start is when it arrived by the wall clock, for ack latency.
	start time.Time
	dup   bool // a repeated delivery
	ack   acker
	// acked is the first response type sent, 0 before.
	acked int
	flags int // flags of a deferred message response
	// sess is the form a modal submission belongs to.
	sess *formSession
	// asked is set when a confirm step's Confirm was pressed.
	asked *askedFrom
}

// goSafe runs f in a goroutine that recovers panics and is counted by Wait.
func (a *Adapter) goSafe(ctx context.Context, what string, f func()) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer func() {
			if p := recover(); p != nil {
				a.log.ErrorContext(ctx, "panic in discord "+what, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			}
		}()
		f()
	}()
}

// dispatch handles one verified, decoded interaction: it sends the first
// response through ack (always, exactly once, within the budget) and
// completes the work afterwards. ctx must outlive the inbound request.
func (a *Adapter) dispatch(ctx context.Context, it *interaction, ack acker) {
	rc := &received{it: it, at: a.clock.Now(), start: time.Now(), ack: ack}
	log := a.log.With("interaction", it.ID, "type", it.Type)
	defer func() {
		if p := recover(); p != nil {
			log.ErrorContext(ctx, "panic handling an interaction", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if rc.acked == 0 {
				_ = a.sendAck(ctx, rc, response{Type: respMessage, Data: textMessage("❌ internal error; try again", true)})
			}
		}
	}()
	fresh, err := a.dedupe.Claim(ctx, "discord:interaction:"+it.ID, dedupeTTL)
	if err != nil {
		// Redis is down: act rather than drop the click; creations are
		// deduplicated again by the core.
		log.WarnContext(ctx, "deduplicating an interaction", "err", err)
		fresh = true
	}
	if !fresh {
		log.InfoContext(ctx, "dropping a repeated interaction")
		rc.dup = true
		a.ackDuplicate(ctx, rc)
		return
	}
	switch it.Type {
	case itAutocomplete:
		a.autocomplete(ctx, rc)
	case itCommand:
		a.command(ctx, rc)
	case itComponent:
		a.component(ctx, rc)
	case itModalSubmit:
		a.modalSubmit(ctx, rc)
	}
	if rc.acked == 0 {
		_ = a.sendAck(ctx, rc, response{Type: respMessage, Data: textMessage("That interaction is not supported.", true)})
	}
}

// ackDuplicate answers a repeated delivery without acting. Discord
// accepts one acknowledgement per interaction, so this one is harmless.
func (a *Adapter) ackDuplicate(ctx context.Context, rc *received) {
	t := respDeferred
	if rc.it.Type == itComponent || rc.it.Type == itModalSubmit && rc.it.Message != nil {
		t = respDeferredUpdate
	}
	if rc.it.Type == itAutocomplete {
		_ = a.sendAck(ctx, rc, response{Type: respAutocomplete, Data: map[string]any{"choices": []choice{}}})
		return
	}
	_ = a.sendAck(ctx, rc, response{Type: t, Data: map[string]any{"flags": flagEphemeral}})
}

func (a *Adapter) sendAck(ctx context.Context, rc *received, r response) error {
	if rc.acked != 0 {
		return errors.New("interaction already acknowledged")
	}
	rc.acked = r.Type
	err := rc.ack(ctx, r)
	outcome := "ok"
	switch {
	case err != nil:
		outcome = "error"
	case rc.dup:
		outcome = "duplicate"
	}
	a.metrics.ObserveAck("discord", deliveryKind(rc.it), outcome, rc.start)
	if err != nil {
		a.log.WarnContext(ctx, "acknowledging an interaction", "interaction", rc.it.ID, "err", err)
		return err
	}
	return nil
}

func textMessage(text string, ephemeral bool) outMessage {
	m := outMessage{Content: &text, Embeds: []embed{}, Components: []actionRow{}, AllowedMentions: map[string]any{"parse": []string{}}}
	if ephemeral {
		m.Flags = flagEphemeral
	}
	return m
}

// baseRequest fills what every request from it carries.
func baseRequest(rc *received, kind commands.RequestKind) commands.Request {
	it := rc.it
	req := commands.Request{
		Principal:  principal(it),
		Workspace:  it.GuildID,
		Channel:    it.ChannelID,
		Platform:   provision.PlatformDiscord,
		Kind:       kind,
		DeliveryID: it.ID,
		ReceivedAt: rc.at,
	}
	if it.Member != nil {
		req.Groups = it.Member.Roles
	}
	return req
}

// runCore runs the router with a panic guard.
func (a *Adapter) runCore(ctx context.Context, req commands.Request) (resp commands.Response) {
	defer func() {
		if p := recover(); p != nil {
			a.log.ErrorContext(ctx, "panic in the command core", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			resp = commands.Response{Blocks: []commands.Block{commands.TextBlock("❌ internal error; try again")}}
		}
	}()
	return a.router.Handle(ctx, req)
}

func (a *Adapter) autocomplete(ctx context.Context, rc *received) {
	var data commandData
	_ = jsonUnmarshal(rc.it.Data, &data)
	choices := []choice{}
	inv, err := translate(a.router.Table(), data)
	if err == nil && inv.focus != nil && inv.focus.Option != "" {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		req := baseRequest(rc, commands.KindAutocomplete)
		req.Focus = *inv.focus
		resp := a.runCore(cctx, req)
		cancel()
		for _, o := range resp.Choices {
			if len(choices) == maxSelectOption {
				break
			}
			if o.Value == "" || len(o.Value) > maxOptionValue {
				continue
			}
			choices = append(choices, choice{Name: clipRunes(o.Label, 100), Value: o.Value})
		}
	}
	_ = a.sendAck(ctx, rc, response{Type: respAutocomplete, Data: map[string]any{"choices": choices}})
}

func (a *Adapter) command(ctx context.Context, rc *received) {
	var data commandData
	if err := jsonUnmarshal(rc.it.Data, &data); err != nil {
		_ = a.sendAck(ctx, rc, response{Type: respMessage, Data: textMessage("⚠️ that command could not be read; try again", true)})
		return
	}
	inv, err := translate(a.router.Table(), data)
	if err != nil {
		_ = a.sendAck(ctx, rc, response{Type: respMessage, Data: textMessage("⚠️ "+err.Error()+"; try /lxc help", true)})
		return
	}
	req := baseRequest(rc, commands.KindCommand)
	req.Text = inv.text
	// The text may hold secrets (node tokens): log the command name only.
	a.log.DebugContext(ctx, "command", "interaction", rc.it.ID, "command", inv.command, "user", req.Principal.UserID)
	a.answer(ctx, rc, req)
}

// answer runs req through the core, sends the first response within the
// budget and completes the reply.
func (a *Adapter) answer(ctx context.Context, rc *received, req commands.Request) {
	done := make(chan commands.Response, 1)
	a.goSafe(ctx, "core", func() { done <- a.runCore(ctx, req) })
	timer := time.NewTimer(a.ackBudget)
	defer timer.Stop()
	select {
	case resp := <-done:
		if resp.Form != nil && rc.it.Type != itModalSubmit {
			a.openForm(ctx, rc, req, resp.Form)
			return
		}
		a.deferFor(ctx, rc, &resp)
		a.complete(ctx, rc, resp)
	case <-timer.C:
		a.deferFor(ctx, rc, nil)
		a.complete(ctx, rc, <-done)
	}
}

// updateMode reports whether the interaction came from a message (a
// component, or a modal opened from one), so a deferred update applies.
func updateMode(it *interaction) bool { return it.Message != nil && it.Type != itCommand }

// deferFor sends the deferred response. With resp known its visibility is
// exact; without (the core is slow) the reply is assumed ephemeral, the
// safe side, and corrected by complete.
func (a *Adapter) deferFor(ctx context.Context, rc *received, resp *commands.Response) {
	if updateMode(rc.it) {
		_ = a.sendAck(ctx, rc, response{Type: respDeferredUpdate})
		return
	}
	rc.flags = flagEphemeral
	if resp != nil && resp.Visibility == commands.InChannel {
		rc.flags = 0
	}
	_ = a.sendAck(ctx, rc, response{Type: respDeferred, Data: map[string]any{"flags": rc.flags}})
}

func jsonUnmarshal(data []byte, v any) error {
	if len(data) == 0 {
		return errors.New("no data")
	}
	return json.Unmarshal(data, v)
}

// deliveryKind is an interaction's kind as the inbound metrics name it.
func deliveryKind(it *interaction) string {
	switch it.Type {
	case itCommand:
		return "command"
	case itComponent:
		return "action"
	case itModalSubmit:
		return "form"
	case itAutocomplete:
		return "autocomplete"
	}
	return "other"
}

// refused counts an interaction turned away before it was worked on.
func (a *Adapter) refused(it *interaction, start time.Time) {
	a.metrics.ObserveAck("discord", deliveryKind(it), "rejected", start)
}
