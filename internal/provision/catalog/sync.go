package catalog

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// CatalogStore is what Sync needs from the store. Both methods insert or
// update by name; UpsertTemplate saves a template with its scripts, files and
// bucket links in one transaction.
type CatalogStore interface {
	UpsertTemplate(ctx context.Context, t *provision.Template) error
	UpsertBucket(ctx context.Context, b *provision.Bucket) error
}

// Report says what a Sync did.
type Report struct {
	Templates []string // templates saved, in name order
	Buckets   []string // buckets saved: the library's, then each template's own
	// Failed maps a template name, or a library file such as
	// "_buckets/base.apt", to why it was not saved.
	Failed   map[string]error
	Warnings []Warning // File is relative to the templates directory
}

// Err joins the failures, in name order, or returns nil.
func (r Report) Err() error {
	names := make([]string, 0, len(r.Failed))
	for n := range r.Failed {
		names = append(names, n)
	}
	slices.Sort(names)
	errs := make([]error, 0, len(names))
	for _, n := range names {
		errs = append(errs, fmt.Errorf("%s: %w", n, r.Failed[n]))
	}
	return errors.Join(errs...)
}

// Sync imports the templates directory dir into store: first the library
// buckets in _buckets/, then every subdirectory holding a template.conf, each
// template after its own buckets. A template or bucket that cannot be loaded
// or saved is recorded in Report.Failed and the others go on. Sync only
// upserts, so running it twice changes nothing the second time. The error is
// non-nil only when dir cannot be read or ctx ends.
func Sync(ctx context.Context, store CatalogStore, dir string, log *slog.Logger) (Report, error) {
	return SyncFS(ctx, store, os.DirFS(dir), log)
}

// SyncFS is Sync over a templates directory given as a file system, such as
// the embedded example templates.
func SyncFS(ctx context.Context, store CatalogStore, fsys fs.FS, log *slog.Logger) (Report, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rep := Report{Failed: map[string]error{}}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return rep, fmt.Errorf("listing templates directory: %w", err)
	}

	lib := loadLibraryFS(fsys)
	rep.Warnings = append(rep.Warnings, lib.warnings...)
	if lib.err != nil {
		rep.Failed[LibraryDir] = lib.err
		log.Warn("bucket library not loaded", "error", lib.err)
	}
	for _, file := range lib.failedFiles {
		rep.Failed[file] = lib.failed[file]
		log.Warn("bucket not loaded", "file", file, "error", lib.failed[file])
	}
	libraryOK := map[string]bool{}
	for i := range lib.buckets {
		b := &lib.buckets[i]
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if err := store.UpsertBucket(ctx, b); err != nil {
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			file := lib.fileOf[b.Name]
			rep.Failed[file] = fmt.Errorf("saving bucket %s: %w", b.Name, err)
			lib.badNames[b.Name] = true
			log.Warn("bucket not saved", "bucket", b.Name, "error", err)
			continue
		}
		libraryOK[b.Name] = true
		rep.Buckets = append(rep.Buckets, b.Name)
	}

	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, "_") || strings.HasPrefix(name, ".") {
			continue
		}
		if info, err := fs.Stat(fsys, name); err != nil || !info.IsDir() { // Stat follows symlinked templates
			continue
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if _, err := fs.Stat(fsys, name+"/"+ConfFile); err != nil {
			rep.Warnings = append(rep.Warnings, Warning{File: name, Msg: "no " + ConfFile + "; not a template"})
			continue
		}
		sub, err := fs.Sub(fsys, name)
		if err != nil {
			rep.Failed[name] = err
			continue
		}
		l, err := LoadFS(sub, name)
		if l != nil {
			rep.Warnings = append(rep.Warnings, prefixWarnings(l.Warnings, name)...)
		}
		if err == nil {
			err = checkLibraryRefs(l, lib, libraryOK, name, &rep)
		}
		if err == nil {
			err = saveLoaded(ctx, store, l, &rep)
		}
		if err != nil {
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			rep.Failed[name] = err
			log.Warn("template not imported", "template", name, "error", err)
			continue
		}
		rep.Templates = append(rep.Templates, name)
		log.Info("template imported", "template", name, "scripts", len(l.Template.Scripts),
			"files", len(l.Template.Files), "buckets", len(l.Template.Buckets))
	}
	for _, w := range rep.Warnings {
		log.Warn("template catalog warning", "file", w.File, "line", w.Line, "warning", w.Msg)
	}
	return rep, nil
}

// checkLibraryRefs fails a template whose TEMPLATE_BUCKETS names a library
// bucket that is broken in this directory, and warns about names that are
// not in the directory at all (they may have been created in chat).
func checkLibraryRefs(l *Loaded, lib *library, libraryOK map[string]bool, name string, rep *Report) error {
	own := map[string]bool{}
	for _, b := range l.Buckets {
		own[b.Name] = true
	}
	for _, ref := range l.Template.Buckets {
		switch {
		case own[ref] || libraryOK[ref]:
		case lib.badNames[ref]:
			return fmt.Errorf("%s: bucket %s in %s could not be imported", ConfFile, ref, LibraryDir)
		default:
			rep.Warnings = append(rep.Warnings, Warning{File: name + "/" + ConfFile,
				Msg: fmt.Sprintf("%s: bucket %s is not in %s; it must already be in the library", KeyBuckets, ref, LibraryDir)})
		}
	}
	return nil
}

func saveLoaded(ctx context.Context, store CatalogStore, l *Loaded, rep *Report) error {
	for i := range l.Buckets {
		b := &l.Buckets[i]
		if err := store.UpsertBucket(ctx, b); err != nil {
			return fmt.Errorf("saving bucket %s: %w", b.Name, err)
		}
		rep.Buckets = append(rep.Buckets, b.Name)
	}
	if err := store.UpsertTemplate(ctx, l.Template); err != nil {
		return fmt.Errorf("saving template: %w", err)
	}
	return nil
}
