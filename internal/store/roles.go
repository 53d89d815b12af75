package store

import (
	"context"
	"fmt"

	"github.com/lxcbot/lxcbot/internal/provision"
)

const roleCols = `id, platform, subject_kind, subject_id, role, granted_by, created_at`

func scanRoleBinding(r rowScanner) (provision.RoleBinding, error) {
	var b provision.RoleBinding
	err := r.Scan(&b.ID, &b.Platform, &b.SubjectKind, &b.SubjectID, &b.Role, &b.GrantedBy, &b.CreatedAt)
	return b, err
}

// GrantRole gives b.Role to the subject, replacing any role it had, and fills
// in b from the stored row.
func (db *DB) GrantRole(ctx context.Context, b *provision.RoleBinding) error {
	got, err := scanRoleBinding(db.q.QueryRow(ctx, `
		INSERT INTO role_bindings (platform, subject_kind, subject_id, role, granted_by)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (platform, subject_kind, subject_id) DO UPDATE
		   SET role = excluded.role, granted_by = excluded.granted_by
		RETURNING `+roleCols,
		b.Platform, b.SubjectKind, b.SubjectID, b.Role, b.GrantedBy))
	if err != nil {
		return wrapf(err, "granting %s to %s %s:%s", b.Role, b.SubjectKind, b.Platform, b.SubjectID)
	}
	*b = got
	return nil
}

// RevokeRole removes the subject's binding, or returns ErrNotFound.
func (db *DB) RevokeRole(ctx context.Context, platform provision.Platform, kind provision.SubjectKind, subjectID string) error {
	tag, err := db.q.Exec(ctx,
		`DELETE FROM role_bindings WHERE platform = $1 AND subject_kind = $2 AND subject_id = $3`,
		platform, kind, subjectID)
	if err != nil {
		return wrapf(err, "revoking role of %s %s:%s", kind, platform, subjectID)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("revoking role of %s %s:%s: no binding: %w", kind, platform, subjectID, provision.ErrNotFound)
	}
	return nil
}

// ListRoleBindings returns the bindings of one platform, or of all when
// platform is "".
func (db *DB) ListRoleBindings(ctx context.Context, platform provision.Platform) ([]provision.RoleBinding, error) {
	out, err := queryAll(ctx, db.q, scanRoleBinding, `
		SELECT `+roleCols+` FROM role_bindings
		 WHERE $1 = '' OR platform = $1
		 ORDER BY platform, CASE role WHEN 'admin' THEN 0 WHEN 'operator' THEN 1 ELSE 2 END, subject_kind, subject_id`,
		string(platform))
	if err != nil {
		return nil, wrapf(err, "listing role bindings")
	}
	return out, nil
}

// RoleOf returns the highest role bound to the user or to any of its groups
// on platform, or RoleNone.
func (db *DB) RoleOf(ctx context.Context, platform provision.Platform, userID string, groupIDs []string) (provision.Role, error) {
	rows, err := db.q.Query(ctx, `
		SELECT role FROM role_bindings
		 WHERE platform = $1
		   AND ((subject_kind = 'user' AND subject_id = $2) OR (subject_kind = 'group' AND subject_id = ANY($3)))`,
		platform, userID, strs(groupIDs))
	if err != nil {
		return provision.RoleNone, wrapf(err, "reading role of %s:%s", platform, userID)
	}
	defer rows.Close()
	best := provision.RoleNone
	for rows.Next() {
		var r provision.Role
		if err := rows.Scan(&r); err != nil {
			return provision.RoleNone, wrapf(err, "reading role of %s:%s", platform, userID)
		}
		if r.Rank() > best.Rank() {
			best = r
		}
	}
	if err := rows.Err(); err != nil {
		return provision.RoleNone, wrapf(err, "reading role of %s:%s", platform, userID)
	}
	return best, nil
}
