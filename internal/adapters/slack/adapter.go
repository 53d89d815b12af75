package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/metrics"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/secret"
)

// DefaultAPIURL is Slack's Web API base.
const DefaultAPIURL = "https://slack.com/api/"

// Config holds the Slack settings and the adapter's tuning. Zero tuning
// values take the defaults noted.
type Config struct {
	BotToken      secret.String // xoxb-…; required
	SigningSecret secret.String // required for the HTTP endpoints
	AppToken      secret.String // xapp-…; required for Socket Mode
	APIURL        string        // Web API base ending in "/"; default DefaultAPIURL

	Workers       int           // requests worked on at once; default 8
	Queue         int           // requests waiting for a worker; default 64
	Outbound      int           // Slack API calls in flight at once; default 8
	Attempts      int           // tries per Slack API call; default 5
	RetryBase     time.Duration // first backoff and least 429 wait; default 1s
	EditInterval  time.Duration // least time between edits of one job card; default 1s
	ImmediateWait time.Duration // how long an ack waits for an instant answer; default 300ms
	SubmitWait    time.Duration // how long a modal submission waits for validation; default 2s
	DedupeTTL     time.Duration // how long deliveries are remembered; default 2h
	GroupsTTL     time.Duration // how long user group membership is cached; default 1m
	MaxWatches    int           // job cards followed at once; default 100
	// SocketLiveness replaces a Socket Mode connection that received
	// nothing (no message, no ping) for this long; default 60s.
	SocketLiveness time.Duration
	// ChannelInterval and ChannelBurst pace chat.postMessage and
	// chat.update per channel, across every job and request: one call per
	// interval (default 1s, Slack's guidance), up to burst at once (default
	// 1: Slack tolerates short bursts, but a burst of 1 never meets a 429).
	ChannelInterval time.Duration
	ChannelBurst    int
}

// CardStore records where a job card lives, so that another replica or a
// restarted one can keep editing it. The Postgres store satisfies it.
type CardStore interface {
	SetContainerMessage(ctx context.Context, id string, origin provision.Origin) error
}

// Deps are the adapter's collaborators.
type Deps struct {
	Router  *commands.Router // required
	Deduper Deduper          // default: an in-memory one (single replica only)
	Cards   CardStore        // optional
	Log     *slog.Logger     // default: discard
	// HTTPClient is used for the Web API, response_url and file uploads;
	// default: a client with a 30 s timeout.
	HTTPClient *http.Client
	// Now tells the time for signature windows; default time.Now.
	Now func() time.Time
	// Metrics counts deliveries, ack latency and Web API calls; nil = none.
	Metrics *metrics.Metrics
}

// Adapter connects lxcbot to one Slack app.
type Adapter struct {
	cfg     Config
	api     *slack.Client
	router  *commands.Router
	dedupe  Deduper
	cards   CardStore
	log     *slog.Logger
	hc      *http.Client
	now     func() time.Time
	out     *outbound
	metrics *metrics.Metrics
	groups  *groupCache
	slots   chan struct{} // workers + queue: refused beyond this
	workers chan struct{} // requests running
	watches chan struct{}
	// posts bounds channel posts sent off the request workers: a channel's
	// pacing (about one message a second) must not hold a worker that
	// other channels' requests need.
	posts chan struct{}

	ctx     context.Context // outlives requests; cancelled by Close
	cancel  context.CancelFunc
	closing atomic.Bool
	wg      sync.WaitGroup
}

// New builds an adapter. It does no I/O.
func New(cfg Config, d Deps) (*Adapter, error) {
	if cfg.BotToken.IsZero() {
		return nil, errors.New("slack: a bot token is required")
	}
	if d.Router == nil {
		return nil, errors.New("slack: a command router is required")
	}
	setDefault := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setDur := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	setDefault(&cfg.Workers, 8)
	setDefault(&cfg.Queue, 64)
	setDefault(&cfg.Outbound, 8)
	setDefault(&cfg.Attempts, 5)
	setDefault(&cfg.MaxWatches, 100)
	setDur(&cfg.RetryBase, time.Second)
	setDur(&cfg.EditInterval, time.Second)
	setDur(&cfg.ChannelInterval, time.Second)
	setDefault(&cfg.ChannelBurst, 1)
	setDur(&cfg.ImmediateWait, 300*time.Millisecond)
	setDur(&cfg.SubmitWait, 2*time.Second)
	setDur(&cfg.DedupeTTL, 2*time.Hour)
	setDur(&cfg.GroupsTTL, time.Minute)
	setDur(&cfg.SocketLiveness, time.Minute)
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if cfg.APIURL[len(cfg.APIURL)-1] != '/' {
		return nil, fmt.Errorf("slack: the API URL %q must end with /", cfg.APIURL)
	}
	a := &Adapter{
		cfg:     cfg,
		router:  d.Router,
		dedupe:  d.Deduper,
		cards:   d.Cards,
		log:     d.Log,
		hc:      d.HTTPClient,
		now:     d.Now,
		out:     newOutbound(cfg.Outbound, cfg.Attempts, cfg.RetryBase, newPacer(cfg.ChannelInterval, cfg.ChannelBurst)),
		metrics: d.Metrics,
		slots:   make(chan struct{}, cfg.Workers+cfg.Queue),
		workers: make(chan struct{}, cfg.Workers),
		watches: make(chan struct{}, cfg.MaxWatches),
		posts:   make(chan struct{}, maxPostsInFlight),
	}
	if a.dedupe == nil {
		a.dedupe = NewMemDeduper()
	}
	a.out.metrics = d.Metrics
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.log = a.log.With("integration", "slack")
	if a.hc == nil {
		a.hc = &http.Client{Timeout: 30 * time.Second}
	}
	if a.now == nil {
		a.now = time.Now
	}
	opts := []slack.Option{slack.OptionAPIURL(cfg.APIURL), slack.OptionHTTPClient(a.hc)}
	if !cfg.AppToken.IsZero() {
		opts = append(opts, slack.OptionAppLevelToken(cfg.AppToken.Reveal()))
	}
	a.api = slack.New(cfg.BotToken.Reveal(), opts...)
	a.groups = &groupCache{ttl: cfg.GroupsTTL}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	return a, nil
}

// Close stops accepting work and waits for requests and job cards in
// flight to finish; when ctx ends first, it cancels them and waits for them
// to stop.
func (a *Adapter) Close(ctx context.Context) error {
	a.closing.Store(true)
	done := make(chan struct{})
	go func() {
		a.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		a.cancel()
		return nil
	case <-ctx.Done():
		a.cancel()
		<-done
		return fmt.Errorf("waiting for slack work in flight: %w", ctx.Err())
	}
}

// errBusy means every worker and queue slot is taken.
var errBusy = errors.New("slack adapter busy")

// goWork runs fn on a worker, bounded: it fails at once with errBusy when
// the queue is full. fn runs with the adapter's context, not the request's,
// so it outlives the acknowledgement; a panic in fn is logged, not fatal.
func (a *Adapter) goWork(what string, fn func(ctx context.Context)) error {
	select {
	case a.slots <- struct{}{}:
	default:
		return errBusy
	}
	if a.closing.Load() {
		<-a.slots
		return errBusy
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer func() { <-a.slots }()
		select {
		case a.workers <- struct{}{}:
		case <-a.ctx.Done():
			return
		}
		defer func() { <-a.workers }()
		defer a.recoverPanic(what)
		fn(a.ctx)
	}()
	return nil
}

// goWatch follows a job card on its own bounded set of goroutines, so that
// long-running watches do not hold request workers.
func (a *Adapter) goWatch(fn func(ctx context.Context)) bool {
	if a.closing.Load() {
		return false
	}
	select {
	case a.watches <- struct{}{}:
	default:
		return false
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer func() { <-a.watches }()
		defer a.recoverPanic("job card")
		fn(a.ctx)
	}()
	return true
}

// maxPostsInFlight bounds public deliveries waiting on channel pacing.
const maxPostsInFlight = 512

// goPost runs fn (a public delivery) on its own goroutine so the request
// worker is free at once; when too many are waiting it runs fn inline,
// which pushes back on the senders.
func (a *Adapter) goPost(fn func(ctx context.Context)) {
	if a.closing.Load() {
		fn(a.ctx)
		return
	}
	select {
	case a.posts <- struct{}{}:
	default:
		fn(a.ctx)
		return
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer func() { <-a.posts }()
		defer a.recoverPanic("channel post")
		fn(a.ctx)
	}()
}

func (a *Adapter) recoverPanic(what string) {
	if p := recover(); p != nil {
		a.logPanic(what, p)
	}
}

func (a *Adapter) logPanic(what string, p any) {
	a.log.Error("panic while handling slack work", "work", what, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
}

// claim dedupes one delivery; key is namespaced here.
func (a *Adapter) claim(ctx context.Context, key string) (bool, error) {
	ok, err := a.dedupe.Claim(ctx, "slack:"+key, a.cfg.DedupeTTL)
	if err != nil {
		return false, fmt.Errorf("deduplicating slack delivery: %w", err)
	}
	return ok, nil
}

func principal(userID, name string) provision.Principal {
	return provision.Principal{Platform: provision.PlatformSlack, UserID: userID, Name: name}
}
