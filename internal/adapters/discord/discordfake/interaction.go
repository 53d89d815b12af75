package discordfake

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Signer signs interactions the way Discord does: Ed25519 over the
// timestamp header followed by the raw body.
type Signer struct {
	Private ed25519.PrivateKey
	Public  ed25519.PublicKey
}

// NewSigner generates a key pair.
func NewSigner() *Signer {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(fmt.Sprintf("generating an ed25519 key: %v", err))
	}
	return &Signer{Private: priv, Public: pub}
}

// PublicKeyHex is the key as DISCORD_PUBLIC_KEY holds it.
func (s *Signer) PublicKeyHex() string { return hex.EncodeToString(s.Public) }

// Sign returns the X-Signature-Ed25519 header value for body sent at ts.
func (s *Signer) Sign(ts string, body []byte) string {
	return hex.EncodeToString(ed25519.Sign(s.Private, append([]byte(ts), body...)))
}

// Headers returns the signature headers for body sent at t.
func (s *Signer) Headers(t time.Time, body []byte) http.Header {
	ts := strconv.FormatInt(t.Unix(), 10)
	h := http.Header{}
	h.Set("X-Signature-Timestamp", ts)
	h.Set("X-Signature-Ed25519", s.Sign(ts, body))
	h.Set("Content-Type", "application/json")
	return h
}

// User is who sends an interaction.
type User struct {
	ID    string
	Name  string
	Roles []string // guild role ids
}

// Interaction types.
const (
	TypePing         = 1
	TypeCommand      = 2
	TypeComponent    = 3
	TypeAutocomplete = 4
	TypeModalSubmit  = 5
)

// Interaction is an interaction to deliver. Empty ID and Token are filled in.
type Interaction struct {
	ID        string
	Token     string
	Type      int
	GuildID   string
	ChannelID string
	User      User
	Data      any
	// Message is the id of the message a component was on.
	Message string
}

// Option is an application command option as Discord sends it.
type Option struct {
	Name    string   `json:"name"`
	Type    int      `json:"type"`
	Value   any      `json:"value,omitempty"`
	Options []Option `json:"options,omitempty"`
	Focused bool     `json:"focused,omitempty"`
}

// Str is a string option.
func Str(name, v string) Option { return Option{Name: name, Type: 3, Value: v} }

// Int is an integer option.
func Int(name string, v int) Option { return Option{Name: name, Type: 4, Value: v} }

// Bool is a boolean option.
func Bool(name string, v bool) Option { return Option{Name: name, Type: 5, Value: v} }

// Focused is a string option being typed (autocomplete).
func Focused(name, v string) Option { return Option{Name: name, Type: 3, Value: v, Focused: true} }

// Slash is the data of "/lxc <sub…> options": sub is "create" or a group
// and subcommand such as "template show".
func Slash(sub string, opts ...Option) map[string]any {
	words := strings.Fields(sub)
	leaf := Option{Name: words[len(words)-1], Type: 1, Options: opts}
	top := leaf
	if len(words) == 2 {
		top = Option{Name: words[0], Type: 2, Options: []Option{leaf}}
	}
	return map[string]any{"id": "1", "name": "lxc", "type": 1, "options": []Option{top}}
}

// Click is the data of a button press.
func Click(customID string) map[string]any {
	return map[string]any{"custom_id": customID, "component_type": 2}
}

// Choose is the data of a select menu choice.
func Choose(customID string, values ...string) map[string]any {
	return map[string]any{"custom_id": customID, "component_type": 3, "values": values}
}

// Submit is the data of a modal submission: text input custom id → value.
func Submit(customID string, values map[string]string) map[string]any {
	var rows []map[string]any
	for _, id := range sortedKeys(values) {
		rows = append(rows, map[string]any{"type": 1, "components": []map[string]any{{"type": 4, "custom_id": id, "value": values[id]}}})
	}
	return map[string]any{"custom_id": customID, "components": rows}
}

// Payload registers it with the fake (so its token works for webhooks) and
// returns its JSON, as the gateway or the HTTP endpoint would receive it.
func (s *Server) Payload(it *Interaction) []byte {
	s.mu.Lock()
	if it.ID == "" {
		it.ID = s.id()
	}
	if it.Token == "" {
		it.Token = "itok-" + s.id()
	}
	if it.ChannelID == "" {
		it.ChannelID = "500"
	}
	if s.tokens[it.Token] == nil {
		s.tokens[it.Token] = &token{channel: it.ChannelID, source: it.Message}
	}
	s.mu.Unlock()
	p := map[string]any{
		"id": it.ID, "application_id": s.AppID, "type": it.Type, "token": it.Token, "version": 1,
		"channel_id": it.ChannelID,
	}
	if it.Type != TypePing {
		u := map[string]any{"id": it.User.ID, "username": it.User.Name, "global_name": it.User.Name}
		if it.GuildID != "" {
			p["guild_id"] = it.GuildID
			p["member"] = map[string]any{"user": u, "roles": nonNil(it.User.Roles)}
		} else {
			p["user"] = u
		}
	}
	if it.Data != nil {
		p["data"] = it.Data
	}
	if it.Message != "" {
		if m, ok := s.Message(it.Message); ok {
			p["message"] = map[string]any{"id": m.ID, "channel_id": m.ChannelID, "flags": m.Flags}
		}
	}
	b, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	return b
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Delivery is what the endpoint answered.
type Delivery struct {
	Status   int
	Response Response // when Status is 200
	Body     []byte
}

// Deliver signs and posts it to endpoint as Discord does, and applies the
// endpoint's answer (the interaction's first response) to the fake's state.
func (s *Server) Deliver(ctx context.Context, endpoint string, it *Interaction, now time.Time) (Delivery, error) {
	body := s.Payload(it)
	return s.DeliverRaw(ctx, endpoint, it.Token, body, s.Signer.Headers(now, body))
}

// DeliverRaw posts body with the given headers, for tests of bad
// signatures and odd payloads. tok names the interaction token, if any.
func (s *Server) DeliverRaw(ctx context.Context, endpoint, tok string, body []byte, h http.Header) (Delivery, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return Delivery{}, err
	}
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Delivery{}, err
	}
	defer resp.Body.Close()
	out := Delivery{Status: resp.StatusCode}
	out.Body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return out, nil
	}
	if err := json.Unmarshal(out.Body, &out.Response); err != nil {
		return out, fmt.Errorf("decoding the interaction response: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[tok]
	if t == nil {
		s.responses = append(s.responses, out.Response)
		return out, nil
	}
	if t.answered {
		// Discord refuses a second acknowledgement; the first one stands.
		s.responses = append(s.responses, out.Response)
		return out, nil
	}
	if msg := s.applyCallback(t, out.Response, nil); msg != "" {
		return out, fmt.Errorf("discord would refuse the response: %s", msg)
	}
	return out, nil
}
