package app

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/provision/catalog"
)

// Templates implements commands.Catalog.
func (b *Backend) Templates(ctx context.Context, search string) ([]provision.Template, error) {
	return b.catalog.List(ctx, search)
}

// Template implements commands.Catalog.
func (b *Backend) Template(ctx context.Context, name string) (*provision.Template, error) {
	return b.catalog.Get(ctx, name)
}

// EditTemplate implements commands.Catalog. Settings are checked and saved
// first, then script switches, then storage and bridge (which the catalog
// facade does not edit).
func (b *Backend) EditTemplate(ctx context.Context, _ provision.Principal, name string, e commands.TemplateEdit) (*provision.Template, error) {
	t, err := b.catalog.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	for _, s := range append(slices.Clone(e.EnableScripts), e.DisableScripts...) {
		if !slices.ContainsFunc(t.Scripts, func(sc provision.TemplateScript) bool { return sc.Name == s }) {
			return nil, provision.Userf(provision.ErrNotFound, "template %s has no script %q: see /lxc template show %s", name, s, name)
		}
	}
	for _, w := range []string{e.Storage, e.Bridge} {
		if w != "" && !safeName(w) {
			return nil, provision.Userf(provision.ErrInvalid, "%q is not a valid storage or bridge name", w)
		}
	}
	ch := provision.TemplateChanges{Cores: e.Cores, MemoryMiB: e.MemoryMiB, DiskGiB: e.DiskGiB,
		AddBuckets: e.AddBuckets, RemoveBuckets: e.RemoveBuckets}
	if e.Description != "" {
		ch.Description = &e.Description
	}
	if e.Tags != nil {
		ch.Tags = e.Tags
	}
	if e.SwapMiB != 0 {
		ch.SwapMiB = &e.SwapMiB
	}
	if _, err := b.catalog.Update(ctx, name, ch); err != nil {
		return nil, err
	}
	for _, s := range e.EnableScripts {
		if err := b.catalog.SetScriptEnabled(ctx, name, s, true); err != nil {
			return nil, err
		}
	}
	for _, s := range e.DisableScripts {
		if err := b.catalog.SetScriptEnabled(ctx, name, s, false); err != nil {
			return nil, err
		}
	}
	if e.Storage != "" || e.Bridge != "" {
		cur, err := b.store.GetTemplate(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("editing template %s: %w", name, err)
		}
		if e.Storage != "" {
			cur.Storage = e.Storage
		}
		if e.Bridge != "" {
			cur.Bridge = e.Bridge
		}
		if err := b.store.UpsertTemplate(ctx, &cur); err != nil {
			return nil, fmt.Errorf("saving template %s: %w", name, err)
		}
	}
	return b.catalog.Get(ctx, name)
}

func safeName(s string) bool {
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || i > 0 && strings.ContainsRune("._-", r)
		if !ok {
			return false
		}
	}
	return s != ""
}

// SyncTemplates implements commands.Catalog: it imports the configured
// templates directory (or the embedded examples).
func (b *Backend) SyncTemplates(ctx context.Context, _ provision.Principal) (*commands.SyncReport, error) {
	rep, err := b.catalog.Sync(ctx, b.dir)
	if err != nil {
		return nil, err
	}
	out := &commands.SyncReport{Imported: rep.Templates, Failed: rep.Failed}
	if out.Failed == nil {
		out.Failed = map[string]string{}
	}
	return out, nil
}

// ExportTemplate implements commands.Catalog: the template in the directory
// format, with the library buckets it includes under _buckets/, as a
// .tar.gz archive.
func (b *Backend) ExportTemplate(ctx context.Context, name string) ([]byte, error) {
	t, err := b.catalog.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "lxcbot-export-")
	if err != nil {
		return nil, fmt.Errorf("exporting template %s: %w", name, err)
	}
	defer os.RemoveAll(dir)
	if err := b.catalog.Export(ctx, name, dir); err != nil {
		return nil, err
	}
	for _, bn := range t.Buckets {
		if strings.HasPrefix(bn, t.Name+".") {
			continue // the template's own package file, already exported
		}
		bk, err := b.store.GetBucket(ctx, bn)
		if err != nil {
			return nil, fmt.Errorf("exporting template %s: reading bucket %s: %w", name, bn, err)
		}
		if err := catalog.ExportBucket(&bk, dir); err != nil {
			return nil, fmt.Errorf("exporting template %s: %w", name, err)
		}
	}
	data, err := tarGz(dir)
	if err != nil {
		return nil, fmt.Errorf("exporting template %s: %w", name, err)
	}
	return data, nil
}

// tarGz archives the tree under dir with paths relative to it, in name
// order and with a fixed time, so the same template gives the same bytes.
func tarGz(dir string) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	epoch := time.Unix(0, 0).UTC()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if d.IsDir() {
			hdr.Name += "/"
		}
		hdr.ModTime, hdr.AccessTime, hdr.ChangeTime = epoch, time.Time{}, time.Time{}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("writing archive: %w", err)
	}
	return buf.Bytes(), nil
}

// Buckets implements commands.Catalog.
func (b *Backend) Buckets(ctx context.Context) ([]provision.Bucket, error) {
	return b.catalog.Buckets(ctx, "")
}

// Bucket implements commands.Catalog.
func (b *Backend) Bucket(ctx context.Context, name string) (*provision.Bucket, error) {
	return b.catalog.Bucket(ctx, name)
}

// SaveBucket implements commands.Catalog.
func (b *Backend) SaveBucket(ctx context.Context, _ provision.Principal, bk *provision.Bucket) error {
	return b.catalog.SaveBucket(ctx, bk)
}

// RemoveBucket implements commands.Catalog.
func (b *Backend) RemoveBucket(ctx context.Context, _ provision.Principal, name string) error {
	return b.catalog.RemoveBucket(ctx, name)
}

// templateSource imports templates for the catalog facade: from the embedded
// file system when one is given (the demo), else from the directory the
// facade names.
type templateSource struct {
	store catalog.CatalogStore
	fsys  fs.FS // nil = read dir from disk
	log   *slog.Logger
}

func (s templateSource) sync(ctx context.Context, dir string) (provision.SyncReport, error) {
	var (
		rep catalog.Report
		err error
	)
	switch {
	case s.fsys != nil:
		rep, err = catalog.SyncFS(ctx, s.store, s.fsys, s.log)
	case dir != "":
		rep, err = catalog.Sync(ctx, s.store, dir, s.log)
	default:
		return provision.SyncReport{}, provision.Userf(provision.ErrInvalid,
			"no templates directory is configured: set LXCBOT_TEMPLATES_DIR and restart")
	}
	out := provision.SyncReport{Templates: rep.Templates, Buckets: rep.Buckets, Failed: map[string]string{}}
	for n, e := range rep.Failed {
		out.Failed[n] = e.Error()
	}
	for _, w := range rep.Warnings {
		out.Warnings = append(out.Warnings, w.String())
	}
	sort.Strings(out.Warnings)
	if err != nil && errors.Is(err, fs.ErrNotExist) {
		return out, provision.Userf(provision.ErrNotFound, "the templates directory cannot be read: %v", err)
	}
	return out, err
}

func (s templateSource) dir() provision.TemplateDir {
	return provision.TemplateDirFuncs{SyncFunc: s.sync, ExportFunc: catalog.Export}
}
