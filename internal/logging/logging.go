package logging

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Format is how log records are written.
type Format string

// Formats.
const (
	FormatJSON Format = "json"
	FormatText Format = "text"
)

// ParseLevel reads a level name: debug, info, warn (or warning) or error,
// in any case.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%q is not one of debug, info, warn, error", s)
}

// ParseFormat reads a format name: json or text, in any case.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case FormatJSON, FormatText:
		return f, nil
	}
	return "", fmt.Errorf("%q is not one of json, text", s)
}

// New returns a logger writing records at level and above to w in format.
// An unknown format falls back to JSON, the production default.
func New(w io.Writer, level slog.Leveler, format Format) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == FormatText {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
