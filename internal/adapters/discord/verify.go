package discord

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"strconv"
	"time"
)

// SignatureWindow is how far an interaction's timestamp may be from now.
// discordgo's VerifyInteraction checks only the signature; a replayed
// request with an old, valid signature is refused here.
const SignatureWindow = 5 * time.Minute

var (
	errBadSignature = errors.New("invalid request signature")
	errStale        = errors.New("request timestamp outside the allowed window")
)

// verify checks the Ed25519 signature over timestamp + body and that the
// timestamp (Unix seconds) is within SignatureWindow of now.
func verify(key ed25519.PublicKey, sigHex, ts string, body []byte, now time.Time) error {
	if len(key) != ed25519.PublicKeySize || sigHex == "" || ts == "" || len(ts) > 20 {
		return errBadSignature
	}
	sig, err := hex.DecodeString(sigHex)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return errBadSignature
	}
	msg := make([]byte, 0, len(ts)+len(body))
	msg = append(append(msg, ts...), body...)
	if !ed25519.Verify(key, msg, sig) {
		return errBadSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errStale
	}
	d := now.Sub(time.Unix(sec, 0))
	if d > SignatureWindow || d < -SignatureWindow {
		return errStale
	}
	return nil
}

// ParsePublicKey decodes DISCORD_PUBLIC_KEY (64 hex characters).
func ParsePublicKey(h string) (ed25519.PublicKey, error) {
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, errors.New("the Discord public key must be 64 hex characters")
	}
	return ed25519.PublicKey(b), nil
}

func hexEncode(b []byte) string { return hex.EncodeToString(b) }
