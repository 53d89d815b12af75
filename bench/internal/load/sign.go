package load

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
	"time"
)

// Sign returns Slack's v0 signature of body sent at ts:
// "v0=" + hex(HMAC-SHA256(secret, "v0:" + ts + ":" + body)).
func Sign(secret []byte, ts string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a v0 signature and a timestamp within five minutes of now,
// in constant time. The floor server uses it.
func Verify(secret []byte, ts, sig string, body []byte, now time.Time) bool {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	if age := now.Sub(time.Unix(sec, 0)); age > 5*time.Minute || age < -5*time.Minute {
		return false
	}
	return hmac.Equal([]byte(sig), []byte(Sign(secret, ts, body)))
}

// CommandBody is the form body Slack sends for `/lxc <text>`, with a
// trigger id unique to seq so a server that deduplicates deliveries treats
// every request as new.
func CommandBody(text, user, channel, responseURL, seq string) []byte {
	v := url.Values{
		"token":                 {"bench-verification-token"},
		"team_id":               {"TBENCH"},
		"team_domain":           {"bench"},
		"channel_id":            {channel},
		"channel_name":          {"bench"},
		"user_id":               {user},
		"user_name":             {"bench"},
		"command":               {"/lxc"},
		"text":                  {text},
		"api_app_id":            {"ABENCH"},
		"is_enterprise_install": {"false"},
		"response_url":          {responseURL},
		"trigger_id":            {"bench." + seq},
	}
	return []byte(v.Encode())
}
