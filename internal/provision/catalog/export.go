package catalog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// Export writes t into <templatesDir>/<t.Name>/ in the directory format, so
// that LoadDir reads it back. Buckets named "<t.Name>.<bucket>" that t lists
// are written as the template's package files and must be among buckets; the
// other names t lists are library buckets and go to TEMPLATE_BUCKETS
// (library buckets are written with ExportBucket). When read back, library
// buckets come before the template's own, own buckets in file-name order.
//
// The directory is written beside the old one and swapped in, so stale
// scripts or files from an earlier export do not survive.
func Export(t *provision.Template, buckets []provision.Bucket, templatesDir string) error {
	if err := ValidateTemplateName(t.Name); err != nil {
		return fmt.Errorf("exporting template: %w", err)
	}
	if err := exportTemplate(t, buckets, templatesDir); err != nil {
		return fmt.Errorf("exporting template %s: %w", t.Name, err)
	}
	return nil
}

func exportTemplate(t *provision.Template, buckets []provision.Bucket, templatesDir string) error {
	byName := map[string]*provision.Bucket{}
	for i := range buckets {
		byName[buckets[i].Name] = &buckets[i]
	}
	conf := Conf{
		App: t.App, Description: t.Description, Tags: t.Tags, OSTemplate: t.OSTemplate,
		Cores: t.Cores, MemoryMiB: t.MemoryMiB, SwapMiB: t.SwapMiB, DiskGiB: t.DiskGiB,
		Storage: t.Storage, Bridge: t.Bridge, Unprivileged: t.Unprivileged, Nesting: t.Nesting,
		Keyctl: t.Keyctl, Fuse: t.Fuse, PackagesStrict: t.PackagesStrict, Extra: t.Extra,
	}
	type pkgFile struct {
		name string
		data []byte
	}
	var pkgFiles []pkgFile
	for _, ref := range t.Buckets {
		stem, own := strings.CutPrefix(ref, t.Name+".")
		if !own {
			if !libraryBucketRe.MatchString(ref) {
				return fmt.Errorf("bucket %s is neither a library bucket nor one of the template's own", ref)
			}
			conf.Buckets = append(conf.Buckets, ref)
			continue
		}
		b, ok := byName[ref]
		if !ok {
			return fmt.Errorf("bucket %s: its packages were not given", ref)
		}
		if !libraryBucketRe.MatchString(stem) {
			return fmt.Errorf("bucket %s: %q cannot be a package file name", ref, stem)
		}
		if _, ok := ParseManager(string(b.Manager)); !ok {
			return fmt.Errorf("bucket %s: unknown manager %q", ref, b.Manager)
		}
		pkgFiles = append(pkgFiles, pkgFile{stem + "." + string(b.Manager), FormatPackages(b.Description, b.Manager, b.Packages)})
	}
	if err := checkConf(conf); err != nil {
		return err
	}

	if err := os.MkdirAll(templatesDir, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(templatesDir, "."+t.Name+".export-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}

	if err := writeFile(tmp, ConfFile, FormatTemplateConf(conf), 0o644); err != nil {
		return err
	}
	for _, s := range t.Scripts {
		m := scriptNameRe.FindStringSubmatch(s.Name)
		if m == nil {
			return fmt.Errorf("script %q: name must be NN-name.sh", s.Name)
		}
		if n, _ := strconv.Atoi(m[1]); n != s.Order {
			return fmt.Errorf("script %s: order %d does not match its name", s.Name, s.Order)
		}
		name := s.Name
		if !s.Enabled {
			name += disabledSuffix
		}
		if err := writeFile(tmp, ScriptsDir+"/"+name, []byte(s.Body), 0o755); err != nil {
			return err
		}
	}
	for _, f := range t.Files {
		if err := checkFileName(f.Name); err != nil {
			return err
		}
		dir, err := ParseTargetDir(f.TargetDir)
		if err != nil {
			return fmt.Errorf("file %s: target directory: %w", f.Name, err)
		}
		policy := f.Policy
		if policy == "" {
			policy = provision.PolicyDefault
		}
		if _, err := ParsePolicy(string(policy)); err != nil {
			return fmt.Errorf("file %s: %w", f.Name, err)
		}
		base := FilesDir + "/" + f.Name
		if err := writeFile(tmp, base, f.Content, 0o644); err != nil {
			return err
		}
		if err := writeFile(tmp, base+pathSuffix, []byte(dir+"\n"), 0o644); err != nil {
			return err
		}
		if err := writeFile(tmp, base+policySuffix, []byte(string(policy)+"\n"), 0o644); err != nil {
			return err
		}
		if f.Mode != 0 {
			if f.Mode > 0o7777 {
				return fmt.Errorf("file %s: invalid mode %o", f.Name, f.Mode)
			}
			if err := writeFile(tmp, base+modeSuffix, fmt.Appendf(nil, "%04o\n", f.Mode), 0o644); err != nil {
				return err
			}
		}
	}
	for _, p := range pkgFiles {
		if err := writeFile(tmp, PackagesDir+"/"+p.name, p.data, 0o644); err != nil {
			return err
		}
	}
	return swapDir(tmp, filepath.Join(templatesDir, t.Name))
}

// ExportBucket writes a library bucket to <templatesDir>/_buckets/<name>.<manager>.
func ExportBucket(b *provision.Bucket, templatesDir string) error {
	if !libraryBucketRe.MatchString(b.Name) {
		return fmt.Errorf("exporting bucket %s: not a library bucket name (letters, digits, '-' and '_')", b.Name)
	}
	if _, ok := ParseManager(string(b.Manager)); !ok {
		return fmt.Errorf("exporting bucket %s: unknown manager %q", b.Name, b.Manager)
	}
	dir := filepath.Join(templatesDir, LibraryDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("exporting bucket %s: %w", b.Name, err)
	}
	tmp, err := os.CreateTemp(dir, "."+b.Name+".export-")
	if err != nil {
		return fmt.Errorf("exporting bucket %s: %w", b.Name, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(FormatPackages(b.Description, b.Manager, b.Packages))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, b.Name+"."+string(b.Manager)))
	}
	if err != nil {
		return fmt.Errorf("exporting bucket %s: %w", b.Name, err)
	}
	return nil
}

// checkConf refuses settings that ParseTemplateConf would read differently
// or reject, so an export never writes a template that will not load.
func checkConf(c Conf) error {
	values := map[string]string{KeyApp: c.App, KeyDescription: c.Description, KeyTags: strings.Join(c.Tags, ";"),
		KeyOSTemplate: c.OSTemplate, KeyStorage: c.Storage, KeyBridge: c.Bridge}
	for k, v := range c.Extra {
		values[k] = v
	}
	for k, v := range values {
		if err := checkText(v); err != nil {
			return fmt.Errorf("settings: %s: %w", k, err)
		}
	}
	_, _, err := ParseTemplateConf(strings.NewReader(string(FormatTemplateConf(c))))
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("settings: %w", pe.Err)
		}
		return fmt.Errorf("settings: %w", err)
	}
	for k := range c.Extra {
		if knownKey(k) || k == "" || !isNameStart(k[0]) || strings.IndexFunc(k, func(r rune) bool { return r > 0x7f || !isNameChar(byte(r)) }) >= 0 {
			return fmt.Errorf("settings: extra key %q is not a free KEY name", k)
		}
	}
	return nil
}

func checkFileName(name string) error {
	switch {
	case name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00"):
		return fmt.Errorf("file %q: not a plain file name", name)
	case name == gitkeep || isSidecar(name):
		return fmt.Errorf("file %s: names ending in .path, .policy or .mode, and .gitkeep, are reserved", name)
	}
	return nil
}

func writeFile(root, rel string, data []byte, perm fs.FileMode) error {
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(p, data, perm); err != nil {
		return err
	}
	return os.Chmod(p, perm) // WriteFile's perm is filtered by the umask
}

// swapDir replaces dst with src, keeping dst if the swap fails.
func swapDir(src, dst string) error {
	old := ""
	if _, err := os.Lstat(dst); err == nil {
		old = src + ".old"
		if err := os.Rename(dst, old); err != nil {
			return err
		}
	}
	if err := os.Rename(src, dst); err != nil {
		if old != "" {
			_ = os.Rename(old, dst)
		}
		return err
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}
