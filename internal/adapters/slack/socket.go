package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// maxSocketAck is the largest acknowledgement payload Slack accepts over
// Socket Mode (20 KB), with room for the envelope.
const maxSocketAck = 19 * 1024

var errSilentSocket = errors.New("socket mode connection silent for too long")

// RunSocketMode receives slash commands, interactions and events over
// Socket Mode until ctx ends. Every envelope is acknowledged promptly; a
// `disconnect` request (refresh_requested, warning) reconnects; and a
// connection that receives nothing at all — no message, no ping — for
// Config.SocketLiveness is replaced (slack-go#1093, #1566). It returns nil
// when ctx ends.
func (a *Adapter) RunSocketMode(ctx context.Context) error {
	if a.cfg.AppToken.IsZero() {
		return errors.New("slack socket mode needs an app-level token (xapp-…)")
	}
	log := a.log.With("transport", "socket_mode")
	backoff := a.cfg.RetryBase
	for {
		connected, err := a.runSocket(ctx, log)
		if ctx.Err() != nil {
			return nil
		}
		if connected {
			backoff = a.cfg.RetryBase
		}
		log.WarnContext(ctx, "socket mode connection ended; reconnecting", "err", err, "in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil
		}
		backoff = min(backoff*2, 30*a.cfg.RetryBase)
	}
}

// runSocket runs one socketmode client until it fails, ctx ends or the
// connection falls silent. The client reconnects by itself on `disconnect`.
func (a *Adapter) runSocket(ctx context.Context, log *slog.Logger) (connected bool, err error) {
	var last atomic.Int64
	touch := func() { last.Store(time.Now().UnixNano()) }
	touch()
	dialer := &websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: 10 * time.Second,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &activityConn{Conn: c, touch: touch}, nil
		},
	}
	smc := socketmode.New(a.api, socketmode.OptionDialer(dialer), socketmode.OptionLog(slogOutput{log}),
		socketmode.OptionPingInterval(a.cfg.SocketLiveness))
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- smc.RunContext(runCtx) }()
	check := time.NewTicker(max(a.cfg.SocketLiveness/4, 10*time.Millisecond))
	defer check.Stop()
	// Envelopes are handled concurrently (an ack may wait briefly for an
	// instant answer), a bounded number at a time.
	handling := make(chan struct{}, 16)
	for {
		select {
		case err := <-errc:
			return connected, err
		case ev := <-smc.Events:
			touch()
			switch ev.Type {
			case socketmode.EventTypeConnected:
				connected = true
				log.InfoContext(ctx, "socket mode connected")
			case socketmode.EventTypeConnectionError, socketmode.EventTypeInvalidAuth, socketmode.EventTypeIncomingError,
				socketmode.EventTypeErrorBadMessage, socketmode.EventTypeErrorWriteFailed:
				log.WarnContext(ctx, "socket mode trouble", "event", string(ev.Type), "detail", eventDetail(ev.Data))
			case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive, socketmode.EventTypeEventsAPI:
				select {
				case handling <- struct{}{}:
				case <-ctx.Done():
					continue
				}
				a.wg.Add(1)
				go func() {
					defer a.wg.Done()
					defer func() { <-handling }()
					defer a.recoverPanic("socket envelope")
					a.socketEnvelope(runCtx, log, smc, ev)
				}()
			}
		case <-check.C:
			if idle := time.Since(time.Unix(0, last.Load())); idle > a.cfg.SocketLiveness {
				log.WarnContext(ctx, "socket mode connection silent; replacing it", "idle", idle.Round(time.Millisecond))
				cancel()
				<-errc
				return connected, errSilentSocket
			}
		case <-ctx.Done():
			cancel()
			<-errc
			return connected, ctx.Err()
		}
	}
}

// socketEnvelope acknowledges one envelope and hands its content on.
func (a *Adapter) socketEnvelope(ctx context.Context, log *slog.Logger, smc *socketmode.Client, ev socketmode.Event) {
	if ev.Request == nil {
		return
	}
	var ack any
	switch data := ev.Data.(type) {
	case slack.SlashCommand:
		ack = a.command(ctx, data)
		if m, ok := ack.(*ackMessage); ok && ackSize(m) > maxSocketAck {
			// Too big for a socket ack: acknowledge, then answer through
			// response_url.
			ack = ephemeralAck(textWorking)
			o := &origin{team: data.TeamID, channel: data.ChannelID, user: data.UserID, responseURL: data.ResponseURL, replaceAck: true}
			blocks := m.Blocks.BlockSet
			a.goAnyway(func(ctx context.Context) { a.sendRendered(ctx, o, m.Text, blocks) })
		}
	case slack.InteractionCallback:
		ack = a.interaction(ctx, data)
	case slackevents.EventsAPIEvent:
		if err := smc.AckCtx(ctx, ev.Request.EnvelopeID, nil); err != nil {
			log.WarnContext(ctx, "acknowledging an event", "err", err)
		}
		var id string
		if cb, ok := data.Data.(*slackevents.EventsAPICallbackEvent); ok {
			id = cb.EventID
		}
		retry := ""
		if ev.Request.RetryAttempt > 0 {
			retry = strconv.Itoa(ev.Request.RetryAttempt)
		}
		a.event(ctx, data, id, retry)
		return
	default:
		return
	}
	if err := smc.AckCtx(ctx, ev.Request.EnvelopeID, ack); err != nil {
		log.WarnContext(ctx, "acknowledging an envelope", "type", string(ev.Type), "err", err)
	}
}

// sendRendered sends already rendered blocks as an ephemeral answer.
func (a *Adapter) sendRendered(ctx context.Context, o *origin, text string, blocks []slack.Block) {
	for i, m := range splitMessages(blocks) {
		if i == 0 && o.responseURL != "" {
			msg := &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral, Text: text, Blocks: &slack.Blocks{BlockSet: m}, ReplaceOriginal: true}
			if err := a.out.do(ctx, "response_url", func(ctx context.Context) error {
				return slack.PostWebhookCustomHTTPContext(ctx, o.responseURL, a.hc, msg)
			}); err == nil {
				continue
			}
		}
		if err := a.postEphemeral(ctx, o, text, m); err != nil {
			a.log.ErrorContext(ctx, "answer not delivered", "err", err)
			return
		}
	}
}

func ackSize(m *ackMessage) int {
	b, err := json.Marshal(m)
	if err != nil {
		return 0
	}
	return len(b)
}

func eventDetail(d any) string {
	switch v := d.(type) {
	case nil:
		return ""
	case *socketmode.ErrorBadMessage:
		return v.Cause.Error()
	case error: // *slack.IncomingEventError among others
		return v.Error()
	}
	return fmt.Sprintf("%T", d)
}

// activityConn notes every successful read: any frame, ping or message,
// shows the connection is alive.
type activityConn struct {
	net.Conn
	touch func()
}

func (c *activityConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.touch()
	}
	return n, err
}

// slogOutput lets slack-go's socketmode client log through slog (debug).
type slogOutput struct{ l *slog.Logger }

func (s slogOutput) Output(_ int, msg string) error {
	s.l.Debug(msg)
	return nil
}
