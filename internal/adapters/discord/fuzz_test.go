package discord

import (
	"crypto/ed25519"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/commands/commandstest"
)

// FuzzDecodeInteraction feeds untrusted payloads through decoding and the
// translation to command text: nothing may panic, and what decodes has the
// fields later code relies on.
func FuzzDecodeInteraction(f *testing.F) {
	f.Add([]byte(`{"id":"1","type":1}`))
	f.Add([]byte(`{"id":"2","type":2,"token":"t","member":{"user":{"id":"3"},"roles":["9"]},"data":{"name":"lxc","options":[{"name":"create","type":1,"options":[{"name":"cores","type":4,"value":2}]}]}}`))
	f.Add([]byte(`{"id":"2","type":4,"token":"t","user":{"id":"3"},"data":{"name":"lxc","options":[{"name":"template","type":2,"options":[{"name":"show","type":1,"options":[{"name":"name","type":3,"value":"ng","focused":true}]}]}]}}`))
	f.Add([]byte(`{"id":"2","type":3,"token":"t","user":{"id":"3"},"data":{"custom_id":"a|ct.stop|ct-web1","component_type":2},"message":{"id":"5","flags":64}}`))
	f.Add([]byte(`{"id":"2","type":5,"token":"t","user":{"id":"3"},"data":{"custom_id":"f|abc","components":[{"type":1,"components":[{"type":4,"custom_id":"+a+b","value":"1 / 2"}]}]}}`))
	table := commands.New(commands.Deps{Backend: commandstest.NewMem()}).Table()
	f.Fuzz(func(t *testing.T, body []byte) {
		it, err := decodeInteraction(body)
		if err != nil {
			return
		}
		require.True(t, isSnowflake(it.ID))
		if it.Type == itPing {
			return
		}
		require.NotNil(t, it.who())
		require.NotEmpty(t, it.Token)
		_ = principal(it)
		switch it.Type {
		case itCommand, itAutocomplete:
			var data commandData
			if json.Unmarshal(it.Data, &data) == nil {
				if inv, err := translate(table, data); err == nil {
					_, _ = table.Parse(inv.text)
				}
			}
		case itModalSubmit:
			var data modalData
			if json.Unmarshal(it.Data, &data) == nil {
				vals := map[string]string{}
				for _, r := range data.Components {
					for _, c := range r.Components {
						vals[c.CustomID] = c.Value
					}
				}
				_ = unpack(vals)
			}
		}
	})
}

// FuzzVerify checks that only a signature made with the key over exactly
// timestamp+body, within the window, is accepted.
func FuzzVerify(f *testing.F) {
	seed := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	pub := seed.Public().(ed25519.PublicKey)
	now := time.Unix(1_740_830_400, 0)
	f.Add("1740830400", []byte(`{"type":1}`), "", int64(0))
	f.Add("1740830100", []byte(`{}`), "00", int64(0))
	f.Add("-1", []byte(``), "zz", int64(1))
	f.Add("1740830400 ", []byte(`{"type":1}`), "", int64(-400))
	f.Fuzz(func(t *testing.T, ts string, body []byte, sig string, skew int64) {
		// An arbitrary signature is refused (unless it happens to be right).
		if err := verify(pub, sig, ts, body, now); err == nil {
			require.Equal(t, sig, signHex(seed, ts, body))
		}
		// A real signature passes exactly when the timestamp is in the window.
		good := signHex(seed, ts, body)
		err := verify(pub, good, ts, body, now.Add(time.Duration(skew)*time.Second))
		sec, perr := strconv.ParseInt(ts, 10, 64)
		inWindow := perr == nil && len(ts) <= 20
		if inWindow {
			d := now.Add(time.Duration(skew) * time.Second).Sub(time.Unix(sec, 0))
			inWindow = d <= SignatureWindow && d >= -SignatureWindow
		}
		if ts == "" {
			inWindow = false
		}
		require.Equal(t, inWindow, err == nil, "ts=%q skew=%d err=%v", ts, skew, err)
		// Tampering with the body breaks it.
		if err == nil {
			require.Error(t, verify(pub, good, ts, append(append([]byte{}, body...), 'x'), now.Add(time.Duration(skew)*time.Second)))
		}
	})
}

func signHex(k ed25519.PrivateKey, ts string, body []byte) string {
	return hexEncode(ed25519.Sign(k, append([]byte(ts), body...)))
}
