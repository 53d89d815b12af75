package store

import (
	"context"
)

// ReserveVMID reserves vmid for a container on node. The reservation is
// unique across the cluster: ErrConflict if vmid is already reserved (by any
// container, including this one), ErrNotFound if the container does not exist.
func (db *DB) ReserveVMID(ctx context.Context, vmid int, containerID, node string) error {
	_, err := db.q.Exec(ctx,
		`INSERT INTO vmid_reservations (vmid, container_id, node_name) VALUES ($1, $2, $3)`, vmid, containerID, node)
	if err != nil {
		return wrapf(err, "reserving vmid %d", vmid)
	}
	return nil
}

// ReleaseVMID drops the reservation of vmid. Releasing a VMID that is not
// reserved is not an error, so cleanup can be repeated.
func (db *DB) ReleaseVMID(ctx context.Context, vmid int) error {
	if _, err := db.q.Exec(ctx, `DELETE FROM vmid_reservations WHERE vmid = $1`, vmid); err != nil {
		return wrapf(err, "releasing vmid %d", vmid)
	}
	return nil
}

// ReservedVMIDs returns every reserved VMID in ascending order.
func (db *DB) ReservedVMIDs(ctx context.Context) ([]int, error) {
	out, err := queryAll(ctx, db.q, func(r rowScanner) (int, error) {
		var v int
		err := r.Scan(&v)
		return v, err
	}, `SELECT vmid FROM vmid_reservations ORDER BY vmid`)
	if err != nil {
		return nil, wrapf(err, "listing reserved vmids")
	}
	return out, nil
}

// VMIDsOf returns the VMIDs reserved for one container, so a resumed job can
// reuse or release what an interrupted one reserved.
func (db *DB) VMIDsOf(ctx context.Context, containerID string) ([]int, error) {
	out, err := queryAll(ctx, db.q, func(r rowScanner) (int, error) {
		var v int
		err := r.Scan(&v)
		return v, err
	}, `SELECT vmid FROM vmid_reservations WHERE container_id = $1 ORDER BY created_at, vmid`, containerID)
	if err != nil {
		return nil, wrapf(err, "listing vmids of container %s", containerID)
	}
	return out, nil
}
