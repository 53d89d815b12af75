package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/lxcbot/lxcbot/internal/provision"
)

const containerCols = `id, node_name, vmid, hostname, template_name,
	owner_platform, owner_user_id, owner_name,
	origin_platform, origin_workspace_id, origin_channel_id, origin_thread_id, origin_message_id,
	state, request, completed_phases, failed_phase, last_error, ip, created_at, updated_at, ready_at, deleted_at`

// States whose containers no longer exist on Proxmox.
var deletedStates = []string{string(provision.StateDeleted), string(provision.StateGone)}

// liveStates are the states that hold a hostname (see containers_live_hostname).
var liveStates = []string{
	string(provision.StatePending), string(provision.StateCreating),
	string(provision.StateReady), string(provision.StateDeleting),
}

func scanContainer(r rowScanner) (provision.Container, error) {
	var c provision.Container
	var vmid *int
	var request []byte
	var phases []string
	var failed *string
	err := r.Scan(&c.ID, &c.NodeName, &vmid, &c.Hostname, &c.TemplateName,
		&c.Owner.Platform, &c.Owner.UserID, &c.Owner.Name,
		&c.Origin.Platform, &c.Origin.WorkspaceID, &c.Origin.ChannelID, &c.Origin.ThreadID, &c.Origin.MessageID,
		&c.State, &request, &phases, &failed, &c.LastError, &c.IP, &c.CreatedAt, &c.UpdatedAt, &c.ReadyAt, &c.DeletedAt)
	if err != nil {
		return c, err
	}
	if vmid != nil {
		c.VMID = *vmid
	}
	c.FailedPhase = provision.Phase(derefStr(failed))
	for _, p := range phases {
		c.CompletedPhases = append(c.CompletedPhases, provision.Phase(p))
	}
	if err := json.Unmarshal(request, &c.Request); err != nil {
		return c, fmt.Errorf("decoding request of container %s: %w", c.ID, err)
	}
	return c, nil
}

func nullVMID(vmid int) *int {
	if vmid == 0 {
		return nil
	}
	return &vmid
}

// CreateContainer records a new container in state pending, with a requested
// event, in one transaction. An empty c.ID is filled with a fresh id; c's
// state and timestamps are filled in. ErrConflict if the id is taken or a live
// container already has the hostname.
func (db *DB) CreateContainer(ctx context.Context, c *provision.Container) error {
	if c.ID == "" {
		c.ID = uuid.NewString()
	}
	c.State = provision.StatePending
	request, err := json.Marshal(c.Request)
	if err != nil {
		return fmt.Errorf("recording container %s: encoding request: %w", c.Hostname, err)
	}
	err = db.InTx(ctx, func(tx *DB) error {
		err := tx.q.QueryRow(ctx, `
			INSERT INTO containers (id, node_name, vmid, hostname, template_name,
			                        owner_platform, owner_user_id, owner_name,
			                        origin_platform, origin_workspace_id, origin_channel_id, origin_thread_id, origin_message_id,
			                        state, request, completed_phases, ip)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
			RETURNING created_at, updated_at`,
			c.ID, c.NodeName, nullVMID(c.VMID), c.Hostname, c.TemplateName,
			c.Owner.Platform, c.Owner.UserID, c.Owner.Name,
			c.Origin.Platform, c.Origin.WorkspaceID, c.Origin.ChannelID, c.Origin.ThreadID, c.Origin.MessageID,
			c.State, request, strs(c.CompletedPhases), c.IP).Scan(&c.CreatedAt, &c.UpdatedAt)
		if err != nil {
			return err
		}
		return tx.AppendEvent(ctx, &provision.Event{
			ContainerID: c.ID,
			Type:        provision.EventRequested,
			Message:     fmt.Sprintf("requested %s from template %s", c.Hostname, c.TemplateName),
			Actor:       string(c.Owner.Platform) + ":" + c.Owner.UserID,
		})
	})
	if err != nil {
		return wrapf(err, "recording container %s", c.Hostname)
	}
	return nil
}

// GetContainer returns a container by id, or ErrNotFound.
func (db *DB) GetContainer(ctx context.Context, id string) (provision.Container, error) {
	c, err := scanContainer(db.q.QueryRow(ctx, `SELECT `+containerCols+` FROM containers WHERE id = $1`, id))
	if err != nil {
		return provision.Container{}, wrapf(err, "reading container %s", id)
	}
	return c, nil
}

// FindContainer resolves what a user typed (a hostname, ignoring case, or a
// VMID) among containers that still exist (not deleted or gone). A live
// container wins over failed or cancelled records of the same name, and the
// newest record wins among those. ErrNotFound if nothing matches; ErrConflict
// if two live containers match (a hostname that is another's VMID).
func (db *DB) FindContainer(ctx context.Context, ref string) (provision.Container, error) {
	ref = strings.TrimSpace(ref)
	var vmid *int
	if n, err := strconv.Atoi(ref); err == nil && n > 0 {
		vmid = &n
	}
	cs, err := queryAll(ctx, db.q, scanContainer, `
		SELECT `+containerCols+` FROM containers
		 WHERE state <> ALL($3) AND (lower(hostname) = lower($1) OR vmid = $2)
		 ORDER BY state = ANY($4) DESC, created_at DESC, id
		 LIMIT 3`, ref, vmid, deletedStates, liveStates)
	if err != nil {
		return provision.Container{}, wrapf(err, "finding container %q", ref)
	}
	if len(cs) == 0 {
		return provision.Container{}, fmt.Errorf("finding container %q: %w", ref, provision.ErrNotFound)
	}
	if len(cs) > 1 && isLive(cs[0].State) && isLive(cs[1].State) {
		return provision.Container{}, fmt.Errorf("finding container %q: matches %s (vmid %d) and %s (vmid %d): %w",
			ref, cs[0].Hostname, cs[0].VMID, cs[1].Hostname, cs[1].VMID, provision.ErrConflict)
	}
	return cs[0], nil
}

func isLive(s provision.State) bool {
	for _, l := range liveStates {
		if string(s) == l {
			return true
		}
	}
	return false
}

// ContainerFilter selects containers for ListContainers. Zero fields do not
// filter.
type ContainerFilter struct {
	Node           string
	State          provision.State
	OwnerPlatform  provision.Platform
	OwnerUserID    string
	IncludeDeleted bool // include deleted and gone records; implied when State is set
	Limit          int  // 0 = no limit
	Offset         int
}

// ListContainers returns containers, newest first.
func (db *DB) ListContainers(ctx context.Context, f ContainerFilter) ([]provision.Container, error) {
	where, args := containerWhere(f)
	query := `SELECT ` + containerCols + ` FROM containers` + where + ` ORDER BY created_at DESC, id`
	if f.Limit > 0 {
		args = append(args, f.Limit)
		query += fmt.Sprintf(` LIMIT $%d`, len(args))
	}
	if f.Offset > 0 {
		args = append(args, f.Offset)
		query += fmt.Sprintf(` OFFSET $%d`, len(args))
	}
	cs, err := queryAll(ctx, db.q, scanContainer, query, args...)
	if err != nil {
		return nil, wrapf(err, "listing containers")
	}
	return cs, nil
}

// CountContainers counts the containers ListContainers would return
// without its Limit and Offset, so a list can be paged in the database.
func (db *DB) CountContainers(ctx context.Context, f ContainerFilter) (int, error) {
	where, args := containerWhere(f)
	var n int
	if err := db.q.QueryRow(ctx, `SELECT count(*) FROM containers`+where, args...).Scan(&n); err != nil {
		return 0, wrapf(err, "counting containers")
	}
	return n, nil
}

// containerWhere is the WHERE clause (with its leading space, or empty) and
// arguments of a container filter.
func containerWhere(f ContainerFilter) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Node != "" {
		add("node_name = $%d", f.Node)
	}
	if f.State != "" {
		add("state = $%d", string(f.State))
	}
	if f.OwnerPlatform != "" {
		add("owner_platform = $%d", string(f.OwnerPlatform))
	}
	if f.OwnerUserID != "" {
		add("owner_user_id = $%d", f.OwnerUserID)
	}
	if !f.IncludeDeleted && f.State == "" {
		add("state <> ALL($%d)", deletedStates)
	}
	if len(where) == 0 {
		return "", args
	}
	return ` WHERE ` + strings.Join(where, " AND "), args
}

// ListStuckContainers returns containers in one of states whose record has
// not changed since updatedBefore, oldest first, for the reconciler.
func (db *DB) ListStuckContainers(ctx context.Context, states []provision.State, updatedBefore time.Time) ([]provision.Container, error) {
	cs, err := queryAll(ctx, db.q, scanContainer, `
		SELECT `+containerCols+` FROM containers
		 WHERE state = ANY($1) AND updated_at < $2
		 ORDER BY updated_at, id`, strs(states), updatedBefore)
	if err != nil {
		return nil, wrapf(err, "listing stuck containers")
	}
	return cs, nil
}

// TransitionContainer moves a container to state to if it is in one of from
// (compare-and-set). ErrConflict names the current state when it is not;
// ErrNotFound if there is no such container; ErrInvalid for an unknown state.
// Leaving failed clears the failed phase; reaching ready stamps ready_at;
// reaching deleted or gone stamps deleted_at. Reaching deleted, gone or
// cancelled releases the container's VMID reservations.
func (db *DB) TransitionContainer(ctx context.Context, id string, from []provision.State, to provision.State) error {
	err := db.InTx(ctx, func(tx *DB) error {
		tag, err := tx.q.Exec(ctx, `
			UPDATE containers
			   SET state = $3::text,
			       updated_at = now(),
			       failed_phase = CASE WHEN $3::text = 'failed' THEN failed_phase END,
			       ready_at = CASE WHEN $3::text = 'ready' THEN now() ELSE ready_at END,
			       deleted_at = CASE WHEN $3::text IN ('deleted', 'gone') THEN coalesce(deleted_at, now()) ELSE deleted_at END
			 WHERE id = $1 AND state = ANY($2)`, id, strs(from), string(to))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return tx.stateMismatch(ctx, id, from)
		}
		switch to {
		case provision.StateDeleted, provision.StateGone, provision.StateCancelled:
			_, err = tx.q.Exec(ctx, `DELETE FROM vmid_reservations WHERE container_id = $1`, id)
		}
		return err
	})
	if err != nil {
		return wrapf(err, "moving container %s to %s", id, to)
	}
	return nil
}

// stateMismatch explains why a compare-and-set on a container's state did
// not apply.
func (db *DB) stateMismatch(ctx context.Context, id string, want []provision.State) error {
	var cur provision.State
	if err := db.q.QueryRow(ctx, `SELECT state FROM containers WHERE id = $1`, id).Scan(&cur); err != nil {
		return err
	}
	return fmt.Errorf("container is %s, not %s: %w", cur, strings.Join(strs(want), " or "), provision.ErrConflict)
}

// FailContainer marks a pending or creating container failed at phase with a
// user-safe error text. ErrConflict if it is in another state.
func (db *DB) FailContainer(ctx context.Context, id string, phase provision.Phase, errText string) error {
	from := []provision.State{provision.StatePending, provision.StateCreating, provision.StateFailed}
	err := db.InTx(ctx, func(tx *DB) error {
		tag, err := tx.q.Exec(ctx, `
			UPDATE containers SET state = 'failed', failed_phase = $3, last_error = $4, updated_at = now()
			 WHERE id = $1 AND state = ANY($2)`, id, strs(from), nullStr(phase), errText)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return tx.stateMismatch(ctx, id, from)
		}
		return nil
	})
	if err != nil {
		return wrapf(err, "failing container %s", id)
	}
	return nil
}

// CompletePhase records phase as completed; recording it again changes
// nothing.
func (db *DB) CompletePhase(ctx context.Context, id string, phase provision.Phase) error {
	err := db.updateContainer(ctx, id, `
		UPDATE containers
		   SET completed_phases = CASE WHEN $2 = ANY(completed_phases) THEN completed_phases
		                               ELSE array_append(completed_phases, $2) END,
		       updated_at = now()
		 WHERE id = $1`, string(phase))
	if err != nil {
		return wrapf(err, "recording phase %s of container %s", phase, id)
	}
	return nil
}

// ResetPhasesFrom forgets phase and every later pipeline phase, so a retry
// runs them again. ErrInvalid for an unknown phase.
func (db *DB) ResetPhasesFrom(ctx context.Context, id string, phase provision.Phase) error {
	idx := -1
	for i, p := range provision.Phases {
		if p == phase {
			idx = i
		}
	}
	if idx < 0 {
		return fmt.Errorf("resetting phases of container %s: unknown phase %q: %w", id, phase, provision.ErrInvalid)
	}
	err := db.updateContainer(ctx, id, `
		UPDATE containers
		   SET completed_phases = ARRAY(SELECT p FROM unnest(completed_phases) WITH ORDINALITY AS t(p, i)
		                                 WHERE p <> ALL($2) ORDER BY i),
		       updated_at = now()
		 WHERE id = $1`, strs(provision.Phases[idx:]))
	if err != nil {
		return wrapf(err, "resetting phases of container %s from %s", id, phase)
	}
	return nil
}

// SetContainerPlacement records the node and VMID a container was placed on.
func (db *DB) SetContainerPlacement(ctx context.Context, id, node string, vmid int) error {
	err := db.updateContainer(ctx, id,
		`UPDATE containers SET node_name = $2, vmid = $3, updated_at = now() WHERE id = $1`, node, nullVMID(vmid))
	if err != nil {
		return wrapf(err, "placing container %s on %s as %d", id, node, vmid)
	}
	return nil
}

// SetContainerIP records a container's IP address.
func (db *DB) SetContainerIP(ctx context.Context, id, ip string) error {
	err := db.updateContainer(ctx, id, `UPDATE containers SET ip = $2, updated_at = now() WHERE id = $1`, ip)
	if err != nil {
		return wrapf(err, "recording ip of container %s", id)
	}
	return nil
}

// SetContainerMessage records where a container's progress is shown (channel,
// thread and job card message ids). The origin's platform cannot change.
func (db *DB) SetContainerMessage(ctx context.Context, id string, origin provision.Origin) error {
	err := db.updateContainer(ctx, id, `
		UPDATE containers
		   SET origin_workspace_id = $2, origin_channel_id = $3, origin_thread_id = $4, origin_message_id = $5,
		       updated_at = now()
		 WHERE id = $1`, origin.WorkspaceID, origin.ChannelID, origin.ThreadID, origin.MessageID)
	if err != nil {
		return wrapf(err, "recording message of container %s", id)
	}
	return nil
}

// updateContainer runs an UPDATE of one container by id ($1) and reports
// ErrNotFound when no row matched.
func (db *DB) updateContainer(ctx context.Context, id, query string, args ...any) error {
	tag, err := db.q.Exec(ctx, query, append([]any{id}, args...)...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return provision.ErrNotFound
	}
	return nil
}
