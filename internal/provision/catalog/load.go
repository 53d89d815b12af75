package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// Paths inside a template directory, slash-separated.
const (
	ScriptsDir  = "container-configs/scripts"
	FilesDir    = "container-configs/files"
	PackagesDir = "container-configs/packages"
	// LibraryDir is the package-bucket library inside a templates directory.
	LibraryDir = "_buckets"
)

// Sidecar suffixes of a managed file; a content file cannot end in them.
const (
	pathSuffix     = ".path"
	policySuffix   = ".policy"
	modeSuffix     = ".mode"
	disabledSuffix = ".disabled"
	gitkeep        = ".gitkeep"
)

// Size limits, so a stray large file fails loudly instead of filling the
// store.
const (
	maxFileSize   = 1 << 20
	maxScriptSize = 1 << 20
)

var (
	templateNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	scriptNameRe   = regexp.MustCompile(`^([0-9]{1,6})-[A-Za-z0-9][A-Za-z0-9._-]*\.sh$`)
)

// Loaded is one template read from its directory.
type Loaded struct {
	Template *provision.Template
	// Buckets are the template's own package files, named
	// "<template>.<bucket>"; Template.Buckets lists them after the library
	// buckets of TEMPLATE_BUCKETS.
	Buckets  []provision.Bucket
	Warnings []Warning // File is relative to the template directory
}

// ValidateTemplateName checks a template name, which is also its directory
// name.
func ValidateTemplateName(name string) error {
	if !templateNameRe.MatchString(name) {
		return fmt.Errorf("invalid template name %q (letters, digits, '.', '_' and '-', at most 63, not starting with '.', '_' or '-')", name)
	}
	return nil
}

// LoadDir reads the template directory dir; the template is named after the
// directory.
func LoadDir(dir string) (*Loaded, error) {
	name := filepath.Base(filepath.Clean(dir))
	l, err := LoadFS(os.DirFS(dir), name)
	if err != nil {
		return nil, fmt.Errorf("loading template %s: %w", name, err)
	}
	return l, nil
}

// LoadFS reads a template whose directory is the root of fsys (for example
// fs.Sub of an embedded templates directory).
func LoadFS(fsys fs.FS, name string) (*Loaded, error) {
	if err := ValidateTemplateName(name); err != nil {
		return nil, err
	}
	l := &Loaded{}
	f, err := fsys.Open(ConfFile)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ConfFile, err)
	}
	conf, warns, err := ParseTemplateConf(f)
	f.Close()
	l.Warnings = append(l.Warnings, warns...)
	if err != nil {
		return nil, err
	}
	t := &provision.Template{
		Name:           name,
		App:            conf.App,
		Description:    conf.Description,
		Tags:           conf.Tags,
		OSTemplate:     conf.OSTemplate,
		Cores:          conf.Cores,
		MemoryMiB:      conf.MemoryMiB,
		SwapMiB:        conf.SwapMiB,
		DiskGiB:        conf.DiskGiB,
		Storage:        conf.Storage,
		Bridge:         conf.Bridge,
		Unprivileged:   conf.Unprivileged,
		Nesting:        conf.Nesting,
		Keyctl:         conf.Keyctl,
		Fuse:           conf.Fuse,
		PackagesStrict: conf.PackagesStrict,
		Extra:          conf.Extra,
	}
	t.Buckets = append(t.Buckets, conf.Buckets...)
	if t.Scripts, err = loadScripts(fsys, &l.Warnings); err != nil {
		return nil, err
	}
	if t.Files, err = loadFiles(fsys, &l.Warnings); err != nil {
		return nil, err
	}
	if l.Buckets, err = loadPackageDir(fsys, PackagesDir, name+".", &l.Warnings); err != nil {
		return nil, err
	}
	for _, b := range l.Buckets {
		t.Buckets = append(t.Buckets, b.Name)
	}
	l.Template = t
	return l, nil
}

// readDirIfExists lists dir, treating a missing directory as empty.
func readDirIfExists(fsys fs.FS, dir string) ([]fs.DirEntry, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	return entries, nil
}

func readLimited(fsys fs.FS, name string, limit int64) ([]byte, error) {
	info, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if info.Size() > limit {
		return nil, parseErrorf(name, 0, "larger than %d bytes", limit)
	}
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return b, nil
}

func loadScripts(fsys fs.FS, warns *[]Warning) ([]provision.TemplateScript, error) {
	entries, err := readDirIfExists(fsys, ScriptsDir)
	if err != nil {
		return nil, err
	}
	var scripts []provision.TemplateScript
	seen := map[string]string{}
	for _, e := range entries {
		file := ScriptsDir + "/" + e.Name()
		if e.Name() == gitkeep {
			continue
		}
		name, disabled := strings.CutSuffix(e.Name(), disabledSuffix)
		m := scriptNameRe.FindStringSubmatch(name)
		if e.IsDir() || m == nil {
			*warns = append(*warns, Warning{File: file, Msg: "not a script (want NN-name.sh or NN-name.sh.disabled); ignored"})
			continue
		}
		if other, dup := seen[name]; dup {
			return nil, parseErrorf(file, 0, "script %s is also %s; keep one", name, other)
		}
		seen[name] = file
		body, err := readLimited(fsys, file, maxScriptSize)
		if err != nil {
			return nil, err
		}
		if !utf8.Valid(body) || bytes.IndexByte(body, 0) >= 0 {
			return nil, parseErrorf(file, 0, "not a text file (invalid UTF-8 or NUL bytes)")
		}
		order, _ := strconv.Atoi(m[1])
		scripts = append(scripts, provision.TemplateScript{Order: order, Name: name, Body: string(body), Enabled: !disabled})
	}
	slices.SortFunc(scripts, func(a, b provision.TemplateScript) int {
		if a.Order != b.Order {
			return a.Order - b.Order
		}
		return strings.Compare(a.Name, b.Name)
	})
	return scripts, nil
}

func isSidecar(name string) bool {
	return strings.HasSuffix(name, pathSuffix) || strings.HasSuffix(name, policySuffix) || strings.HasSuffix(name, modeSuffix)
}

func loadFiles(fsys fs.FS, warns *[]Warning) ([]provision.TemplateFile, error) {
	entries, err := readDirIfExists(fsys, FilesDir)
	if err != nil {
		return nil, err
	}
	present := map[string]bool{}
	for _, e := range entries {
		present[e.Name()] = !e.IsDir()
	}
	var files []provision.TemplateFile
	for _, e := range entries {
		name := e.Name()
		file := FilesDir + "/" + name
		switch {
		case name == gitkeep:
			continue
		case e.IsDir():
			*warns = append(*warns, Warning{File: file, Msg: "directories are not managed files; ignored"})
			continue
		case isSidecar(name):
			base := name[:strings.LastIndexByte(name, '.')]
			if !present[base] {
				return nil, parseErrorf(file, 0, "there is no file %s for it to describe", base)
			}
			continue
		}
		content, err := readLimited(fsys, file, maxFileSize)
		if err != nil {
			return nil, err
		}
		tf := provision.TemplateFile{Name: name, Policy: provision.PolicyDefault, Content: content}

		raw, err := fs.ReadFile(fsys, file+pathSuffix)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, parseErrorf(file+pathSuffix, 0, "missing: write the directory %s is written into, e.g. /etc/myapp", name)
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", file+pathSuffix, err)
		}
		if tf.TargetDir, err = ParseTargetDir(string(raw)); err != nil {
			return nil, &ParseError{File: file + pathSuffix, Err: err}
		}
		if path.Base(tf.TargetDir) == name {
			*warns = append(*warns, Warning{File: file + pathSuffix, Msg: fmt.Sprintf(
				"holds the target directory, so the file is written to %s", path.Join(tf.TargetDir, name))})
		}

		raw, err = fs.ReadFile(fsys, file+policySuffix)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("reading %s: %w", file+policySuffix, err)
		default:
			if tf.Policy, err = ParsePolicy(string(raw)); err != nil {
				return nil, &ParseError{File: file + policySuffix, Err: err}
			}
		}

		raw, err = fs.ReadFile(fsys, file+modeSuffix)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("reading %s: %w", file+modeSuffix, err)
		default:
			if tf.Mode, err = ParseMode(string(raw)); err != nil {
				return nil, &ParseError{File: file + modeSuffix, Err: err}
			}
		}
		files = append(files, tf)
	}
	return files, nil
}

// ParseTargetDir reads a .path file: one absolute directory, without "..".
func ParseTargetDir(raw string) (string, error) {
	p := strings.TrimSpace(raw)
	switch {
	case p == "":
		return "", errors.New("empty: write the directory the file is written into, e.g. /etc/myapp")
	case strings.ContainsAny(p, "\r\n"):
		return "", errors.New("more than one line: write one directory")
	}
	if err := checkText(p); err != nil {
		return "", err
	}
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("%q is not absolute: the target directory must start with /", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return "", fmt.Errorf("%q contains '..'", p)
		}
	}
	return path.Clean(p), nil
}

// ParsePolicy reads a .policy file.
func ParsePolicy(raw string) (provision.FilePolicy, error) {
	switch p := provision.FilePolicy(strings.ToLower(strings.TrimSpace(raw))); p {
	case provision.PolicyReplace, provision.PolicyDefault, provision.PolicyBackup:
		return p, nil
	}
	return "", fmt.Errorf("invalid policy %q (want replace, default or backup)", strings.TrimSpace(raw))
}

// ParseMode reads a .mode file: octal permission bits such as 0644 or 755.
func ParseMode(raw string) (uint32, error) {
	s := strings.TrimSpace(raw)
	digits := strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O")
	m, err := strconv.ParseUint(digits, 8, 32)
	if err != nil || digits == "" || strings.HasPrefix(digits, "+") || m > 0o7777 {
		return 0, fmt.Errorf("invalid mode %q (want octal permission bits such as 0644)", s)
	}
	if m == 0 {
		return 0, errors.New("mode 0 would make the file unreadable; leave out the .mode file for 0644")
	}
	return uint32(m), nil
}

// loadPackageDir reads every <bucket>.<manager> file in dir; bucket names get
// prefix. A missing dir has no buckets.
func loadPackageDir(fsys fs.FS, dir, prefix string, warns *[]Warning) ([]provision.Bucket, error) {
	entries, err := readDirIfExists(fsys, dir)
	if err != nil {
		return nil, err
	}
	var buckets []provision.Bucket
	fileOf := map[string]string{}
	for _, e := range entries {
		file := dir + "/" + e.Name()
		b, skip, err := loadBucketEntry(fsys, file, e.Name(), e.IsDir(), prefix)
		if err != nil {
			return nil, err
		}
		if skip != "" {
			*warns = append(*warns, Warning{File: file, Msg: skip})
			continue
		}
		if b == nil {
			continue
		}
		if other, dup := fileOf[b.Name]; dup {
			return nil, parseErrorf(file, 0, "bucket %s is also %s; a bucket has one manager, rename one file", b.Name, other)
		}
		fileOf[b.Name] = file
		buckets = append(buckets, *b)
	}
	return buckets, nil
}

// loadBucketEntry reads one package file. It returns a reason to skip the
// entry (as a warning) when it is not a package file at all.
func loadBucketEntry(fsys fs.FS, file, base string, isDir bool, prefix string) (*provision.Bucket, string, error) {
	if base == gitkeep {
		return nil, "", nil
	}
	stem, ext, found := cutLast(base, ".")
	m, ok := ParseManager(ext)
	if isDir || !found || !ok {
		return nil, "not a package file (want <bucket>.apt, .npm, .pip or .custom); ignored", nil
	}
	if !libraryBucketRe.MatchString(stem) {
		return nil, "", parseErrorf(file, 0, "invalid bucket name %q (letters, digits, '-' and '_')", stem)
	}
	raw, err := readLimited(fsys, file, maxFileSize)
	if err != nil {
		return nil, "", err
	}
	b, err := ParseBucket(prefix+stem, m, bytes.NewReader(raw))
	if err != nil {
		return nil, "", inFile(err, file)
	}
	return b, "", nil
}

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
