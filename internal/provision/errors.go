package provision

import (
	"errors"
	"fmt"
)

// Domain errors. The store maps database errors onto these, so callers use
// errors.Is and never see a driver type.
var (
	// ErrNotFound: the thing asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a uniqueness or state rule would be broken (duplicate name,
	// VMID already reserved, dedupe key already claimed, ...).
	ErrConflict = errors.New("conflict")
	// ErrInvalid: a value breaks a rule (CHECK constraint, bad state, bad input).
	ErrInvalid = errors.New("invalid")
	// ErrUnavailable: a dependency (database, queue, node) cannot be reached now;
	// trying again later may work.
	ErrUnavailable = errors.New("temporarily unavailable")
	// ErrForbidden: the principal lacks the role or ownership for the action.
	ErrForbidden = errors.New("forbidden")
)

// UserError is an error whose message is safe to show a chat user and says
// what to do next. Wrap a domain error in it with Userf.
type UserError struct {
	Msg string
	Err error
}

func (e *UserError) Error() string { return e.Msg }
func (e *UserError) Unwrap() error { return e.Err }

// Userf returns a UserError wrapping kind (one of the Err* values or nil).
func Userf(kind error, format string, args ...any) error {
	return &UserError{Msg: fmt.Sprintf(format, args...), Err: kind}
}

// What a NodeIdentityError is about.
const (
	IdentityTLS = "TLS certificate"
	IdentitySSH = "SSH host key"
)

// NodeIdentityError: a node did not present the TLS certificate or SSH host
// key pinned in its record (or nothing is pinned yet), so the connection was
// refused. Trying again cannot fix it: an admin has to check the node. The
// adapters return it; the pipeline fails at once instead of retrying.
type NodeIdentityError struct {
	Node string // the node's name
	What string // IdentityTLS or IdentitySSH
	// Unpinned: nothing is pinned for the node yet (rather than a different
	// certificate or key presented).
	Unpinned bool
	Err      error // the adapter's error, naming both fingerprints
}

func (e *NodeIdentityError) Error() string { return fmt.Sprintf("node %s: %v", e.Node, e.Err) }
func (e *NodeIdentityError) Unwrap() error { return e.Err }

// What a NodeAccessError is about.
const (
	AccessAPIToken = "API token"
	AccessSSHLogin = "SSH login"
)

// NodeAccessError: a node refused the bot's credentials (its API token, or
// the SSH user and password or key). Trying again cannot fix it: an admin
// has to check the node's settings.
type NodeAccessError struct {
	Node string // the node's name (or address when the name is unknown)
	What string // AccessAPIToken or AccessSSHLogin
	Err  error  // the adapter's error; names the token id or user, never a secret
}

func (e *NodeAccessError) Error() string { return fmt.Sprintf("node %s: %v", e.Node, e.Err) }
func (e *NodeAccessError) Unwrap() error { return e.Err }
