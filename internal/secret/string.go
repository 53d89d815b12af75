package secret

import (
	"fmt"
	"log/slog"
)

// Redacted is what a String shows instead of its value.
const Redacted = "<secret>"

// String is a secret value. It prints, marshals and logs as Redacted; only
// Reveal returns the value, so every disclosure is a visible call site.
type String string

// Reveal returns the secret value.
func (s String) Reveal() string { return string(s) }

// IsZero reports whether the secret is empty.
func (s String) IsZero() bool { return s == "" }

// String implements fmt.Stringer.
func (s String) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// GoString implements fmt.GoStringer so %#v redacts too.
func (s String) GoString() string { return fmt.Sprintf("secret.String(%q)", s.String()) }

// Format makes every verb (%v, %s, %q, %x, %d ...) redact.
func (s String) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", s.String())
	case 'v':
		if f.Flag('#') {
			fmt.Fprint(f, s.GoString())
			return
		}
		fmt.Fprint(f, s.String())
	default:
		fmt.Fprint(f, s.String())
	}
}

// MarshalJSON redacts the value in JSON.
func (s String) MarshalJSON() ([]byte, error) { return []byte(fmt.Sprintf("%q", s.String())), nil }

// MarshalText redacts the value in text encodings (YAML, slog's text handler).
func (s String) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue redacts the value in slog.
func (s String) LogValue() slog.Value { return slog.StringValue(s.String()) }
