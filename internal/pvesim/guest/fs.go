package guest

import (
	"errors"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

// Filesystem errors, matched with errors.Is. Their text follows coreutils
// wording so that builtins can print them directly.
var (
	ErrNotExist = errors.New("No such file or directory")
	ErrExist    = errors.New("File exists")
	ErrIsDir    = errors.New("Is a directory")
	ErrNotDir   = errors.New("Not a directory")
	ErrNotEmpty = errors.New("Directory not empty")
)

// maxFileSize bounds one file so that a runaway script cannot exhaust memory.
const maxFileSize = 64 << 20

// FileInfo describes one entry of the guest filesystem.
type FileInfo struct {
	Path    string
	Dir     bool
	Mode    fs.FileMode // permission bits only
	Owner   string
	Group   string
	Size    int64
	ModTime time.Time
}

type inode struct {
	dir   bool
	mode  fs.FileMode
	owner string
	group string
	data  []byte
	mtime time.Time
}

// memFS is a flat map of cleaned absolute paths. It is not safe for
// concurrent use; Guest serialises access with its mutex.
type memFS struct {
	nodes map[string]*inode
	now   func() time.Time
}

func newMemFS(now func() time.Time) *memFS {
	m := &memFS{nodes: map[string]*inode{}, now: now}
	m.nodes["/"] = &inode{dir: true, mode: 0o755, owner: "root", group: "root", mtime: now()}
	return m
}

// cleanPath makes p absolute relative to cwd and removes dot segments.
func cleanPath(cwd, p string) string {
	if p == "" {
		return ""
	}
	if !strings.HasPrefix(p, "/") {
		p = cwd + "/" + p
	}
	return path.Clean(p)
}

func (m *memFS) get(p string) (*inode, error) {
	n, ok := m.nodes[p]
	if !ok {
		if parent := path.Dir(p); parent != p {
			if pn, ok := m.nodes[parent]; ok && !pn.dir {
				return nil, ErrNotDir
			}
		}
		return nil, ErrNotExist
	}
	return n, nil
}

func (m *memFS) parentDir(p string) error {
	parent, err := m.get(path.Dir(p))
	if err != nil {
		return ErrNotExist
	}
	if !parent.dir {
		return ErrNotDir
	}
	return nil
}

func (m *memFS) mkdir(p string, mode fs.FileMode, owner, group string, parents bool) error {
	if p == "/" {
		if parents {
			return nil
		}
		return ErrExist
	}
	if n, ok := m.nodes[p]; ok {
		if parents && n.dir {
			return nil
		}
		return ErrExist
	}
	if err := m.parentDir(p); err != nil {
		if !parents || !errors.Is(err, ErrNotExist) {
			return err
		}
		if err := m.mkdir(path.Dir(p), mode, owner, group, true); err != nil {
			return err
		}
	}
	m.nodes[p] = &inode{dir: true, mode: mode, owner: owner, group: group, mtime: m.now()}
	return nil
}

// writeFile creates or replaces (or appends to) a regular file. A new file
// gets mode and owner; an existing one keeps its own.
func (m *memFS) writeFile(p string, data []byte, appendData bool, mode fs.FileMode, owner, group string) error {
	n, ok := m.nodes[p]
	if ok && n.dir {
		return ErrIsDir
	}
	if !ok {
		if err := m.parentDir(p); err != nil {
			return err
		}
		n = &inode{mode: mode, owner: owner, group: group}
		m.nodes[p] = n
	}
	if appendData {
		if len(n.data)+len(data) > maxFileSize {
			return errors.New("File too large")
		}
		n.data = append(n.data, data...)
	} else {
		if len(data) > maxFileSize {
			return errors.New("File too large")
		}
		n.data = append([]byte(nil), data...)
	}
	n.mtime = m.now()
	return nil
}

func (m *memFS) readFile(p string) ([]byte, error) {
	n, err := m.get(p)
	if err != nil {
		return nil, err
	}
	if n.dir {
		return nil, ErrIsDir
	}
	return append([]byte(nil), n.data...), nil
}

// children lists the direct entries of directory p, sorted by name.
func (m *memFS) children(p string) []string {
	prefix := p + "/"
	if p == "/" {
		prefix = "/"
	}
	var out []string
	for k := range m.nodes {
		if k == p || !strings.HasPrefix(k, prefix) {
			continue
		}
		rest := k[len(prefix):]
		if rest != "" && !strings.Contains(rest, "/") {
			out = append(out, rest)
		}
	}
	sort.Strings(out)
	return out
}

func (m *memFS) remove(p string, recursive bool) error {
	n, err := m.get(p)
	if err != nil {
		return err
	}
	if p == "/" {
		return errors.New("it is dangerous to operate recursively on '/'")
	}
	if n.dir {
		kids := m.children(p)
		if len(kids) > 0 && !recursive {
			return ErrNotEmpty
		}
		prefix := p + "/"
		for k := range m.nodes {
			if strings.HasPrefix(k, prefix) {
				delete(m.nodes, k)
			}
		}
	}
	delete(m.nodes, p)
	return nil
}

// rename moves src (file or tree) to dst.
func (m *memFS) rename(src, dst string) error {
	n, err := m.get(src)
	if err != nil {
		return err
	}
	if d, ok := m.nodes[dst]; ok {
		if d.dir {
			dst = path.Join(dst, path.Base(src))
		} else if n.dir {
			return ErrNotDir
		}
	}
	if src == dst {
		return nil
	}
	if n.dir && strings.HasPrefix(dst+"/", src+"/") {
		return errors.New("Invalid argument")
	}
	if err := m.parentDir(dst); err != nil {
		return err
	}
	if d, ok := m.nodes[dst]; ok && d.dir && n.dir {
		if len(m.children(dst)) > 0 {
			return ErrNotEmpty
		}
	}
	moved := map[string]*inode{dst: n}
	if n.dir {
		prefix := src + "/"
		for k, v := range m.nodes {
			if strings.HasPrefix(k, prefix) {
				moved[dst+"/"+k[len(prefix):]] = v
				delete(m.nodes, k)
			}
		}
	}
	delete(m.nodes, src)
	for k, v := range moved {
		m.nodes[k] = v
	}
	return nil
}

func (m *memFS) info(p string) (FileInfo, error) {
	n, err := m.get(p)
	if err != nil {
		return FileInfo{}, err
	}
	return FileInfo{Path: p, Dir: n.dir, Mode: n.mode, Owner: n.owner, Group: n.group,
		Size: int64(len(n.data)), ModTime: n.mtime}, nil
}

// glob expands an absolute or relative pattern against the filesystem,
// one path segment at a time. It returns nil when nothing matches.
func (m *memFS) glob(cwd, pattern string) []string {
	abs := strings.HasPrefix(pattern, "/")
	full := cleanPathKeepGlob(cwd, pattern)
	segs := strings.Split(strings.TrimPrefix(full, "/"), "/")
	cur := []string{"/"}
	for _, seg := range segs {
		var next []string
		for _, dir := range cur {
			if !hasGlobMeta(seg) {
				p := path.Join(dir, unescapeGlob(seg))
				if _, ok := m.nodes[p]; ok {
					next = append(next, p)
				}
				continue
			}
			if n, ok := m.nodes[dir]; !ok || !n.dir {
				continue
			}
			for _, name := range m.children(dir) {
				if strings.HasPrefix(name, ".") && !strings.HasPrefix(seg, ".") {
					continue
				}
				if ok, _ := path.Match(seg, name); ok {
					next = append(next, path.Join(dir, name))
				}
			}
		}
		cur = next
		if len(cur) == 0 {
			return nil
		}
	}
	sort.Strings(cur)
	if !abs {
		prefix := strings.TrimSuffix(cwd, "/") + "/"
		for i, p := range cur {
			cur[i] = strings.TrimPrefix(p, prefix)
		}
	}
	return cur
}

func cleanPathKeepGlob(cwd, p string) string {
	if !strings.HasPrefix(p, "/") {
		p = strings.TrimSuffix(cwd, "/") + "/" + p
	}
	return path.Clean(p)
}

func hasGlobMeta(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '*', '?', '[':
			return true
		}
	}
	return false
}

func unescapeGlob(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
