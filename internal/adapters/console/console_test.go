package console_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/adapters/console"
	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/commands/commandstest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestScriptedSession plays a script (help, the create form filled mostly
// with defaults, the plan's Create button, live progress, a y/N confirmation,
// the delete form, bad input) and compares the transcript with a golden file.
func TestScriptedSession(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("testdata", "session.txt"))
	require.NoError(t, err)
	m := commandstest.NewMem()
	r := commands.New(commands.Deps{Backend: m, Clock: commandstest.FixedClock{T: commandstest.Epoch}, NewRef: func() string { return "p0001" }})
	var out bytes.Buffer
	err = console.Run(context.Background(), console.Config{
		In: bytes.NewReader(script), Out: &out, Router: r, Principal: commandstest.Admin, Script: true,
	})
	require.NoError(t, err)

	golden := filepath.Join("testdata", "session.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, out.Bytes(), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	require.Equal(t, string(want), out.String())

	// The session did what the transcript says.
	require.Contains(t, out.String(), "web3 is ready")
	deleted, err := m.Containers(context.Background(), commands.ContainerFilter{State: "deleted"})
	require.NoError(t, err)
	require.Len(t, deleted, 1)
	require.Equal(t, "web3", deleted[0].Hostname)
	st, err := m.Status(context.Background(), "ct-web2")
	require.NoError(t, err)
	require.Equal(t, "stopped", st.Status)
	require.True(t, strings.Count(out.String(), "> ") >= strings.Count(string(script), "\n"), "every input line is echoed")
}
