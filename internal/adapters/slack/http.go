package slack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// MaxBody is the largest request body accepted; larger ones get 413.
const MaxBody = 1 << 20

// Handler serves POST /slack/commands, /slack/interactions and
// /slack/events. Mount it at the server root (or under a mux with those
// paths). It needs the signing secret.
func (a *Adapter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /slack/commands", a.CommandsHandler())
	mux.Handle("POST /slack/interactions", a.InteractionsHandler())
	mux.Handle("POST /slack/events", a.EventsHandler())
	return mux
}

// CommandsHandler serves slash commands.
func (a *Adapter) CommandsHandler() http.Handler {
	return a.verified(func(ctx context.Context, w http.ResponseWriter, r *http.Request, body []byte) {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, "malformed form body", http.StatusBadRequest)
			return
		}
		sc := slashCommandFromForm(form)
		if sc.TeamID == "" || sc.UserID == "" {
			http.Error(w, "not a slash command", http.StatusBadRequest)
			return
		}
		writeAck(w, a.command(ctx, sc))
	})
}

// InteractionsHandler serves block actions, view submissions, view
// closings and shortcuts.
func (a *Adapter) InteractionsHandler() http.Handler {
	return a.verified(func(ctx context.Context, w http.ResponseWriter, r *http.Request, body []byte) {
		cb, err := decodeInteraction(body)
		if err != nil {
			http.Error(w, "malformed interaction payload", http.StatusBadRequest)
			return
		}
		writeAck(w, a.interaction(ctx, cb))
	})
}

// EventsHandler serves the Events API.
func (a *Adapter) EventsHandler() http.Handler {
	return a.verified(func(ctx context.Context, w http.ResponseWriter, r *http.Request, body []byte) {
		ev, eventID, err := decodeEvent(body)
		if err != nil {
			http.Error(w, "malformed event", http.StatusBadRequest)
			return
		}
		if ev.Type == slackevents.URLVerification {
			var ch slackevents.ChallengeResponse
			if err := json.Unmarshal(body, &ch); err != nil {
				http.Error(w, "malformed challenge", http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, ch.Challenge)
			return
		}
		if ev.Type == slackevents.CallbackEvent {
			a.event(ctx, ev, eventID, r.Header.Get(headerRetryNum))
		}
		w.WriteHeader(http.StatusOK)
	})
}

// verified reads the body once (at most MaxBody), checks Slack's signature
// and only then calls next. Panics become a 500 and a log line.
func (a *Adapter) verified(next func(ctx context.Context, w http.ResponseWriter, r *http.Request, body []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				a.logPanic("http "+r.URL.Path, p)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "reading request body", http.StatusBadRequest)
			return
		}
		if err := verifySignature(r.Header, body, []byte(a.cfg.SigningSecret.Reveal()), a.now()); err != nil {
			a.log.WarnContext(r.Context(), "refused an unsigned or badly signed request", "path", r.URL.Path, "reason", err)
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		next(r.Context(), w, r, body)
	})
}

func writeAck(w http.ResponseWriter, ack any) {
	if ack == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ack)
}

func slashCommandFromForm(f url.Values) slack.SlashCommand {
	return slack.SlashCommand{
		TeamID: f.Get("team_id"), TeamDomain: f.Get("team_domain"), EnterpriseID: f.Get("enterprise_id"),
		ChannelID: f.Get("channel_id"), ChannelName: f.Get("channel_name"), UserID: f.Get("user_id"), UserName: f.Get("user_name"),
		Command: f.Get("command"), Text: f.Get("text"), ResponseURL: f.Get("response_url"), TriggerID: f.Get("trigger_id"),
		APIAppID: f.Get("api_app_id"),
	}
}

// decodeInteraction parses the form body of an interaction: a "payload"
// field holding the callback as JSON.
func decodeInteraction(body []byte) (slack.InteractionCallback, error) {
	var cb slack.InteractionCallback
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return cb, err
	}
	payload := form.Get("payload")
	if payload == "" {
		return cb, errors.New("no payload")
	}
	if err := json.Unmarshal([]byte(payload), &cb); err != nil {
		return cb, err
	}
	if cb.Type == "" {
		return cb, errors.New("payload without a type")
	}
	return cb, nil
}

// decodeEvent parses an Events API body and returns its event id.
func decodeEvent(body []byte) (slackevents.EventsAPIEvent, string, error) {
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		return ev, "", err
	}
	var id string
	if cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent); ok {
		id = cb.EventID
	}
	if strings.TrimSpace(ev.Type) == "" {
		return ev, "", errors.New("event without a type")
	}
	return ev, id, nil
}
