package discord

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/adapters/discord/discordfake"
	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/commands/commandstest"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/secret"
)

// memState is an in-memory Store and Deduper for fuzzing without Redis.
type memState struct {
	mu   sync.Mutex
	kv   map[string][]byte
	seen map[string]bool
}

func (m *memState) Put(_ context.Context, key string, value []byte, _ time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.kv[key] = append([]byte(nil), value...)
	return nil
}

func (m *memState) Get(_ context.Context, key string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.kv[key]
	return v, ok, nil
}

func (m *memState) Claim(_ context.Context, key string, _ time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen[key] {
		return false, nil
	}
	m.seen[key] = true
	return true, nil
}

// fuzzFormKey is an open create form's session key in FuzzComponentIDs.
const fuzzFormKey = "0123456789abcdef01"

// FuzzComponentIDs sends button presses, select choices and modal
// submissions whose custom_id, values and text inputs are arbitrary
// (forged prefixes, stored-button and form keys that exist or not, packed
// number inputs) through the adapter as a verified interaction. Each gets
// exactly one first response and no panic, however the ids are built.
func FuzzComponentIDs(f *testing.F) {
	fake := discordfake.New(appID, botToken)
	f.Cleanup(fake.Close)
	mem := commandstest.NewMem()
	mem.SetRole(principalOf(opUser), provision.RoleOperator)
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	router := commands.New(commands.Deps{Backend: mem, Log: log, Clock: commandstest.FixedClock{T: commandstest.Epoch}, NewRef: func() string { return "ref1" }})
	state := &memState{kv: map[string][]byte{}, seen: map[string]bool{}}
	a, err := New(Config{
		AppID: appID, BotToken: secret.String(botToken), APIURL: fake.APIURL(),
		Router: router, Dedupe: state, Store: state, Log: log, EditInterval: time.Millisecond,
	})
	require.NoError(f, err)
	f.Cleanup(a.Close)
	// An open create form, as /lxc create leaves it.
	created := router.Handle(context.Background(), commands.Request{Principal: principalOf(opUser), Platform: "discord",
		Kind: commands.KindCommand, Text: "create"})
	require.NotNil(f, created.Form)
	require.NoError(f, a.putSession(context.Background(), fuzzFormKey, newSession(created.Form, nil)))

	f.Add(uint8(3), "a|ct.stop|ct-web1", "", "")
	f.Add(uint8(3), "a|ct.delete|ct-web2", "", "")
	f.Add(uint8(3), "s|ct.shutdown", "", "ct-web1")
	f.Add(uint8(3), "s|ct.show", "", "k|0000")
	f.Add(uint8(3), "k|deadbeef", "", "")
	f.Add(uint8(3), "c|", "", "")
	f.Add(uint8(3), "x|", "", "")
	f.Add(uint8(3), "g|"+fuzzFormKey+"|node", "", "pve2")
	f.Add(uint8(3), "g|"+fuzzFormKey+"|os_template", "", "local:vztmpl/x")
	f.Add(uint8(3), "o|"+fuzzFormKey, "", "")
	f.Add(uint8(3), "o|nope", "", "")
	f.Add(uint8(3), "|||", "", "")
	f.Add(uint8(3), "", "", "")
	f.Add(uint8(5), "f|"+fuzzFormKey, "+cores+memory+disk", "2 / 1024 / 8")
	f.Add(uint8(5), "f|"+fuzzFormKey, "+cores+memory+disk", "1/2/3/4/5")
	f.Add(uint8(5), "f|"+fuzzFormKey, "+", "/")
	f.Add(uint8(5), "f|"+fuzzFormKey, "hostname", "web9")
	f.Add(uint8(5), "f|"+fuzzFormKey, "+hostname+node", "x / pve9")
	f.Add(uint8(5), "f|", "hostname", "web9")
	f.Add(uint8(5), "a|ct.stop|ct-web1", "hostname", "web1")
	var (
		mu  sync.Mutex
		seq int
	)
	f.Fuzz(func(t *testing.T, kind uint8, customID, inputID, value string) {
		mu.Lock()
		seq++
		id := fmt.Sprintf("8%017d", seq)
		mu.Unlock()
		var data any
		typ := itComponent
		if int(kind) == itModalSubmit {
			typ = itModalSubmit
			data = map[string]any{"custom_id": customID, "components": []any{map[string]any{"type": 1,
				"components": []any{map[string]any{"type": 4, "custom_id": inputID, "value": value}}}}}
		} else {
			d := map[string]any{"custom_id": customID, "component_type": 2}
			if value != "" {
				d = map[string]any{"custom_id": customID, "component_type": 3, "values": []string{value}}
			}
			data = d
		}
		body, err := json.Marshal(map[string]any{
			"id": id, "application_id": appID, "type": typ, "token": "itok-fuzz-" + id,
			"guild_id": guildID, "channel_id": channel,
			"member":  map[string]any{"user": map[string]any{"id": opUser.ID, "username": opUser.Name}},
			"data":    data,
			"message": map[string]any{"id": "600000000000000001", "channel_id": channel},
		})
		require.NoError(t, err)
		it, err := decodeInteraction(body)
		if err != nil {
			return // invalid UTF-8 made into JSON the decoder refuses
		}
		var acks []response
		var amu sync.Mutex
		a.dispatch(context.Background(), it, func(_ context.Context, r response) error {
			amu.Lock()
			defer amu.Unlock()
			acks = append(acks, r)
			return nil
		})
		a.Wait()
		amu.Lock()
		defer amu.Unlock()
		require.Len(t, acks, 1, "one first response for %q", customID)
		require.NotZero(t, acks[0].Type)
		require.NotContains(t, logs.String(), "panic")
	})
}

// FuzzUnpack splits packed number inputs back into fields: whatever is
// typed, every packed field gets a value and nothing else appears; values
// typed without slashes come back as typed.
func FuzzUnpack(f *testing.F) {
	f.Add("cores,memory,disk", "2 / 1024 / 8")
	f.Add("cores,memory", "1/2/3")
	f.Add("cores", "")
	f.Add(",", "/")
	f.Add("a,a", "1 / 2")
	f.Fuzz(func(t *testing.T, names, typed string) {
		fields := strings.Split(names, ",")
		var numbers []commands.Field
		for _, n := range fields {
			if n == "" || strings.Contains(n, packedPrefix) {
				return
			}
			numbers = append(numbers, commands.Field{Name: n, Label: n, Kind: commands.FieldNumber})
		}
		if len(packedPrefix+strings.Join(fields, packedPrefix)) > maxCustomID {
			// Clipped to Discord's limit: the form's own field names
			// (cores, memory, disk) are far shorter.
			return
		}
		in := packedInput(numbers, nil)
		out := unpack(map[string]string{in.CustomID: typed})
		for _, n := range fields {
			_, ok := out[n]
			require.True(t, ok, "field %q lost", n)
		}
		for k := range out {
			require.Contains(t, fields, k)
		}
		// Round trip: values without slashes or edge spaces survive.
		vals := strings.Split(typed, ",")
		if len(vals) != len(fields) || len(fields) != len(uniq(fields)) {
			return
		}
		values := map[string]string{}
		for i, n := range fields {
			v := vals[i]
			if v == "" || strings.Contains(v, "/") || strings.TrimSpace(v) != v {
				return
			}
			values[n] = v
		}
		back := unpack(map[string]string{in.CustomID: packedInput(numbers, values).Value})
		require.Equal(t, values, back)
	})
}

func uniq(s []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	return m
}
