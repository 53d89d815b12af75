package catalog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// LoadBucketFile reads one library bucket file named <bucket>.<manager>; the
// bucket is named after the file.
func LoadBucketFile(path string) (*provision.Bucket, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading bucket: %w", err)
	}
	dir, name := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	b, skip, err := loadBucketEntry(os.DirFS(dir), name, name, info.IsDir(), "")
	switch {
	case err != nil:
		return nil, err
	case skip != "" || b == nil:
		return nil, parseErrorf(name, 0, "not a package file (want <bucket>.apt, .npm, .pip or .custom)")
	}
	return b, nil
}

// LoadLibrary reads the bucket library <templates-dir>/_buckets. A missing
// library is empty. Files that fail to load are joined into the error; the
// buckets that loaded are returned all the same.
func LoadLibrary(templatesDir string) ([]provision.Bucket, []Warning, error) {
	lib := loadLibraryFS(os.DirFS(templatesDir))
	var errs []error
	for _, f := range lib.failedFiles {
		errs = append(errs, lib.failed[f])
	}
	if lib.err != nil {
		errs = append(errs, lib.err)
	}
	return lib.buckets, lib.warnings, errors.Join(errs...)
}

type library struct {
	buckets     []provision.Bucket
	fileOf      map[string]string // bucket name → file
	failed      map[string]error  // file → why
	failedFiles []string          // keys of failed, in order
	badNames    map[string]bool   // bucket names whose file failed
	warnings    []Warning
	err         error // the library directory itself could not be read
}

// loadLibraryFS reads _buckets from a templates directory, file by file, so
// one broken bucket does not hide the others.
func loadLibraryFS(fsys fs.FS) *library {
	lib := &library{fileOf: map[string]string{}, failed: map[string]error{}, badNames: map[string]bool{}}
	entries, err := readDirIfExists(fsys, LibraryDir)
	if err != nil {
		lib.err = err
		return lib
	}
	fail := func(file string, err error) {
		lib.failed[file] = err
		lib.failedFiles = append(lib.failedFiles, file)
	}
	for _, e := range entries {
		file := LibraryDir + "/" + e.Name()
		b, skip, err := loadBucketEntry(fsys, file, e.Name(), e.IsDir(), "")
		switch {
		case err != nil:
			if stem, _, ok := cutLast(e.Name(), "."); ok {
				lib.badNames[stem] = true
			}
			fail(file, err)
			continue
		case skip != "":
			lib.warnings = append(lib.warnings, Warning{File: file, Msg: skip})
			continue
		case b == nil:
			continue
		}
		if other, dup := lib.fileOf[b.Name]; dup {
			lib.badNames[b.Name] = true
			fail(file, parseErrorf(file, 0, "bucket %s is also %s; a bucket has one manager, rename one file", b.Name, other))
			continue
		}
		lib.fileOf[b.Name] = file
		lib.buckets = append(lib.buckets, *b)
	}
	return lib
}
