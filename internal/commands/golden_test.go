package commands_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/commands/commandstest"
	"github.com/lxcbot/lxcbot/internal/provision"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares v, as indented JSON, with testdata/name.golden.json.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	require.NoError(t, enc.Encode(v))
	got := buf.Bytes()
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	require.Equal(t, string(want), string(got))
}

func TestHelpGolden(t *testing.T) {
	r, _ := newRouter(t)
	for name, text := range map[string]string{"help": "help", "help-create": "help create", "help-node": "help node"} {
		resp := r.Handle(context.Background(), commands.Request{Principal: commandstest.Viewer, Platform: "console", Kind: commands.KindCommand, Text: text})
		require.NoError(t, commands.Validate(resp))
		golden(t, name, resp)
	}
}

// jobEvents runs a creation on the in-memory backend and collects its events.
func jobEvents(t *testing.T, fail provision.Phase) (*provision.Container, []provision.ProgressEvent) {
	t.Helper()
	m := commandstest.NewMem()
	m.Fail = fail
	ctx := context.Background()
	ct, err := m.Create(ctx, commandstest.Operator, provision.Origin{}, provision.CreateRequest{Template: "nginx", Hostname: "web9"}, "k1")
	require.NoError(t, err)
	ch, err := m.Subscribe(ctx, ct.ID, "")
	require.NoError(t, err)
	var evs []provision.ProgressEvent
	for e := range ch {
		evs = append(evs, e)
	}
	final, err := m.Container(ctx, ct.ID)
	require.NoError(t, err)
	return final, evs
}

func TestJobCardGolden(t *testing.T) {
	ct, evs := jobEvents(t, "")
	running := *ct
	running.State = provision.StateCreating
	var upToScript []provision.ProgressEvent
	for _, e := range evs {
		upToScript = append(upToScript, e)
		if e.Type == provision.ProgressScriptStarted && e.ScriptIndex == 2 {
			break
		}
	}
	pending := running
	pending.VMID, pending.State = 0, provision.StatePending
	svcs := []provision.Service{{Unit: "nginx.service", Kind: provision.ServiceApplication, Status: "active", Ports: []int{80}, URL: "http://10.0.0.110:80"}}

	failedCt, failedEvs := jobEvents(t, provision.PhaseScripts)
	cards := map[string]commands.Response{
		"jobcard-pending": commands.JobCard(&pending, nil, nil),
		"jobcard-running": commands.JobCard(&running, upToScript, nil),
		"jobcard-ready":   commands.JobCard(ct, evs, svcs),
		"jobcard-failed":  commands.JobCard(failedCt, failedEvs, nil),
	}
	cancelled := running
	cancelled.State = provision.StateCancelled
	cards["jobcard-cancelled"] = commands.JobCard(&cancelled, append(upToScript[:3:3], provision.ProgressEvent{Type: provision.ProgressCancelled, At: commandstest.Epoch.Add(time.Minute)}), nil)
	for name, resp := range cards {
		require.NoError(t, commands.Validate(resp), name)
		golden(t, name, resp)
	}

	var thread []*commands.Response
	for _, e := range failedEvs {
		if te := commands.ThreadEntry(e); te != nil {
			require.NoError(t, commands.Validate(*te))
			thread = append(thread, te)
		}
	}
	golden(t, "thread-failed", thread)
}

func TestProgressBar(t *testing.T) {
	require.Equal(t, "▓▓▓▓░░░░░░ 45%", commands.ProgressBar(45, 10))
	require.Equal(t, "░░░░░░░░░░ 0%", commands.ProgressBar(-3, 10))
	require.Equal(t, "▓▓▓▓▓▓▓▓▓▓ 100%", commands.ProgressBar(140, 10))
}
