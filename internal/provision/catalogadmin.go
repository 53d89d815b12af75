package provision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// CatalogAdminStore is what catalog administration needs from the system of
// record.
type CatalogAdminStore interface {
	GetTemplate(ctx context.Context, name string) (Template, error)
	ListTemplates(ctx context.Context, search string) ([]Template, error)
	UpsertTemplate(ctx context.Context, t *Template) error
	SetScriptEnabled(ctx context.Context, template, script string, enabled bool) error
	GetBucket(ctx context.Context, name string) (Bucket, error)
	ListBuckets(ctx context.Context, manager Manager) ([]Bucket, error)
	UpsertBucket(ctx context.Context, b *Bucket) error
	DeleteBucket(ctx context.Context, name string) error
}

// SyncReport says what importing a templates directory did.
type SyncReport struct {
	Templates []string
	Buckets   []string
	Failed    map[string]string // template or bucket file -> why it was not saved
	Warnings  []string
}

// TemplateDir reads and writes the on-disk template format. Package catalog
// implements the format but imports this package, so the wiring passes its
// functions in (see TemplateDirFuncs).
type TemplateDir interface {
	Sync(ctx context.Context, dir string) (SyncReport, error)
	Export(ctx context.Context, t *Template, buckets []Bucket, dir string) error
}

// TemplateDirFuncs adapts two functions to TemplateDir; Export can be
// catalog.Export as is.
type TemplateDirFuncs struct {
	SyncFunc   func(ctx context.Context, dir string) (SyncReport, error)
	ExportFunc func(t *Template, buckets []Bucket, dir string) error
}

// Sync calls SyncFunc.
func (f TemplateDirFuncs) Sync(ctx context.Context, dir string) (SyncReport, error) {
	return f.SyncFunc(ctx, dir)
}

// Export calls ExportFunc.
func (f TemplateDirFuncs) Export(ctx context.Context, t *Template, buckets []Bucket, dir string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return f.ExportFunc(t, buckets, dir)
}

// CatalogAdminDeps are CatalogAdmin's collaborators.
type CatalogAdminDeps struct {
	Store CatalogAdminStore
	Dir   TemplateDir
	Log   *slog.Logger
}

// CatalogAdmin serves templates and package buckets: import, export,
// search, edit. It does not authorise.
type CatalogAdmin struct {
	store CatalogAdminStore
	dir   TemplateDir
	log   *slog.Logger
}

// NewCatalogAdmin builds a CatalogAdmin.
func NewCatalogAdmin(d CatalogAdminDeps) *CatalogAdmin {
	c := &CatalogAdmin{store: d.Store, dir: d.Dir, log: d.Log}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Sync imports the templates directory; a broken template is reported in the
// report and does not stop the others.
func (c *CatalogAdmin) Sync(ctx context.Context, dir string) (SyncReport, error) {
	rep, err := c.dir.Sync(ctx, dir)
	if err != nil {
		return rep, fmt.Errorf("syncing templates from the templates directory: %w", err)
	}
	c.log.InfoContext(ctx, "templates synced", "templates", len(rep.Templates), "buckets", len(rep.Buckets), "failed", len(rep.Failed))
	return rep, nil
}

// Export writes the template (with its own buckets) to dir in the directory
// format.
func (c *CatalogAdmin) Export(ctx context.Context, name, dir string) error {
	t, err := c.Get(ctx, name)
	if err != nil {
		return err
	}
	var buckets []Bucket
	for _, bn := range t.Buckets {
		b, err := c.store.GetBucket(ctx, bn)
		if err != nil {
			return fmt.Errorf("exporting template %s: reading bucket %s: %w", name, bn, err)
		}
		buckets = append(buckets, b)
	}
	if err := c.dir.Export(ctx, t, buckets, dir); err != nil {
		return fmt.Errorf("exporting template %s: %w", name, err)
	}
	return nil
}

// List returns templates whose name, app or description contains search, or
// that carry it as a tag ("" = all).
func (c *CatalogAdmin) List(ctx context.Context, search string) ([]Template, error) {
	ts, err := c.store.ListTemplates(ctx, search)
	if err != nil {
		return nil, fmt.Errorf("listing templates: %w", err)
	}
	return ts, nil
}

// Get returns one template.
func (c *CatalogAdmin) Get(ctx context.Context, name string) (*Template, error) {
	t, err := c.store.GetTemplate(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return nil, Userf(ErrNotFound, "no template %q: see /lxc templates", name)
	}
	if err != nil {
		return nil, fmt.Errorf("reading template %s: %w", name, err)
	}
	return &t, nil
}

// SetScriptEnabled enables or disables one script of a template.
func (c *CatalogAdmin) SetScriptEnabled(ctx context.Context, template, script string, enabled bool) error {
	err := c.store.SetScriptEnabled(ctx, template, script, enabled)
	if errors.Is(err, ErrNotFound) {
		return Userf(ErrNotFound, "template %s has no script %q: see /lxc template show %s", template, script, template)
	}
	if err != nil {
		return fmt.Errorf("setting script %s of template %s: %w", script, template, err)
	}
	return nil
}

// TemplateChanges edits a template. Nil or zero fields are left alone.
type TemplateChanges struct {
	Description   *string
	Tags          []string // nil = keep; empty non-nil = clear
	Cores         int
	MemoryMiB     int
	SwapMiB       *int
	DiskGiB       int
	AddBuckets    []string
	RemoveBuckets []string
}

// Update applies changes to a template and saves it.
func (c *CatalogAdmin) Update(ctx context.Context, name string, ch TemplateChanges) (*Template, error) {
	t, err := c.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	var problems []string
	if ch.Description != nil {
		t.Description = strings.TrimSpace(*ch.Description)
	}
	if ch.Tags != nil {
		tags := make([]string, 0, len(ch.Tags))
		for _, tag := range ch.Tags {
			if tag = strings.TrimSpace(tag); tag != "" && !slices.Contains(tags, tag) {
				tags = append(tags, tag)
			}
		}
		t.Tags = tags
	}
	switch {
	case ch.Cores < 0 || ch.Cores > 512:
		problems = append(problems, "cores must be between 1 and 512")
	case ch.Cores > 0:
		t.Cores = ch.Cores
	}
	switch {
	case ch.MemoryMiB < 0 || (ch.MemoryMiB > 0 && ch.MemoryMiB < 16):
		problems = append(problems, "memory must be at least 16 MiB")
	case ch.MemoryMiB > 0:
		t.MemoryMiB = ch.MemoryMiB
	}
	if ch.SwapMiB != nil {
		if *ch.SwapMiB < 0 {
			problems = append(problems, "swap cannot be negative")
		} else {
			t.SwapMiB = *ch.SwapMiB
		}
	}
	switch {
	case ch.DiskGiB < 0:
		problems = append(problems, "disk must be at least 1 GiB")
	case ch.DiskGiB > 0:
		t.DiskGiB = ch.DiskGiB
	}
	for _, b := range ch.AddBuckets {
		if _, err := c.store.GetBucket(ctx, b); errors.Is(err, ErrNotFound) {
			problems = append(problems, fmt.Sprintf("there is no bucket %q (see /lxc buckets)", b))
			continue
		} else if err != nil {
			return nil, fmt.Errorf("updating template %s: reading bucket %s: %w", name, b, err)
		}
		if !slices.Contains(t.Buckets, b) {
			t.Buckets = append(t.Buckets, b)
		}
	}
	for _, b := range ch.RemoveBuckets {
		if !slices.Contains(t.Buckets, b) {
			problems = append(problems, fmt.Sprintf("template %s does not include bucket %q", name, b))
			continue
		}
		t.Buckets = slices.DeleteFunc(t.Buckets, func(x string) bool { return x == b })
	}
	if len(problems) > 0 {
		return nil, Userf(ErrInvalid, "template %s not changed: %s", name, strings.Join(problems, "; "))
	}
	if err := c.store.UpsertTemplate(ctx, t); err != nil {
		return nil, fmt.Errorf("saving template %s: %w", name, err)
	}
	c.log.InfoContext(ctx, "template updated", "template", name)
	return c.Get(ctx, name)
}

// Buckets lists package buckets, all managers ("" ) or one.
func (c *CatalogAdmin) Buckets(ctx context.Context, manager Manager) ([]Bucket, error) {
	bs, err := c.store.ListBuckets(ctx, manager)
	if err != nil {
		return nil, fmt.Errorf("listing buckets: %w", err)
	}
	return bs, nil
}

// Bucket returns one bucket.
func (c *CatalogAdmin) Bucket(ctx context.Context, name string) (*Bucket, error) {
	b, err := c.store.GetBucket(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return nil, Userf(ErrNotFound, "no bucket %q: see /lxc buckets", name)
	}
	if err != nil {
		return nil, fmt.Errorf("reading bucket %s: %w", name, err)
	}
	return &b, nil
}

// SaveBucket adds or replaces a bucket.
func (c *CatalogAdmin) SaveBucket(ctx context.Context, b *Bucket) error {
	b.Name = strings.TrimSpace(b.Name)
	switch b.Manager {
	case ManagerApt, ManagerPip, ManagerNpm, ManagerCustom:
	default:
		return Userf(ErrInvalid, "bucket %s: manager must be apt, pip, npm or custom", b.Name)
	}
	if b.Name == "" || strings.ContainsAny(b.Name, " /\\") {
		return Userf(ErrInvalid, "bucket name %q: use letters, digits, dots, dashes", b.Name)
	}
	if err := c.store.UpsertBucket(ctx, b); err != nil {
		if errors.Is(err, ErrInvalid) {
			return Userf(ErrInvalid, "bucket %s was refused: %v", b.Name, err)
		}
		return fmt.Errorf("saving bucket %s: %w", b.Name, err)
	}
	return nil
}

// RemoveBucket deletes a bucket; it refuses while a template includes it.
func (c *CatalogAdmin) RemoveBucket(ctx context.Context, name string) error {
	err := c.store.DeleteBucket(ctx, name)
	switch {
	case errors.Is(err, ErrNotFound):
		return Userf(ErrNotFound, "no bucket %q: see /lxc buckets", name)
	case errors.Is(err, ErrConflict):
		return Userf(ErrConflict, "bucket %s is still included by a template: remove it from the template first", name)
	case err != nil:
		return fmt.Errorf("removing bucket %s: %w", name, err)
	}
	return nil
}
