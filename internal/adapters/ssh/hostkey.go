package ssh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	xssh "golang.org/x/crypto/ssh"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// UnknownHostKeyError is returned when no host key is pinned for a node. The
// connection is refused; an admin confirms Fingerprint and the caller saves it
// as Config.HostKey.
type UnknownHostKeyError struct {
	Fingerprint string // SHA256:... as printed by ssh-keygen -lf
	Key         xssh.PublicKey
}

func (e *UnknownHostKeyError) Error() string {
	return fmt.Sprintf("ssh host key %s is not pinned yet: an admin must confirm it", e.Fingerprint)
}

// HostKeyMismatchError is returned when the node presents a host key other
// than the pinned one. The connection is refused.
type HostKeyMismatchError struct {
	Want string
	Got  string
}

func (e *HostKeyMismatchError) Error() string {
	return fmt.Sprintf("ssh host key mismatch: pinned %s, node presented %s", e.Want, e.Got)
}

// Fingerprint returns the SHA256:... fingerprint of key, as ssh-keygen prints it.
func Fingerprint(key xssh.PublicKey) string { return xssh.FingerprintSHA256(key) }

// normalizeFingerprint makes pins comparable whatever their padding or the
// case of the prefix ("sha256:abc=" and "SHA256:abc" are the same pin). The
// base64 body is case-sensitive and kept as is.
func normalizeFingerprint(fp string) string {
	fp = strings.TrimSpace(fp)
	if len(fp) >= 7 && strings.EqualFold(fp[:7], "SHA256:") {
		fp = fp[7:]
	}
	return "SHA256:" + strings.TrimRight(fp, "=")
}

// pinnedHostKey returns a callback that accepts only the pinned key. A
// refusal is a *provision.NodeIdentityError naming node, so the domain can
// tell a user which node to have checked.
func pinnedHostKey(node, pin string) xssh.HostKeyCallback {
	return func(_ string, _ net.Addr, key xssh.PublicKey) error {
		got := Fingerprint(key)
		if strings.TrimSpace(pin) == "" {
			return &provision.NodeIdentityError{Node: node, What: provision.IdentitySSH, Unpinned: true,
				Err: &UnknownHostKeyError{Fingerprint: got, Key: key}}
		}
		if normalizeFingerprint(pin) != got {
			return &provision.NodeIdentityError{Node: node, What: provision.IdentitySSH,
				Err: &HostKeyMismatchError{Want: pin, Got: got}}
		}
		return nil
	}
}

// errProbeDone stops a probe handshake once the host key is known.
var errProbeDone = errors.New("host key captured")

// ProbeHostKey connects to addr far enough to read the node's host key and
// returns its SHA256 fingerprint, without authenticating. It is the first
// step of the "confirm this key" flow; nothing is trusted by calling it.
func ProbeHostKey(ctx context.Context, addr string) (string, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("probing ssh host key of %s: %w", addr, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}

	var fingerprint string
	cfg := &xssh.ClientConfig{
		User: "lxcbot-probe",
		HostKeyCallback: func(_ string, _ net.Addr, key xssh.PublicKey) error {
			fingerprint = Fingerprint(key)
			return errProbeDone
		},
	}
	_, _, _, err = xssh.NewClientConn(conn, addr, cfg)
	if fingerprint != "" {
		return fingerprint, nil
	}
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	return "", fmt.Errorf("probing ssh host key of %s: %w", addr, err)
}
