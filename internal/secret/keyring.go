package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Sealed ciphertexts are laid out as:
//
//	version(1) | keyID(4) | nonce(12) | AES-256-GCM(ciphertext+tag)
//
// The key id is the first four bytes of SHA-256 over the key, so a key is
// recognised without storing it, and a rotated-out key still opens old values.
const (
	sealVersion = 1
	keyIDLen    = 4
	nonceLen    = 12
	headerLen   = 1 + keyIDLen + nonceLen
)

// Errors returned by Open. They never contain key material or plaintext.
var (
	ErrUnknownKey = errors.New("secret: sealed with a key that is not configured")
	ErrCorrupt    = errors.New("secret: ciphertext is corrupt or was tampered with")
)

// Key is a 32-byte AES-256 key.
type Key [32]byte

// ParseKey decodes a key written as 64 hexadecimal characters.
func ParseKey(s string) (Key, error) {
	var k Key
	s = strings.TrimSpace(s)
	if len(s) != 64 {
		return k, fmt.Errorf("must be 64 hex characters (32 bytes), got %d characters", len(s))
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return k, errors.New("must be 64 hex characters (32 bytes): not valid hex")
	}
	copy(k[:], b)
	return k, nil
}

// GenerateKey returns a fresh random key.
func GenerateKey() (Key, error) {
	var k Key
	_, err := rand.Read(k[:])
	return k, err
}

// Hex returns the key as 64 hex characters. Handle the result as a secret.
func (k Key) Hex() String { return String(hex.EncodeToString(k[:])) }

// ID is the key's short identifier embedded in every ciphertext.
func (k Key) ID() string {
	sum := sha256.Sum256(k[:])
	return hex.EncodeToString(sum[:keyIDLen])
}

// String redacts the key.
func (k Key) String() string { return Redacted }

// GoString redacts the key.
func (k Key) GoString() string { return "secret.Key(" + Redacted + ")" }

// Keyring seals with its primary key and opens with any of its keys.
type Keyring struct {
	primary [keyIDLen]byte
	aeads   map[[keyIDLen]byte]cipher.AEAD
}

// NewKeyring builds a keyring: primary seals new values; old keys only open.
func NewKeyring(primary Key, old ...Key) (*Keyring, error) {
	kr := &Keyring{aeads: make(map[[keyIDLen]byte]cipher.AEAD)}
	for i, k := range append([]Key{primary}, old...) {
		block, err := aes.NewCipher(k[:])
		if err != nil {
			return nil, fmt.Errorf("secret: key %d: %w", i, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("secret: key %d: %w", i, err)
		}
		id := keyID(k)
		if i == 0 {
			kr.primary = id
		}
		kr.aeads[id] = aead
	}
	return kr, nil
}

func keyID(k Key) [keyIDLen]byte {
	sum := sha256.Sum256(k[:])
	var id [keyIDLen]byte
	copy(id[:], sum[:keyIDLen])
	return id
}

// Seal encrypts plaintext under the primary key. aad binds the ciphertext to
// its context (for example "node:7:token_secret") so it cannot be moved.
func (kr *Keyring) Seal(plaintext, aad []byte) ([]byte, error) {
	out := make([]byte, headerLen, headerLen+len(plaintext)+16)
	out[0] = sealVersion
	copy(out[1:1+keyIDLen], kr.primary[:])
	if _, err := rand.Read(out[1+keyIDLen : headerLen]); err != nil {
		return nil, fmt.Errorf("secret: reading nonce: %w", err)
	}
	aead := kr.aeads[kr.primary]
	return aead.Seal(out, out[1+keyIDLen:headerLen], plaintext, aad), nil
}

// Open decrypts a value sealed by any key in the ring.
func (kr *Keyring) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < headerLen+16 || sealed[0] != sealVersion {
		return nil, ErrCorrupt
	}
	var id [keyIDLen]byte
	copy(id[:], sealed[1:1+keyIDLen])
	aead, ok := kr.aeads[id]
	if !ok {
		return nil, ErrUnknownKey
	}
	pt, err := aead.Open(nil, sealed[1+keyIDLen:headerLen], sealed[headerLen:], aad)
	if err != nil {
		return nil, ErrCorrupt
	}
	return pt, nil
}

// SealString seals a secret string.
func (kr *Keyring) SealString(s String, aad string) ([]byte, error) {
	return kr.Seal([]byte(s.Reveal()), []byte(aad))
}

// OpenString opens a sealed secret string.
func (kr *Keyring) OpenString(sealed []byte, aad string) (String, error) {
	pt, err := kr.Open(sealed, []byte(aad))
	if err != nil {
		return "", err
	}
	return String(pt), nil
}

// NeedsRotation reports whether sealed was written with a key other than the primary.
func (kr *Keyring) NeedsRotation(sealed []byte) bool {
	return len(sealed) < headerLen || string(sealed[1:1+keyIDLen]) != string(kr.primary[:])
}
