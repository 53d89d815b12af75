package proxmox

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// Errors a caller can test for with errors.Is.
var (
	// ErrVMIDExists: create was refused because the VMID is taken. It is
	// the domain's error, so the pipeline's errors.Is check matches.
	ErrVMIDExists = provision.ErrVMIDExists
	// ErrAlreadyRunning: start was refused because the container runs.
	ErrAlreadyRunning = fmt.Errorf("container already running: %w", provision.ErrConflict)
	// ErrNotRunning: stop, shutdown or reboot was refused because the
	// container is stopped.
	ErrNotRunning = fmt.Errorf("container not running: %w", provision.ErrConflict)
	// ErrAuth: the API refused the token (401) or a privilege is missing (403).
	ErrAuth = errors.New("proxmox API authentication or permission failure")
)

// APIError is an error answer from the API. PVE puts its message in the HTTP
// reason phrase ("500 CT 101 already running"), which Reason keeps.
type APIError struct {
	Method     string
	Path       string // relative to /api2/json
	StatusCode int
	Reason     string
	// Message is the body's "message" (libpve-http-server-perl >= 5.2.0);
	// it may be longer than the one-line Reason.
	Message string
	// Errors holds per-parameter messages of a 400 answer.
	Errors map[string]string
	kind   error
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%d %s", e.StatusCode, e.Reason)
	if len(e.Errors) > 0 {
		keys := make([]string, 0, len(e.Errors))
		for k := range e.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, k+": "+strings.TrimSpace(e.Errors[k]))
		}
		msg += " (" + strings.Join(parts, "; ") + ")"
	}
	return msg
}

// Unwrap returns the domain error the answer means, if any:
// provision.ErrUnavailable, provision.ErrNotFound, provision.ErrInvalid,
// ErrVMIDExists, ErrAlreadyRunning or ErrNotRunning.
func (e *APIError) Unwrap() error { return e.kind }

// AuthError is a 401 or 403 answer. It names the token, never its secret.
type AuthError struct {
	TokenID    string
	StatusCode int
	Reason     string
}

func (e *AuthError) Error() string {
	if e.StatusCode == 403 {
		return fmt.Sprintf("proxmox API token %s lacks a privilege: %d %s", e.TokenID, e.StatusCode, e.Reason)
	}
	return fmt.Sprintf("proxmox API refused token %s (check the token id and secret): %d %s", e.TokenID, e.StatusCode, e.Reason)
}

// Unwrap returns ErrAuth.
func (e *AuthError) Unwrap() error { return ErrAuth }

// FingerprintMismatchError: the server's certificate is not the pinned one.
// The connection is refused.
type FingerprintMismatchError struct {
	Want, Got string
}

func (e *FingerprintMismatchError) Error() string {
	return fmt.Sprintf("proxmox TLS certificate %s does not match the pinned fingerprint %s: refusing to connect", e.Got, e.Want)
}

// UnknownFingerprintError: no fingerprint is pinned (and verification is not
// switched off). The connection is refused until an admin confirms Got.
type UnknownFingerprintError struct {
	Got string
}

func (e *UnknownFingerprintError) Error() string {
	return fmt.Sprintf("proxmox TLS certificate %s is not pinned yet: an admin must confirm it", e.Got)
}

var (
	reMissing  = regexp.MustCompile(`Configuration file '[^']*' does not exist|CT \d+ does not exist|no such (container|VM)`)
	reExists   = regexp.MustCompile(`(CT|VM) \d+ already exists`)
	reRunning  = regexp.MustCompile(`already running`)
	reStopped  = regexp.MustCompile(`(CT|VM) \d+ not running|container is not running`)
	reNoSuchID = regexp.MustCompile(`no such task`)
)

// newAPIError builds an APIError from a status line and body.
func newAPIError(method, path string, status int, reason string, body []byte) *APIError {
	e := &APIError{Method: method, Path: path, StatusCode: status, Reason: reason}
	var env struct {
		Message string            `json:"message"`
		Errors  map[string]string `json:"errors"`
	}
	if json.Unmarshal(body, &env) == nil {
		e.Message = strings.TrimSpace(env.Message)
		e.Errors = env.Errors
	}
	text := reason + "\n" + e.Message
	for _, v := range e.Errors {
		text += "\n" + v
	}
	switch {
	case status == 502 || status == 503 || status == 504 || status >= 595 && status <= 599:
		e.kind = provision.ErrUnavailable
	case status == 404, reMissing.MatchString(text):
		e.kind = provision.ErrNotFound
	case reExists.MatchString(text):
		e.kind = ErrVMIDExists
	case reRunning.MatchString(text):
		e.kind = ErrAlreadyRunning
	case reStopped.MatchString(text):
		e.kind = ErrNotRunning
	case status == 400 && reNoSuchID.MatchString(text):
		e.kind = provision.ErrNotFound
	case status == 400:
		e.kind = provision.ErrInvalid
	}
	return e
}

// redactedError hides a secret that an error text might echo (PVE's
// parameter errors can quote the value they rejected).
type redactedError struct {
	err    error
	secret string
}

func (e *redactedError) Error() string {
	return strings.ReplaceAll(e.err.Error(), e.secret, "<secret>")
}

func (e *redactedError) Unwrap() error { return e.err }

func redact(err error, secret string) error {
	if err == nil || secret == "" {
		return err
	}
	return &redactedError{err: err, secret: secret}
}
