package store

import (
	"context"
	"fmt"

	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/secret"
)

// Node secret fields, as named in their sealing context.
const (
	fieldTokenSecret   = "token_secret"
	fieldSSHPassword   = "ssh_password"
	fieldSSHPrivateKey = "ssh_private_key"
)

func nodeAAD(name, field string) string { return aad("node", name, field) }

const nodeCols = `id, name, api_url, token_id, token_secret, tls_fingerprint, insecure_skip_verify,
	ssh_addr, ssh_user, ssh_password, ssh_private_key, ssh_host_key, is_default, created_at, updated_at`

// sealedNode is a node row with its secrets still sealed.
type sealedNode struct {
	provision.Node
	tokenSecret, sshPassword, sshPrivateKey []byte
}

func scanSealedNode(r rowScanner) (sealedNode, error) {
	var n sealedNode
	err := r.Scan(&n.ID, &n.Name, &n.APIURL, &n.TokenID, &n.tokenSecret, &n.TLSFingerprint, &n.InsecureSkipVerify,
		&n.SSHAddr, &n.SSHUser, &n.sshPassword, &n.sshPrivateKey, &n.SSHHostKey, &n.IsDefault, &n.CreatedAt, &n.UpdatedAt)
	return n, err
}

func (db *DB) openNode(n sealedNode) (provision.Node, error) {
	out := n.Node
	for _, f := range []struct {
		field  string
		sealed []byte
		dst    *secret.String
	}{
		{fieldTokenSecret, n.tokenSecret, &out.TokenSecret},
		{fieldSSHPassword, n.sshPassword, &out.SSHPassword},
		{fieldSSHPrivateKey, n.sshPrivateKey, &out.SSHPrivateKey},
	} {
		v, err := db.open(f.sealed, nodeAAD(n.Name, f.field))
		if err != nil {
			return provision.Node{}, fmt.Errorf("opening %s of node %s: %w", f.field, n.Name, err)
		}
		*f.dst = v
	}
	return out, nil
}

// sealNode returns the node's three secrets sealed for their columns.
func (db *DB) sealNode(n *provision.Node) (token, password, key []byte, err error) {
	if token, err = db.seal(n.TokenSecret, nodeAAD(n.Name, fieldTokenSecret)); err != nil {
		return nil, nil, nil, fmt.Errorf("sealing %s of node %s: %w", fieldTokenSecret, n.Name, err)
	}
	if password, err = db.seal(n.SSHPassword, nodeAAD(n.Name, fieldSSHPassword)); err != nil {
		return nil, nil, nil, fmt.Errorf("sealing %s of node %s: %w", fieldSSHPassword, n.Name, err)
	}
	if key, err = db.seal(n.SSHPrivateKey, nodeAAD(n.Name, fieldSSHPrivateKey)); err != nil {
		return nil, nil, nil, fmt.Errorf("sealing %s of node %s: %w", fieldSSHPrivateKey, n.Name, err)
	}
	return token, password, key, nil
}

// CreateNode adds a node; ErrConflict if the name is taken. If n.IsDefault,
// the node becomes the only default. n's ID and timestamps are filled in.
func (db *DB) CreateNode(ctx context.Context, n *provision.Node) error {
	return db.saveNode(ctx, n, `
		INSERT INTO nodes (name, api_url, token_id, token_secret, tls_fingerprint, insecure_skip_verify,
		                   ssh_addr, ssh_user, ssh_password, ssh_private_key, ssh_host_key, is_default)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		RETURNING id, created_at, updated_at`, "creating")
}

// UpdateNode replaces every field of the node named n.Name; ErrNotFound if
// there is none. If n.IsDefault, the node becomes the only default.
func (db *DB) UpdateNode(ctx context.Context, n *provision.Node) error {
	return db.saveNode(ctx, n, `
		UPDATE nodes
		   SET api_url = $2, token_id = $3, token_secret = $4, tls_fingerprint = $5, insecure_skip_verify = $6,
		       ssh_addr = $7, ssh_user = $8, ssh_password = $9, ssh_private_key = $10, ssh_host_key = $11,
		       is_default = $12, updated_at = now()
		 WHERE name = $1
		RETURNING id, created_at, updated_at`, "updating")
}

// UpsertNode creates or replaces the node named n.Name, as configuration-file
// nodes are applied at start-up.
func (db *DB) UpsertNode(ctx context.Context, n *provision.Node) error {
	return db.saveNode(ctx, n, `
		INSERT INTO nodes (name, api_url, token_id, token_secret, tls_fingerprint, insecure_skip_verify,
		                   ssh_addr, ssh_user, ssh_password, ssh_private_key, ssh_host_key, is_default)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (name) DO UPDATE
		   SET api_url = excluded.api_url, token_id = excluded.token_id, token_secret = excluded.token_secret,
		       tls_fingerprint = excluded.tls_fingerprint, insecure_skip_verify = excluded.insecure_skip_verify,
		       ssh_addr = excluded.ssh_addr, ssh_user = excluded.ssh_user, ssh_password = excluded.ssh_password,
		       ssh_private_key = excluded.ssh_private_key, ssh_host_key = excluded.ssh_host_key,
		       is_default = excluded.is_default, updated_at = now()
		RETURNING id, created_at, updated_at`, "saving")
}

func (db *DB) saveNode(ctx context.Context, n *provision.Node, query, verb string) error {
	token, password, key, err := db.sealNode(n)
	if err != nil {
		return fmt.Errorf("%s node %s: %w", verb, n.Name, err)
	}
	err = db.InTx(ctx, func(tx *DB) error {
		if n.IsDefault {
			if _, err := tx.q.Exec(ctx, `UPDATE nodes SET is_default = false WHERE is_default AND name <> $1`, n.Name); err != nil {
				return err
			}
		}
		return tx.q.QueryRow(ctx, query, n.Name, n.APIURL, n.TokenID, token, n.TLSFingerprint, n.InsecureSkipVerify,
			n.SSHAddr, n.SSHUser, password, key, n.SSHHostKey, n.IsDefault).Scan(&n.ID, &n.CreatedAt, &n.UpdatedAt)
	})
	if err != nil {
		return wrapf(err, "%s node %s", verb, n.Name)
	}
	return nil
}

// GetNode returns a node with its secrets opened, or ErrNotFound.
func (db *DB) GetNode(ctx context.Context, name string) (provision.Node, error) {
	sn, err := scanSealedNode(db.q.QueryRow(ctx, `SELECT `+nodeCols+` FROM nodes WHERE name = $1`, name))
	if err != nil {
		return provision.Node{}, wrapf(err, "reading node %s", name)
	}
	n, err := db.openNode(sn)
	if err != nil {
		return provision.Node{}, fmt.Errorf("reading node %s: %w", name, err)
	}
	return n, nil
}

// DefaultNode returns the default node, or ErrNotFound when none is set.
func (db *DB) DefaultNode(ctx context.Context) (provision.Node, error) {
	sn, err := scanSealedNode(db.q.QueryRow(ctx, `SELECT `+nodeCols+` FROM nodes WHERE is_default`))
	if err != nil {
		return provision.Node{}, wrapf(err, "reading default node")
	}
	n, err := db.openNode(sn)
	if err != nil {
		return provision.Node{}, fmt.Errorf("reading default node: %w", err)
	}
	return n, nil
}

// ListNodes returns every node by name, secrets opened.
func (db *DB) ListNodes(ctx context.Context) ([]provision.Node, error) {
	sealed, err := queryAll(ctx, db.q, scanSealedNode, `SELECT `+nodeCols+` FROM nodes ORDER BY name`)
	if err != nil {
		return nil, wrapf(err, "listing nodes")
	}
	out := make([]provision.Node, 0, len(sealed))
	for _, sn := range sealed {
		n, err := db.openNode(sn)
		if err != nil {
			return nil, fmt.Errorf("listing nodes: %w", err)
		}
		out = append(out, n)
	}
	return out, nil
}

// SetDefaultNode makes name the one default node; ErrNotFound if it does not
// exist (the previous default then stays).
func (db *DB) SetDefaultNode(ctx context.Context, name string) error {
	err := db.InTx(ctx, func(tx *DB) error {
		if _, err := tx.q.Exec(ctx, `UPDATE nodes SET is_default = false, updated_at = now() WHERE is_default AND name <> $1`, name); err != nil {
			return err
		}
		tag, err := tx.q.Exec(ctx, `UPDATE nodes SET is_default = true, updated_at = now() WHERE name = $1`, name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return provision.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return wrapf(err, "making node %s the default", name)
	}
	return nil
}

// DeleteNode removes a node. It refuses with ErrConflict while containers the
// bot still manages are recorded on it; deleted containers' history stays.
func (db *DB) DeleteNode(ctx context.Context, name string) error {
	err := db.InTx(ctx, func(tx *DB) error {
		var id int64
		if err := tx.q.QueryRow(ctx, `SELECT id FROM nodes WHERE name = $1 FOR UPDATE`, name).Scan(&id); err != nil {
			return err
		}
		var live int
		if err := tx.q.QueryRow(ctx, `
			SELECT count(*) FROM containers
			 WHERE node_name = $1 AND state NOT IN ('deleted', 'gone', 'cancelled')`, name).Scan(&live); err != nil {
			return err
		}
		if live > 0 {
			return fmt.Errorf("%d containers are still recorded on it: %w", live, provision.ErrConflict)
		}
		_, err := tx.q.Exec(ctx, `DELETE FROM nodes WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return wrapDeletef(err, "removing node %s", name)
	}
	return nil
}
