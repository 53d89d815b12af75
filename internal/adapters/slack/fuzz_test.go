package slack

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// FuzzVerifySignature feeds arbitrary headers and bodies to the signature
// check: it never panics, accepts only what the secret signed, and a valid
// signature stops matching when the body changes.
func FuzzVerifySignature(f *testing.F) {
	now := time.Unix(1700000000, 0)
	f.Add("v0=abc", "1700000000", []byte("token=x&team_id=T1"))
	f.Add("", "", []byte(""))
	f.Add("v0=", "-1", []byte("{}"))
	f.Add("v1=deadbeef", "99999999999999999999", []byte("payload=%7B%7D"))
	f.Add(computeSignature([]byte("secret"), "1700000000", []byte("a=b")), "1700000000", []byte("a=b"))
	f.Fuzz(func(t *testing.T, sig, ts string, body []byte) {
		h := http.Header{}
		h.Set(headerSignature, sig)
		h.Set(headerTimestamp, ts)
		err := verifySignature(h, body, []byte("secret"), now)
		if err == nil {
			require.Equal(t, computeSignature([]byte("secret"), ts, body), sig)
		}
		good := http.Header{}
		good.Set(headerTimestamp, strconv.FormatInt(now.Unix(), 10))
		good.Set(headerSignature, computeSignature([]byte("secret"), good.Get(headerTimestamp), body))
		require.NoError(t, verifySignature(good, body, []byte("secret"), now))
		require.Error(t, verifySignature(good, append(append([]byte(nil), body...), 'x'), []byte("secret"), now))
	})
}

// FuzzDecodePayloads feeds arbitrary bodies to every decoder of Slack
// input: slash command forms, interaction payloads, Events API bodies and
// the form values read from a view. None may panic.
func FuzzDecodePayloads(f *testing.F) {
	f.Add([]byte("team_id=T1&user_id=U1&text=help&trigger_id=t"))
	f.Add([]byte(`payload={"type":"block_actions","actions":[{"action_id":"ct.show","block_id":"b1","value":"web1"}]}`))
	f.Add([]byte(`payload={"type":"view_submission","view":{"id":"V1","callback_id":"lxc:create:C1:","state":{"values":{"f:hostname":{"hostname":{"type":"plain_text_input","value":"web1"}}}}}}`))
	f.Add([]byte(`{"type":"event_callback","event_id":"Ev1","event":{"type":"app_home_opened","user":"U1","tab":"home"}}`))
	f.Add([]byte(`{"type":"url_verification","challenge":"x"}`))
	f.Add([]byte(`{"type":"event_callback","event":{"type":"app_mention","text":"<@UBOT> list","channel":"C1","ts":"1.2"}}`))
	f.Add([]byte("payload=%ZZ"))
	f.Fuzz(func(t *testing.T, body []byte) {
		if form, err := url.ParseQuery(string(body)); err == nil {
			_ = slashCommandFromForm(form)
		}
		if cb, err := decodeInteraction(body); err == nil {
			_ = formValues(cb.View.State)
			_ = formErrors(cb.View, map[string]string{"hostname": "bad"})
			_, _, _, _ = parseCallbackID(cb.View.CallbackID)
			for _, a := range cb.ActionCallback.BlockActions {
				_ = parseActionID(a.ActionID)
				_, _, _, _ = parseFieldBlockID(a.BlockID)
				_ = actionValue(*a)
			}
		}
		_, _, _ = decodeEvent(body)
		_ = mentionRE.ReplaceAllString(string(body), "")
	})
}
