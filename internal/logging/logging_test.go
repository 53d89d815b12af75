package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseLevel(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]slog.Level{
		"debug": slog.LevelDebug, "INFO": slog.LevelInfo, " warn ": slog.LevelWarn,
		"warning": slog.LevelWarn, "error": slog.LevelError,
	} {
		got, err := ParseLevel(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	_, err := ParseLevel("verbose")
	require.ErrorContains(t, err, `"verbose" is not one of debug, info, warn, error`)
}

func TestParseFormat(t *testing.T) {
	t.Parallel()
	f, err := ParseFormat("TEXT")
	require.NoError(t, err)
	require.Equal(t, FormatText, f)
	_, err = ParseFormat("xml")
	require.ErrorContains(t, err, `"xml" is not one of json, text`)
}

func TestNewJSONFiltersByLevel(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := New(&buf, slog.LevelWarn, FormatJSON)
	log.Info("dropped")
	log.Warn("kept", "container", "web1")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 1)
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &rec))
	require.Equal(t, "kept", rec["msg"])
	require.Equal(t, "web1", rec["container"])
}

func TestNewText(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	New(&buf, slog.LevelDebug, FormatText).Debug("hello", "job", 7)
	require.Contains(t, buf.String(), "level=DEBUG msg=hello job=7")
}
