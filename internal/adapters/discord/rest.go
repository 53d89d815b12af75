package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lxcbot/lxcbot/internal/metrics"
	"github.com/lxcbot/lxcbot/internal/secret"
)

// DefaultAPIURL is Discord's REST base.
const DefaultAPIURL = "https://discord.com/api/v10/"

// rest calls Discord's REST API. It honours 429 answers (retry_after in the
// JSON body or the Retry-After header) with a bounded number of retries and
// never puts the bot token or an interaction token into errors or logs.
type rest struct {
	base       *url.URL
	hc         *http.Client
	token      secret.String
	log        *slog.Logger
	maxRetries int
	maxWait    time.Duration
	metrics    *metrics.Metrics // nil = not counted
}

// APIError is a non-2xx answer from Discord.
type APIError struct {
	Status  int
	Code    int    // Discord's JSON error code, 0 if none
	Message string // Discord's message, clipped
	Route   string // the path with ids and tokens replaced
}

func (e *APIError) Error() string {
	return fmt.Sprintf("discord %s: status %d code %d: %s", e.Route, e.Status, e.Code, e.Message)
}

// Retryable reports whether a later attempt may succeed.
func (e *APIError) Retryable() bool { return e.Status == http.StatusTooManyRequests || e.Status >= 500 }

// call is one REST request. Path is relative to the base and may hold an
// interaction token; Route is what errors and logs show instead.
type call struct {
	method string
	path   string
	route  string
	bot    bool
	body   any
	files  []fileUpload
	out    any
}

func (c *rest) do(ctx context.Context, rc call) error {
	u, err := c.base.Parse(rc.path)
	if err != nil {
		return fmt.Errorf("building the url of %s: %w", rc.route, err)
	}
	var (
		payload []byte
		ctype   = "application/json"
	)
	if rc.body != nil {
		if payload, err = json.Marshal(rc.body); err != nil {
			return fmt.Errorf("encoding %s: %w", rc.route, err)
		}
	}
	if len(rc.files) > 0 {
		payload, ctype, err = multipartBody(payload, rc.files)
		if err != nil {
			return fmt.Errorf("encoding %s: %w", rc.route, err)
		}
	}
	for attempt := 0; ; attempt++ {
		wait, err := c.once(ctx, rc, u.String(), payload, ctype)
		c.count(rc, err)
		if err == nil {
			return nil
		}
		var ae *APIError
		switch {
		case errors.As(err, &ae) && ae.Retryable() && attempt < c.maxRetries:
			if ae.Status >= 500 {
				wait = time.Duration(attempt+1) * 250 * time.Millisecond
			}
		case ae == nil && ctx.Err() == nil && rc.method != http.MethodPost && attempt < 2:
			// A dropped connection; only requests that are safe to repeat.
			wait = time.Duration(attempt+1) * 250 * time.Millisecond
		default:
			return err
		}
		if c.metrics != nil {
			c.metrics.ChatRetries.WithLabelValues("discord", rc.method+" "+rc.route).Inc()
		}
		wait = min(wait, c.maxWait)
		c.log.DebugContext(ctx, "discord asked to retry", "route", rc.route, "status", statusOf(ae), "wait", wait, "attempt", attempt+1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting to retry %s: %w", rc.route, ctx.Err())
		case <-t.C:
		}
	}
}

// count records one attempt of rc, labelled by its route template (never
// the path, which holds ids and tokens), and whether it was rate-limited.
func (c *rest) count(rc call, err error) {
	if c.metrics == nil {
		return
	}
	method := rc.method + " " + rc.route
	c.metrics.ChatCalls.WithLabelValues("discord", method).Inc()
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests {
		c.metrics.ChatRateLimited.WithLabelValues("discord", method).Inc()
	}
}

func statusOf(ae *APIError) int {
	if ae == nil {
		return 0
	}
	return ae.Status
}

// once sends one attempt; on 429 it returns how long Discord asked to wait.
func (c *rest) once(ctx context.Context, rc call, u string, payload []byte, ctype string) (time.Duration, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, rc.method, u, body)
	if err != nil {
		return 0, fmt.Errorf("building %s: %w", rc.route, err)
	}
	if payload != nil {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("User-Agent", "DiscordBot (https://github.com/lxcbot/lxcbot, 1) lxcbot")
	if rc.bot {
		req.Header.Set("Authorization", "Bot "+c.token.Reveal())
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// The url holds tokens: report the route only.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, fmt.Errorf("calling discord %s: %w", rc.route, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, fmt.Errorf("reading discord %s: %w", rc.route, err)
	}
	if resp.StatusCode/100 == 2 {
		if rc.out != nil && len(data) > 0 {
			if err := json.Unmarshal(data, rc.out); err != nil {
				return 0, fmt.Errorf("decoding discord %s: %w", rc.route, err)
			}
		}
		return 0, nil
	}
	var e struct {
		Code       int      `json:"code"`
		Message    string   `json:"message"`
		RetryAfter *float64 `json:"retry_after"`
	}
	_ = json.Unmarshal(data, &e)
	ae := &APIError{Status: resp.StatusCode, Code: e.Code, Message: clipRunes(e.Message, 200), Route: rc.route}
	if resp.StatusCode != http.StatusTooManyRequests {
		return 0, ae
	}
	wait := time.Second
	switch {
	case e.RetryAfter != nil:
		wait = time.Duration(*e.RetryAfter * float64(time.Second))
	case resp.Header.Get("Retry-After") != "":
		if f, err := strconv.ParseFloat(resp.Header.Get("Retry-After"), 64); err == nil {
			wait = time.Duration(f * float64(time.Second))
		}
	case resp.Header.Get("X-RateLimit-Reset-After") != "":
		if f, err := strconv.ParseFloat(resp.Header.Get("X-RateLimit-Reset-After"), 64); err == nil {
			wait = time.Duration(f * float64(time.Second))
		}
	}
	return max(wait, 0), ae
}

func multipartBody(payload []byte, files []fileUpload) ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if payload != nil {
		if err := w.WriteField("payload_json", string(payload)); err != nil {
			return nil, "", err
		}
	}
	for i, f := range files {
		part, err := w.CreateFormFile("files["+strconv.Itoa(i)+"]", f.name)
		if err != nil {
			return nil, "", err
		}
		if _, err := part.Write(f.content); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// Routes. Each returns the path (with secrets) and the route (without).

func (a *Adapter) webhookOriginal(tok string) (string, string) {
	return "webhooks/" + a.appID + "/" + url.PathEscape(tok) + "/messages/@original", "webhooks/{app}/{token}/messages/@original"
}

func (a *Adapter) webhookFollowup(tok string) (string, string) {
	return "webhooks/" + a.appID + "/" + url.PathEscape(tok) + "?wait=true", "webhooks/{app}/{token}"
}

func callbackPath(id, tok string) (string, string) {
	return "interactions/" + id + "/" + url.PathEscape(tok) + "/callback", "interactions/{id}/{token}/callback"
}

func channelMessages(ch string) (string, string) {
	return "channels/" + ch + "/messages", "channels/{channel}/messages"
}

func channelMessage(ch, msg string) (string, string) {
	return "channels/" + ch + "/messages/" + msg, "channels/{channel}/messages/{message}"
}

func messageThread(ch, msg string) (string, string) {
	return "channels/" + ch + "/messages/" + msg + "/threads", "channels/{channel}/messages/{message}/threads"
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// isCode reports whether err is a Discord API error with the JSON code.
func isCode(err error, code int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == code
}

// isStatus reports whether err is a Discord API error with the status.
func isStatus(err error, status int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == status
}

// rewriteTransport sends requests for discord.com's API to another base
// (DISCORD_API_URL). discordgo computes its endpoint variables once at
// init, so a non-default base is applied here, on Session.Client.
type rewriteTransport struct {
	base *url.URL
	next http.RoundTripper
}

func (t *rewriteTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == "discord.com" && strings.HasPrefix(r.URL.Path, "/api/") {
		r = r.Clone(r.Context())
		rest := r.URL.Path[len("/api/"):]
		if i := strings.IndexByte(rest, '/'); i >= 0 && strings.HasPrefix(rest, "v") {
			rest = rest[i+1:] // drop the version; the base carries it
		}
		r.URL.Scheme, r.URL.Host = t.base.Scheme, t.base.Host
		r.URL.Path = strings.TrimSuffix(t.base.Path, "/") + "/" + rest
		r.URL.RawPath = ""
		r.Host = t.base.Host
	}
	return t.next.RoundTrip(r)
}
