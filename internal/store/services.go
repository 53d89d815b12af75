package store

import (
	"context"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// ReplaceServices replaces everything known about a container's services in
// one transaction. ErrNotFound if the container does not exist.
func (db *DB) ReplaceServices(ctx context.Context, containerID string, services []provision.Service) error {
	err := db.InTx(ctx, func(tx *DB) error {
		if err := tx.lockContainer(ctx, containerID); err != nil {
			return err
		}
		if _, err := tx.q.Exec(ctx, `DELETE FROM services WHERE container_id = $1`, containerID); err != nil {
			return err
		}
		for _, s := range services {
			ports := make([]int32, len(s.Ports))
			for i, p := range s.Ports {
				ports[i] = int32(p)
			}
			if _, err := tx.q.Exec(ctx, `
				INSERT INTO services (container_id, unit, kind, status, ports, url) VALUES ($1, $2, $3, $4, $5, $6)`,
				containerID, s.Unit, s.Kind, s.Status, ports, s.URL); err != nil {
				return wrapf(err, "service %s", s.Unit)
			}
		}
		return nil
	})
	if err != nil {
		return wrapf(err, "recording services of container %s", containerID)
	}
	return nil
}

// lockContainer locks a container's row for the rest of the transaction, so
// concurrent replacements of its children serialise; ErrNotFound if missing.
func (db *DB) lockContainer(ctx context.Context, id string) error {
	var got string
	return db.q.QueryRow(ctx, `SELECT id FROM containers WHERE id = $1 FOR UPDATE`, id).Scan(&got)
}

func scanService(r rowScanner) (provision.Service, error) {
	var s provision.Service
	var ports []int32
	if err := r.Scan(&s.ContainerID, &s.Unit, &s.Kind, &s.Status, &ports, &s.URL, &s.UpdatedAt); err != nil {
		return s, err
	}
	for _, p := range ports {
		s.Ports = append(s.Ports, int(p))
	}
	return s, nil
}

// ListServices returns a container's services, application services first,
// then by unit name.
func (db *DB) ListServices(ctx context.Context, containerID string) ([]provision.Service, error) {
	out, err := queryAll(ctx, db.q, scanService, `
		SELECT container_id, unit, kind, status, ports, url, updated_at FROM services
		 WHERE container_id = $1
		 ORDER BY kind = 'application' DESC, unit`, containerID)
	if err != nil {
		return nil, wrapf(err, "listing services of container %s", containerID)
	}
	return out, nil
}
