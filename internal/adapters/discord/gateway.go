package discord

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/bwmarrin/discordgo"
)

// RunGateway connects to the gateway and handles INTERACTION_CREATE until
// ctx ends. discordgo reconnects and resumes on its own, but its resume
// state (session id, sequence) is private (discordgo#1502): after a
// reconnect that could not resume, Discord may deliver an interaction
// again. Every interaction is claimed by id before it acts, so a repeat
// is answered without a second effect. Interactions that arrive while
// disconnected are not replayed by Discord and time out for the user.
func (a *Adapter) RunGateway(ctx context.Context) error {
	s, err := discordgo.New("Bot " + a.rest.token.Reveal())
	if err != nil {
		return fmt.Errorf("creating the discord session: %w", err)
	}
	s.Client = a.gatewayClient()
	s.Identify.Intents = discordgo.IntentsGuilds
	s.ShouldReconnectOnError = true
	s.LogLevel = discordgo.LogError
	s.AddHandler(func(_ *discordgo.Session, e *discordgo.Event) {
		if e.Type != "INTERACTION_CREATE" {
			return
		}
		a.HandleGatewayInteraction(e.RawData)
	})
	if err := s.Open(); err != nil {
		return fmt.Errorf("connecting to the discord gateway: %w", err)
	}
	a.log.InfoContext(ctx, "connected to the gateway")
	<-ctx.Done()
	if err := s.Close(); err != nil {
		a.log.WarnContext(ctx, "closing the gateway connection", "err", err)
	}
	return nil
}

// gatewayClient is the HTTP client discordgo uses for its REST calls,
// sent to DISCORD_API_URL when that is not Discord's own.
func (a *Adapter) gatewayClient() *http.Client {
	c := *a.hc
	def, _ := url.Parse(DefaultAPIURL)
	if a.rest.base.String() != def.String() {
		next := c.Transport
		if next == nil {
			next = http.DefaultTransport
		}
		c.Transport = &rewriteTransport{base: a.rest.base, next: next}
	}
	return &c
}

// HandleGatewayInteraction handles the payload of one INTERACTION_CREATE
// dispatch. It returns at once; the first response goes out through
// POST interactions/{id}/{token}/callback within the budget.
func (a *Adapter) HandleGatewayInteraction(raw []byte) {
	it, err := decodeInteraction(raw)
	if err != nil || it.Type == itPing {
		a.log.Info("ignored a gateway interaction", "reason", fmt.Sprint(err))
		return
	}
	select {
	case a.sem <- struct{}{}:
	default:
		a.log.Warn("too many interactions at once; dropping one", "interaction", it.ID)
		a.refused(it, time.Now())
		return
	}
	a.goSafe(a.base, "gateway interaction", func() {
		defer func() { <-a.sem }()
		a.dispatch(a.base, it, a.callbackAck(it))
	})
}

// callbackAck sends the first response over REST.
func (a *Adapter) callbackAck(it *interaction) acker {
	return func(ctx context.Context, r response) error {
		path, route := callbackPath(it.ID, it.Token)
		return a.rest.do(ctx, call{method: http.MethodPost, path: path, route: route, body: r})
	}
}
