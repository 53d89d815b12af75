package provision

import (
	"encoding/base64"
	"slices"
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

// Intercept handles a side-channel secret line: if line is one, its value is
// registered and Intercept returns true (the line must not be shown).
func (m *Masker) Intercept(line string) bool {
	rest, ok := strings.CutPrefix(strings.TrimLeft(line, " \t"), strings.TrimSpace(SecretMarker))
	if !ok {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err == nil {
		m.Add(string(raw))
	}
	return true
}
