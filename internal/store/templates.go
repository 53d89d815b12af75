package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/lxcbot/lxcbot/internal/provision"
)

const templateCols = `id, name, app, description, tags, os_template, cores, memory_mib, swap_mib, disk_gib,
	storage, bridge, unprivileged, nesting, keyctl, fuse, packages_strict, extra, created_at, updated_at`

func scanTemplate(r rowScanner) (provision.Template, error) {
	var t provision.Template
	var extra []byte
	err := r.Scan(&t.ID, &t.Name, &t.App, &t.Description, &t.Tags, &t.OSTemplate, &t.Cores, &t.MemoryMiB, &t.SwapMiB,
		&t.DiskGiB, &t.Storage, &t.Bridge, &t.Unprivileged, &t.Nesting, &t.Keyctl, &t.Fuse, &t.PackagesStrict,
		&extra, &t.CreatedAt, &t.UpdatedAt)
	if err != nil {
		return t, err
	}
	if err := json.Unmarshal(extra, &t.Extra); err != nil {
		return t, fmt.Errorf("decoding extra settings of template %s: %w", t.Name, err)
	}
	if len(t.Extra) == 0 {
		t.Extra = nil
	}
	return t, nil
}

// CreateTemplate adds a template with its scripts, files and bucket links in
// one transaction; ErrConflict if the name is taken, ErrNotFound if a named
// bucket does not exist.
func (db *DB) CreateTemplate(ctx context.Context, t *provision.Template) error {
	return db.saveTemplate(ctx, t, false)
}

// UpsertTemplate creates or replaces the template named t.Name in one
// transaction: the row, and its scripts, files and bucket links replaced
// wholesale (the import of a template directory is idempotent). ErrNotFound if
// a named bucket does not exist.
func (db *DB) UpsertTemplate(ctx context.Context, t *provision.Template) error {
	return db.saveTemplate(ctx, t, true)
}

func (db *DB) saveTemplate(ctx context.Context, t *provision.Template, replace bool) error {
	extra := t.Extra
	if extra == nil {
		extra = map[string]string{}
	}
	rawExtra, err := json.Marshal(extra)
	if err != nil {
		return fmt.Errorf("saving template %s: encoding extra settings: %w", t.Name, err)
	}
	query := `
		INSERT INTO templates (name, app, description, tags, os_template, cores, memory_mib, swap_mib, disk_gib,
		                       storage, bridge, unprivileged, nesting, keyctl, fuse, packages_strict, extra)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`
	if replace {
		query += `
		ON CONFLICT (name) DO UPDATE
		   SET app = excluded.app, description = excluded.description, tags = excluded.tags,
		       os_template = excluded.os_template, cores = excluded.cores, memory_mib = excluded.memory_mib,
		       swap_mib = excluded.swap_mib, disk_gib = excluded.disk_gib, storage = excluded.storage,
		       bridge = excluded.bridge, unprivileged = excluded.unprivileged, nesting = excluded.nesting,
		       keyctl = excluded.keyctl, fuse = excluded.fuse, packages_strict = excluded.packages_strict,
		       extra = excluded.extra, updated_at = now()`
	}
	query += ` RETURNING id, created_at, updated_at`

	err = db.InTx(ctx, func(tx *DB) error {
		err := tx.q.QueryRow(ctx, query, t.Name, t.App, t.Description, strs(t.Tags), t.OSTemplate, t.Cores, t.MemoryMiB,
			t.SwapMiB, t.DiskGiB, t.Storage, t.Bridge, t.Unprivileged, t.Nesting, t.Keyctl, t.Fuse, t.PackagesStrict,
			rawExtra).Scan(&t.ID, &t.CreatedAt, &t.UpdatedAt)
		if err != nil {
			return err
		}
		for _, stmt := range []string{
			`DELETE FROM template_scripts WHERE template_id = $1`,
			`DELETE FROM template_files WHERE template_id = $1`,
			`DELETE FROM template_buckets WHERE template_id = $1`,
		} {
			if _, err := tx.q.Exec(ctx, stmt, t.ID); err != nil {
				return err
			}
		}
		for _, s := range t.Scripts {
			if _, err := tx.q.Exec(ctx, `
				INSERT INTO template_scripts (template_id, ord, name, body, enabled) VALUES ($1, $2, $3, $4, $5)`,
				t.ID, s.Order, s.Name, s.Body, s.Enabled); err != nil {
				return wrapf(err, "script %s", s.Name)
			}
		}
		for _, f := range t.Files {
			policy := f.Policy
			if policy == "" {
				policy = provision.PolicyDefault
			}
			content := f.Content
			if content == nil {
				content = []byte{}
			}
			if _, err := tx.q.Exec(ctx, `
				INSERT INTO template_files (template_id, name, target_dir, policy, content, mode)
				VALUES ($1, $2, $3, $4, $5, $6)`,
				t.ID, f.Name, f.TargetDir, policy, content, int64(f.Mode)); err != nil {
				return wrapf(err, "file %s", f.Name)
			}
		}
		seen := make(map[string]bool, len(t.Buckets))
		for i, name := range t.Buckets {
			if seen[name] {
				continue
			}
			seen[name] = true
			tag, err := tx.q.Exec(ctx, `
				INSERT INTO template_buckets (template_id, bucket_id, position)
				SELECT $1, id, $3 FROM package_buckets WHERE name = $2`, t.ID, name, i)
			if err != nil {
				return wrapf(err, "bucket %s", name)
			}
			if tag.RowsAffected() == 0 {
				return fmt.Errorf("bucket %s does not exist: %w", name, provision.ErrNotFound)
			}
		}
		return nil
	})
	if err != nil {
		return wrapf(err, "saving template %s", t.Name)
	}
	return nil
}

// GetTemplate returns a template with its scripts (in order), files and
// buckets, or ErrNotFound.
func (db *DB) GetTemplate(ctx context.Context, name string) (provision.Template, error) {
	ts, err := db.loadTemplates(ctx, `SELECT `+templateCols+` FROM templates WHERE name = $1`, name)
	if err != nil {
		return provision.Template{}, wrapf(err, "reading template %s", name)
	}
	if len(ts) == 0 {
		return provision.Template{}, fmt.Errorf("reading template %s: %w", name, provision.ErrNotFound)
	}
	return ts[0], nil
}

// ListTemplates returns templates by name, complete with their children.
// search, if not empty, matches a substring of the name, app or description,
// or a whole tag, ignoring case.
func (db *DB) ListTemplates(ctx context.Context, search string) ([]provision.Template, error) {
	search = strings.TrimSpace(search)
	like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(search) + "%"
	ts, err := db.loadTemplates(ctx, `
		SELECT `+templateCols+` FROM templates
		 WHERE $1 = ''
		    OR name ILIKE $2 OR app ILIKE $2 OR description ILIKE $2
		    OR EXISTS (SELECT 1 FROM unnest(tags) AS tag WHERE lower(tag) = lower($1))
		 ORDER BY name`, search, like)
	if err != nil {
		return nil, wrapf(err, "listing templates")
	}
	return ts, nil
}

// loadTemplates reads template rows and then their children in one query per
// child table.
func (db *DB) loadTemplates(ctx context.Context, query string, args ...any) ([]provision.Template, error) {
	ts, err := queryAll(ctx, db.q, scanTemplate, query, args...)
	if err != nil || len(ts) == 0 {
		return nil, err
	}
	ids := make([]int64, len(ts))
	byID := make(map[int64]*provision.Template, len(ts))
	for i := range ts {
		ids[i] = ts[i].ID
		byID[ts[i].ID] = &ts[i]
	}

	rows, err := db.q.Query(ctx, `
		SELECT template_id, ord, name, body, enabled FROM template_scripts
		 WHERE template_id = ANY($1) ORDER BY template_id, ord, name`, ids)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		var s provision.TemplateScript
		if err := rows.Scan(&id, &s.Order, &s.Name, &s.Body, &s.Enabled); err != nil {
			rows.Close()
			return nil, err
		}
		byID[id].Scripts = append(byID[id].Scripts, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	rows, err = db.q.Query(ctx, `
		SELECT template_id, name, target_dir, policy, content, mode FROM template_files
		 WHERE template_id = ANY($1) ORDER BY template_id, name`, ids)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id, mode int64
		var f provision.TemplateFile
		if err := rows.Scan(&id, &f.Name, &f.TargetDir, &f.Policy, &f.Content, &mode); err != nil {
			rows.Close()
			return nil, err
		}
		f.Mode = uint32(mode)
		byID[id].Files = append(byID[id].Files, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	rows, err = db.q.Query(ctx, `
		SELECT tb.template_id, b.name FROM template_buckets tb JOIN package_buckets b ON b.id = tb.bucket_id
		 WHERE tb.template_id = ANY($1) ORDER BY tb.template_id, tb.position, b.name`, ids)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			rows.Close()
			return nil, err
		}
		byID[id].Buckets = append(byID[id].Buckets, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return ts, nil
}

// DeleteTemplate removes a template and its scripts, files and bucket links,
// or returns ErrNotFound. Containers made from it keep its name.
func (db *DB) DeleteTemplate(ctx context.Context, name string) error {
	tag, err := db.q.Exec(ctx, `DELETE FROM templates WHERE name = $1`, name)
	if err != nil {
		return wrapDeletef(err, "deleting template %s", name)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("deleting template %s: %w", name, provision.ErrNotFound)
	}
	return nil
}

// SetScriptEnabled enables or disables one script of a template; ErrNotFound
// if the template or script does not exist.
func (db *DB) SetScriptEnabled(ctx context.Context, template, script string, enabled bool) error {
	tag, err := db.q.Exec(ctx, `
		WITH s AS (
			UPDATE template_scripts SET enabled = $3
			 WHERE name = $2 AND template_id = (SELECT id FROM templates WHERE name = $1)
			RETURNING template_id)
		UPDATE templates SET updated_at = now() WHERE id IN (SELECT template_id FROM s)`,
		template, script, enabled)
	if err != nil {
		return wrapf(err, "setting script %s of template %s", script, template)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("setting script %s of template %s: %w", script, template, provision.ErrNotFound)
	}
	return nil
}
