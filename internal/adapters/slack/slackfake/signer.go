package slackfake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Signer signs requests the way Slack does:
// X-Slack-Signature = "v0=" + hex(HMAC-SHA256(secret, "v0:" + ts + ":" + body)).
type Signer struct {
	Secret string
	// Now is the signing time; nil = time.Now.
	Now func() time.Time
}

// Sign sets the signature headers of r for body.
func (s Signer) Sign(r *http.Request, body []byte) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	ts := strconv.FormatInt(now().Unix(), 10)
	r.Header.Set("X-Slack-Request-Timestamp", ts)
	r.Header.Set("X-Slack-Signature", Signature(s.Secret, ts, body))
}

// Signature computes a v0 signature.
func Signature(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// Request builds a signed POST of body to target.
func (s Signer) Request(target, contentType string, body []byte) *http.Request {
	r, err := http.NewRequest(http.MethodPost, target, strings.NewReader(string(body)))
	if err != nil {
		panic(err)
	}
	r.Header.Set("Content-Type", contentType)
	s.Sign(r, body)
	return r
}

// SlashCommand builds a signed slash command request.
func (s Signer) SlashCommand(target string, form url.Values) *http.Request {
	return s.Request(target, "application/x-www-form-urlencoded", []byte(form.Encode()))
}

// Interaction builds a signed interaction request: payload is JSON-encoded
// into the "payload" form field.
func (s Signer) Interaction(target string, payload any) *http.Request {
	raw, err := json.Marshal(payload)
	if err != nil {
		panic(err)
	}
	body := url.Values{"payload": {string(raw)}}.Encode()
	return s.Request(target, "application/x-www-form-urlencoded", []byte(body))
}

// Event builds a signed Events API request.
func (s Signer) Event(target string, event any) *http.Request {
	raw, err := json.Marshal(event)
	if err != nil {
		panic(err)
	}
	return s.Request(target, "application/json", raw)
}
