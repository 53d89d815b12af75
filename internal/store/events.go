package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// AppendEvent adds an entry to a container's timeline and fills in its ID and
// time. ErrNotFound if the container does not exist.
func (db *DB) AppendEvent(ctx context.Context, e *provision.Event) error {
	var data []byte
	if e.Data != nil {
		var err error
		if data, err = json.Marshal(e.Data); err != nil {
			return fmt.Errorf("recording %s event of container %s: encoding data: %w", e.Type, e.ContainerID, err)
		}
	}
	err := db.q.QueryRow(ctx, `
		INSERT INTO container_events (container_id, type, phase, message, actor, duration_ms, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		RETURNING id, created_at`,
		e.ContainerID, e.Type, nullStr(e.Phase), e.Message, e.Actor, e.Duration.Milliseconds(), data,
	).Scan(&e.ID, &e.CreatedAt)
	if err != nil {
		return wrapf(err, "recording %s event of container %s", e.Type, e.ContainerID)
	}
	return nil
}

func scanEvent(r rowScanner) (provision.Event, error) {
	var e provision.Event
	var phase *string
	var ms int64
	var data []byte
	if err := r.Scan(&e.ID, &e.ContainerID, &e.Type, &phase, &e.Message, &e.Actor, &ms, &data, &e.CreatedAt); err != nil {
		return e, err
	}
	e.Phase = provision.Phase(derefStr(phase))
	e.Duration = time.Duration(ms) * time.Millisecond
	if data != nil {
		if err := json.Unmarshal(data, &e.Data); err != nil {
			return e, fmt.Errorf("decoding data of event %d: %w", e.ID, err)
		}
	}
	return e, nil
}

// ListEvents returns a container's timeline in order. types, if not empty,
// keeps only those types; limit > 0 keeps only the latest limit entries.
// ErrNotFound if the container does not exist.
func (db *DB) ListEvents(ctx context.Context, containerID string, types []provision.EventType, limit int) ([]provision.Event, error) {
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	events, err := queryAll(ctx, db.q, scanEvent, `
		SELECT * FROM (
			SELECT id, container_id, type, phase, message, actor, duration_ms, data, created_at
			  FROM container_events
			 WHERE container_id = $1 AND (cardinality($2::text[]) = 0 OR type = ANY($2))
			 ORDER BY id DESC
			 LIMIT $3) latest
		 ORDER BY id`, containerID, strs(types), lim)
	if err != nil {
		return nil, wrapf(err, "listing events of container %s", containerID)
	}
	if len(events) == 0 {
		if err := db.containerExists(ctx, containerID); err != nil {
			return nil, wrapf(err, "listing events of container %s", containerID)
		}
	}
	return events, nil
}

// containerExists returns ErrNotFound if there is no container id.
func (db *DB) containerExists(ctx context.Context, id string) error {
	var ok bool
	if err := db.q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM containers WHERE id = $1)`, id).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return provision.ErrNotFound
	}
	return nil
}
