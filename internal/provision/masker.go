package provision

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// MaskText replaces a secret value wherever it appears in output.
const MaskText = "••••••"

// SecretMarker prefixes the side-channel line the helper library writes to
// stderr for every secret it saves or generates: "##lxcbot-secret <base64>".
// The runner swallows such lines and masks the value from then on.
const SecretMarker = "##lxcbot-secret "

// minSecretLen keeps one-character values from masking every line.
const minSecretLen = 3

// Masker replaces known secret values with MaskText. It is safe for
// concurrent use.
type Masker struct {
	mu      sync.RWMutex
	secrets []string // longest first, so a secret containing another is masked whole
}

// NewMasker returns an empty Masker.
func NewMasker() *Masker { return &Masker{} }

// Add registers a secret value.
func (m *Masker) Add(v string) {
	v = strings.TrimRight(v, "\r\n")
	if len(v) < minSecretLen {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if slices.Contains(m.secrets, v) {
		return
	}
	m.secrets = append(m.secrets, v)
	slices.SortFunc(m.secrets, func(a, b string) int { return len(b) - len(a) })
}

// Mask returns s with every registered secret replaced.
func (m *Masker) Mask(s string) string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, v := range m.secrets {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, MaskText)
		}
	}
	return s
}

// Intercept handles a side-channel secret line ("##lxcbot-secret <base64
// value> [KEY]"): if line is one, the value is registered when it is worth
// hiding and Intercept returns true (the line must not be shown).
func (m *Masker) Intercept(line string) bool {
	rest, ok := strings.CutPrefix(strings.TrimLeft(line, " \t"), strings.TrimSpace(SecretMarker))
	if !ok {
		return false
	}
	f := strings.Fields(rest)
	if len(f) == 0 {
		return true
	}
	raw, err := base64.StdEncoding.DecodeString(f[0])
	if err != nil {
		return true
	}
	key := ""
	if len(f) > 1 {
		key = f[1]
	}
	if secretWorthy(key, string(raw)) {
		m.Add(string(raw))
	}
	return true
}

// secretWorthy decides whether a saved value is hidden from output.
// Generated values (no key) and values under secret-sounding keys always
// are; other values (a user name, a port) only when long and not a number,
// so that ordinary words and port numbers stay readable.
func secretWorthy(key, value string) bool {
	if key == "" {
		return true
	}
	k := strings.ToUpper(key)
	for _, w := range []string{"PASS", "SECRET", "TOKEN", "KEY", "PWD", "PRIVATE", "CRED", "AUTH", "SALT"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	if len(value) < 8 {
		return false
	}
	_, err := strconv.Atoi(value)
	return err != nil
}
