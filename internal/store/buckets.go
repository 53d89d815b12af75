package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/lxcbot/lxcbot/internal/provision"
)

const bucketCols = `id, name, manager, description, packages, created_at, updated_at`

func scanBucket(r rowScanner) (provision.Bucket, error) {
	var b provision.Bucket
	var pkgs []byte
	if err := r.Scan(&b.ID, &b.Name, &b.Manager, &b.Description, &pkgs, &b.CreatedAt, &b.UpdatedAt); err != nil {
		return b, err
	}
	if err := json.Unmarshal(pkgs, &b.Packages); err != nil {
		return b, fmt.Errorf("decoding packages of bucket %s: %w", b.Name, err)
	}
	return b, nil
}

// UpsertBucket creates or replaces the bucket named b.Name and fills in its ID
// and timestamps.
func (db *DB) UpsertBucket(ctx context.Context, b *provision.Bucket) error {
	pkgs := b.Packages
	if pkgs == nil {
		pkgs = []provision.Package{}
	}
	raw, err := json.Marshal(pkgs)
	if err != nil {
		return fmt.Errorf("saving bucket %s: encoding packages: %w", b.Name, err)
	}
	err = db.q.QueryRow(ctx, `
		INSERT INTO package_buckets (name, manager, description, packages)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (name) DO UPDATE
		   SET manager = excluded.manager, description = excluded.description,
		       packages = excluded.packages, updated_at = now()
		RETURNING id, created_at, updated_at`,
		b.Name, b.Manager, b.Description, raw).Scan(&b.ID, &b.CreatedAt, &b.UpdatedAt)
	if err != nil {
		return wrapf(err, "saving bucket %s", b.Name)
	}
	return nil
}

// GetBucket returns a bucket or ErrNotFound.
func (db *DB) GetBucket(ctx context.Context, name string) (provision.Bucket, error) {
	b, err := scanBucket(db.q.QueryRow(ctx, `SELECT `+bucketCols+` FROM package_buckets WHERE name = $1`, name))
	if err != nil {
		return provision.Bucket{}, wrapf(err, "reading bucket %s", name)
	}
	return b, nil
}

// ListBuckets returns buckets by name; manager "" means all managers.
func (db *DB) ListBuckets(ctx context.Context, manager provision.Manager) ([]provision.Bucket, error) {
	out, err := queryAll(ctx, db.q, scanBucket,
		`SELECT `+bucketCols+` FROM package_buckets WHERE $1 = '' OR manager = $1 ORDER BY name`, string(manager))
	if err != nil {
		return nil, wrapf(err, "listing buckets")
	}
	return out, nil
}

// DeleteBucket removes a bucket: ErrNotFound if there is none, ErrConflict
// while a template still uses it.
func (db *DB) DeleteBucket(ctx context.Context, name string) error {
	tag, err := db.q.Exec(ctx, `DELETE FROM package_buckets WHERE name = $1`, name)
	if err != nil {
		return wrapDeletef(err, "deleting bucket %s", name)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("deleting bucket %s: %w", name, provision.ErrNotFound)
	}
	return nil
}
