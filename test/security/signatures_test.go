package security_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/examples/templates"
	"github.com/lxcbot/lxcbot/internal/adapters/discord/discordfake"
	"github.com/lxcbot/lxcbot/internal/adapters/slack/slackfake"
	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/provision"
)

// replayable captures a request so it can be delivered again byte for
// byte, headers (and so signature) included.
type replayable struct {
	url    string
	header http.Header
	body   []byte
}

func capture(t *testing.T, r *http.Request) replayable {
	t.Helper()
	body, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	return replayable{url: r.URL.String(), header: r.Header.Clone(), body: body}
}

func (c replayable) request(t *testing.T) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(c.body))
	require.NoError(t, err)
	r.Header = c.header.Clone()
	return r
}

func count(entries []provision.AuditEntry, command string) int {
	n := 0
	for _, e := range entries {
		if e.Command == command {
			n++
		}
	}
	return n
}

// TestSlackRefusesUnsignedAndStaleRequestsAndActsOnceOnAReplay sends a
// Stop that would work — pressed by the container's owner — with every
// kind of broken signature to all three Slack endpoints of the assembled
// bot: each gets 401 and nothing happens. The same request, correctly
// signed and delivered three times within the window (a replay by anyone
// who captured it), stops the container once and is audited once.
func TestSlackRefusesUnsignedAndStaleRequestsAndActsOnceOnAReplay(t *testing.T) {
	b := setup(t, options{templates: templates.FS})
	b.createReady(t, slackOperator, "nginx-web", "web1", "pve1")
	require.Equal(t, "running", b.status(t, "web1"))
	mark := len(b.slack.Calls())

	now := time.Now()
	resign := func(secret string, at time.Time) func(*http.Request, []byte) {
		return func(r *http.Request, body []byte) {
			slackfake.Signer{Secret: secret, Now: func() time.Time { return at }}.Sign(r, body)
		}
	}
	cases := map[string]func(r *http.Request, body []byte){
		"no headers": func(r *http.Request, _ []byte) {
			r.Header.Del("X-Slack-Signature")
			r.Header.Del("X-Slack-Request-Timestamp")
		},
		"no signature":         func(r *http.Request, _ []byte) { r.Header.Del("X-Slack-Signature") },
		"no timestamp":         func(r *http.Request, _ []byte) { r.Header.Del("X-Slack-Request-Timestamp") },
		"wrong secret":         resign("not-the-signing-secret", now),
		"empty secret":         resign("", now),
		"stale by 6 minutes":   resign(slackSigningSecret, now.Add(-6*time.Minute)),
		"stale by a day":       resign(slackSigningSecret, now.Add(-24*time.Hour)),
		"6 minutes ahead":      resign(slackSigningSecret, now.Add(6*time.Minute)),
		"malformed timestamp":  func(r *http.Request, _ []byte) { r.Header.Set("X-Slack-Request-Timestamp", "1e9") },
		"negative timestamp":   func(r *http.Request, _ []byte) { r.Header.Set("X-Slack-Request-Timestamp", "-1") },
		"signature of nothing": func(r *http.Request, _ []byte) { resign(slackSigningSecret, now)(r, nil) },
		"v1 scheme": func(r *http.Request, _ []byte) {
			r.Header.Set("X-Slack-Signature", strings.Replace(r.Header.Get("X-Slack-Signature"), "v0=", "v1=", 1))
		},
		"upper-case hex": func(r *http.Request, _ []byte) {
			r.Header.Set("X-Slack-Signature", "v0="+strings.ToUpper(strings.TrimPrefix(r.Header.Get("X-Slack-Signature"), "v0=")))
		},
		"truncated signature": func(r *http.Request, _ []byte) {
			s := r.Header.Get("X-Slack-Signature")
			r.Header.Set("X-Slack-Signature", s[:len(s)-2])
		},
		"tampered body": func(r *http.Request, body []byte) {
			// The signature of the genuine body over a body naming another action.
			forged := bytes.Replace(body, []byte("ct.stop"), []byte("ct.dele"), 1)
			r.Body = io.NopCloser(bytes.NewReader(forged))
			r.ContentLength = int64(len(forged))
		},
	}
	for name, spoil := range cases {
		for _, path := range []string{"/slack/commands", "/slack/interactions", "/slack/events"} {
			c := capture(t, b.pressRequest(slackOperator, commands.ActStop, "web1"))
			c.url = b.srv.URL + path
			r := c.request(t)
			spoil(r, c.body)
			status, body := do(t, r)
			require.Equal(t, http.StatusUnauthorized, status, "%s on %s: %s", name, path, body)
			require.NotContains(t, body, slackSigningSecret)
		}
	}
	require.Equal(t, "running", b.status(t, "web1"), "a refused request changes nothing")
	require.Empty(t, b.slackCallsSince(mark), "a refused request makes no Slack call")
	require.Zero(t, count(b.audit(t, "web1"), "button:ct.stop"), "a refused request reaches no command")
	require.NotContains(t, b.logs.String(), slackSigningSecret)

	// A genuine press, delivered three times with the same signature.
	stop := capture(t, b.pressRequest(slackOperator, commands.ActStop, "web1"))
	for range 3 {
		status, body := do(t, stop.request(t))
		require.Equal(t, http.StatusOK, status, body)
	}
	waitFor(t, "web1 to stop", func() bool { return b.status(t, "web1") == "stopped" })
	// The stop is finished once it is audited; a start sent before that
	// would be told another action is running.
	waitFor(t, "the stop to be audited", func() bool { return count(b.audit(t, "web1"), "button:ct.stop") > 0 })

	// A genuine slash command, replayed.
	start := capture(t, b.slashRequest(slackOperator, "start web1"))
	for range 3 {
		status, body := do(t, start.request(t))
		require.Equal(t, http.StatusOK, status, body)
	}
	waitFor(t, "web1 to start", func() bool { return b.status(t, "web1") == "running" })
	b.drain(t)
	entries := b.audit(t, "web1")
	require.Equal(t, 1, count(entries, "button:ct.stop"), "a replayed button acts once: %+v", entries)
	require.Equal(t, 1, count(entries, "start"), "a replayed slash command acts once: %+v", entries)
}

// TestDiscordRefusesUnsignedAndStaleInteractionsAndActsOnceOnAReplay does
// the same for the Discord interactions endpoint: broken signatures, a
// key that is not the application's and timestamps outside the window get
// 401; an interaction delivered again — byte for byte, or re-signed with
// the same interaction id — acts once.
func TestDiscordRefusesUnsignedAndStaleInteractionsAndActsOnceOnAReplay(t *testing.T) {
	b := setup(t, options{templates: templates.FS})
	b.createReady(t, discordPrincipal(discordOperator), "nginx-web", "web3", "pve1")
	ctx := context.Background()
	endpoint := b.srv.URL + "/discord/interactions"
	stopIt := func() *discordfake.Interaction {
		return &discordfake.Interaction{Type: discordfake.TypeComponent, User: discordOperator, GuildID: guild, ChannelID: dchannel,
			Data: discordfake.Click("a|" + commands.ActStop + "|web3")}
	}
	it := stopIt()
	body := b.discord.Payload(it)
	now := time.Now()
	other := discordfake.NewSigner()
	with := func(h http.Header, k, v string) http.Header { h.Set(k, v); return h }
	cases := map[string]http.Header{
		"no signature":        with(b.discord.Signer.Headers(now, body), "X-Signature-Ed25519", ""),
		"no timestamp":        with(b.discord.Signer.Headers(now, body), "X-Signature-Timestamp", ""),
		"bad signature":       with(b.discord.Signer.Headers(now, body), "X-Signature-Ed25519", strings.Repeat("ab", 64)),
		"not hex":             with(b.discord.Signer.Headers(now, body), "X-Signature-Ed25519", "zz"),
		"wrong key":           other.Headers(now, body),
		"stale by 6 minutes":  b.discord.Signer.Headers(now.Add(-6*time.Minute), body),
		"stale by a day":      b.discord.Signer.Headers(now.Add(-24*time.Hour), body),
		"6 minutes ahead":     b.discord.Signer.Headers(now.Add(6*time.Minute), body),
		"timestamp rewritten": with(b.discord.Signer.Headers(now.Add(-6*time.Minute), body), "X-Signature-Timestamp", "9999999999"),
	}
	for name, h := range cases {
		d, err := b.discord.DeliverRaw(ctx, endpoint, it.Token, body, h)
		require.NoError(t, err, name)
		require.Equal(t, http.StatusUnauthorized, d.Status, "%s: %s", name, d.Body)
	}
	// A genuine signature over another body.
	d, err := b.discord.DeliverRaw(ctx, endpoint, it.Token, bytes.Replace(body, []byte("web3"), []byte("web4"), 1),
		b.discord.Signer.Headers(now, body))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, d.Status)
	require.Equal(t, "running", b.status(t, "web3"), "a refused interaction changes nothing")
	require.Zero(t, count(b.audit(t, "web3"), "button:ct.stop"))

	// The genuine interaction three times with one signature, then once
	// more re-signed later (Discord's own retry carries the same id).
	h := b.discord.Signer.Headers(now, body)
	for range 3 {
		d, err := b.discord.DeliverRaw(ctx, endpoint, it.Token, body, h.Clone())
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, d.Status, string(d.Body))
	}
	d, err = b.discord.DeliverRaw(ctx, endpoint, it.Token, body, b.discord.Signer.Headers(now.Add(time.Second), body))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, d.Status)
	waitFor(t, "web3 to stop", func() bool { return b.status(t, "web3") == "stopped" })
	b.drain(t)
	require.Equal(t, 1, count(b.audit(t, "web3"), "button:ct.stop"), "a replayed interaction acts once")
	require.NotContains(t, b.logs.String(), discordBotToken)
}
