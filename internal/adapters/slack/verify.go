package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Signature headers Slack sends with every HTTP request.
const (
	headerSignature = "X-Slack-Signature"
	headerTimestamp = "X-Slack-Request-Timestamp"
	headerRetryNum  = "X-Slack-Retry-Num"
	// signatureWindow is how far a request timestamp may be from now, either
	// way, before the request is refused as a replay.
	signatureWindow = 5 * time.Minute
)

var (
	errNoSignature  = errors.New("missing slack signature headers")
	errBadTimestamp = errors.New("malformed slack request timestamp")
	errStale        = errors.New("slack request timestamp outside the 5 minute window")
	errBadSignature = errors.New("slack signature does not match")
)

// verifySignature checks X-Slack-Signature against the raw body:
// "v0=" + hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" + body)), with the
// timestamp within signatureWindow of now in either direction. The
// comparison is constant-time. Errors never contain the secret.
func verifySignature(h http.Header, body []byte, secret []byte, now time.Time) error {
	sig, ts := h.Get(headerSignature), h.Get(headerTimestamp)
	if sig == "" || ts == "" || len(secret) == 0 {
		return errNoSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec <= 0 {
		return errBadTimestamp
	}
	age := now.Sub(time.Unix(sec, 0))
	if age > signatureWindow || age < -signatureWindow {
		return errStale
	}
	want := computeSignature(secret, ts, body)
	if !strings.HasPrefix(sig, "v0=") || !hmac.Equal([]byte(sig), []byte(want)) {
		return errBadSignature
	}
	return nil
}

// computeSignature is the v0 signature of body sent at timestamp ts.
func computeSignature(secret []byte, ts string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}
