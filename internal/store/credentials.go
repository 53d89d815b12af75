package store

import (
	"context"
	"fmt"

	"github.com/lxcbot/lxcbot/internal/provision"
)

func credentialAAD(containerID, service, key string) string {
	return aad("credential", containerID, service, key)
}

// ReplaceCredentials replaces a container's stored credentials in one
// transaction, each value sealed and bound to its container, service and key.
// ErrNotFound if the container does not exist.
func (db *DB) ReplaceCredentials(ctx context.Context, containerID string, creds []provision.Credential) error {
	err := db.InTx(ctx, func(tx *DB) error {
		if err := tx.lockContainer(ctx, containerID); err != nil {
			return err
		}
		if _, err := tx.q.Exec(ctx, `DELETE FROM credentials WHERE container_id = $1`, containerID); err != nil {
			return err
		}
		for _, c := range creds {
			sealed, err := tx.kr.SealString(c.Value, credentialAAD(containerID, c.Service, c.Key))
			if err != nil {
				return fmt.Errorf("sealing %s %s: %w", c.Service, c.Key, err)
			}
			if _, err := tx.q.Exec(ctx, `
				INSERT INTO credentials (container_id, service, key, value) VALUES ($1, $2, $3, $4)`,
				containerID, c.Service, c.Key, sealed); err != nil {
				return wrapf(err, "credential %s %s", c.Service, c.Key)
			}
		}
		return nil
	})
	if err != nil {
		return wrapf(err, "recording credentials of container %s", containerID)
	}
	return nil
}

// ListCredentials returns a container's credentials with their values opened,
// by service and key; service "" means all services.
func (db *DB) ListCredentials(ctx context.Context, containerID, service string) ([]provision.Credential, error) {
	type sealedCred struct {
		provision.Credential
		sealed []byte
	}
	rows, err := queryAll(ctx, db.q, func(r rowScanner) (sealedCred, error) {
		var c sealedCred
		err := r.Scan(&c.ContainerID, &c.Service, &c.Key, &c.sealed, &c.UpdatedAt)
		return c, err
	}, `
		SELECT container_id, service, key, value, updated_at FROM credentials
		 WHERE container_id = $1 AND ($2 = '' OR service = $2)
		 ORDER BY service, key`, containerID, service)
	if err != nil {
		return nil, wrapf(err, "listing credentials of container %s", containerID)
	}
	out := make([]provision.Credential, 0, len(rows))
	for _, r := range rows {
		v, err := db.kr.OpenString(r.sealed, credentialAAD(r.ContainerID, r.Service, r.Key))
		if err != nil {
			return nil, fmt.Errorf("listing credentials of container %s: opening %s %s: %w", containerID, r.Service, r.Key, err)
		}
		r.Value = v
		out = append(out, r.Credential)
	}
	return out, nil
}
