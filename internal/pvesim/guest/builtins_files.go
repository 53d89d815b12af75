package guest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"path"
	"sort"
	"strconv"
	"strings"
)

func commandFor(name string) builtinFunc {
	switch name {
	case "cat":
		return cCat
	case "ls":
		return cLs
	case "rm":
		return cRm
	case "mkdir":
		return cMkdir
	case "rmdir":
		return cRmdir
	case "touch":
		return cTouch
	case "chmod":
		return cChmod
	case "chown", "chgrp":
		return cChown
	case "mv", "cp":
		return cMvCp
	case "stat":
		return cStat
	case "realpath", "readlink":
		return cRealpath
	case "dirname", "basename":
		return cPathPart
	case "mktemp":
		return cMktemp
	case "head", "tail":
		return cHeadTail
	case "tr":
		return cTr
	case "wc":
		return cWc
	case "grep":
		return cGrep
	case "sed":
		return cSed
	case "cut":
		return cCut
	case "sort", "uniq":
		return cSortUniq
	case "base64":
		return cBase64
	case "tee":
		return cTee
	case "seq":
		return cSeq
	}
	return systemCommandFor(name)
}

// flagSplit separates "-abc" style flags from operands. Flags listed in
// withArg take the next argument (or the rest of the cluster).
func flagSplit(args []string, withArg string) (flags map[string]string, operands []string) {
	flags = map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			operands = append(operands, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "--") {
			k, v, _ := strings.Cut(a[2:], "=")
			flags["--"+k] = v
			continue
		}
		if len(a) < 2 || a[0] != '-' {
			operands = append(operands, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			f := string(a[j])
			if strings.Contains(withArg, f) {
				if j+1 < len(a) {
					flags[f] = a[j+1:]
				} else if i+1 < len(args) {
					i++
					flags[f] = args[i]
				}
				break
			}
			flags[f] = ""
		}
	}
	return flags, operands
}

func has(flags map[string]string, names ...string) bool {
	for _, n := range names {
		if _, ok := flags[n]; ok {
			return true
		}
	}
	return false
}

// errText gives the coreutils wording for a filesystem error.
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return err.Error()
}

// copyOut streams r to w; a failed write (closed pipe) ends the copy.
func copyOut(w io.Writer, r io.Reader) error {
	buf := make([]byte, 32*1024)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (s *shell) inputs(operands []string, ios ioSet, prog string) ([]io.Reader, int) {
	if len(operands) == 0 {
		return []io.Reader{ios.in}, 0
	}
	status := 0
	var rs []io.Reader
	for _, o := range operands {
		if o == "-" {
			rs = append(rs, ios.in)
			continue
		}
		r, err := s.g.openReader(cleanPath(s.cwd, o))
		if err != nil {
			fmt.Fprintf(ios.err, "%s: %s: %s\n", prog, o, errText(err))
			status = 1
			continue
		}
		rs = append(rs, r)
	}
	return rs, status
}

func cCat(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	_, ops := flagSplit(argv[1:], "")
	rs, status := s.inputs(ops, ios, "cat")
	for _, r := range rs {
		if err := copyOut(ios.out, r); err != nil {
			return 1, nil
		}
	}
	return status, nil
}

func modeString(fi FileInfo) string {
	b := []byte("-rwxrwxrwx")
	if fi.Dir {
		b[0] = 'd'
	}
	for i := 0; i < 9; i++ {
		if fi.Mode&(1<<uint(8-i)) == 0 {
			b[i+1] = '-'
		}
	}
	if fi.Mode&fs.ModeSticky != 0 || fi.Mode&0o1000 != 0 {
		b[9] = 't'
	}
	return string(b)
}

func cLs(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	flags, ops := flagSplit(argv[1:], "")
	long, all, dirOnly := has(flags, "l"), has(flags, "a", "A"), has(flags, "d")
	if len(ops) == 0 {
		ops = []string{"."}
	}
	status := 0
	show := func(name string, fi FileInfo) {
		if long {
			fmt.Fprintf(ios.out, "%s 1 %s %s %d %s %s\n", modeString(fi), fi.Owner, fi.Group, fi.Size,
				fi.ModTime.Format("Jan _2 15:04"), name)
		} else {
			fmt.Fprintln(ios.out, name)
		}
	}
	for _, o := range ops {
		p := cleanPath(s.cwd, o)
		fi, err := s.g.Stat(p)
		if err != nil {
			fmt.Fprintf(ios.err, "ls: cannot access '%s': %s\n", o, errText(err))
			status = 2
			continue
		}
		if !fi.Dir || dirOnly {
			show(o, fi)
			continue
		}
		if len(ops) > 1 {
			fmt.Fprintf(ios.out, "%s:\n", o)
		}
		s.g.mu.Lock()
		kids := s.g.fs.children(p)
		s.g.mu.Unlock()
		for _, k := range kids {
			if strings.HasPrefix(k, ".") && !all {
				continue
			}
			if kfi, err := s.g.Stat(path.Join(p, k)); err == nil {
				show(k, kfi)
			}
		}
	}
	return status, nil
}

func cRm(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	flags, ops := flagSplit(argv[1:], "")
	force, rec := has(flags, "f", "--force"), has(flags, "r", "R", "--recursive")
	status := 0
	for _, o := range ops {
		p := cleanPath(s.cwd, o)
		s.g.mu.Lock()
		n, err := s.g.fs.get(p)
		if err == nil && n.dir && !rec {
			err = ErrIsDir
		} else if err == nil {
			err = s.g.fs.remove(p, true)
		}
		s.g.mu.Unlock()
		if err != nil {
			if force && errors.Is(err, ErrNotExist) {
				continue
			}
			fmt.Fprintf(ios.err, "rm: cannot remove '%s': %s\n", o, errText(err))
			status = 1
		}
	}
	if len(ops) == 0 && !force {
		fmt.Fprintln(ios.err, "rm: missing operand")
		return 1, nil
	}
	return status, nil
}

func (s *shell) userGroup() (string, string) {
	s.g.mu.Lock()
	defer s.g.mu.Unlock()
	if u, ok := s.g.users[s.user]; ok {
		return u.name, s.g.groupNameLocked(u.gid)
	}
	return "root", "root"
}

func cMkdir(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	flags, ops := flagSplit(argv[1:], "m")
	mode := fs.FileMode(0o755)
	if m, ok := flags["m"]; ok {
		v, err := strconv.ParseUint(m, 8, 32)
		if err != nil {
			return 0, &UnsupportedError{What: "mkdir -m with a symbolic mode"}
		}
		mode = fs.FileMode(v)
	}
	u, g := s.userGroup()
	status := 0
	for _, o := range ops {
		s.g.mu.Lock()
		err := s.g.fs.mkdir(cleanPath(s.cwd, o), mode, u, g, has(flags, "p", "--parents"))
		s.g.mu.Unlock()
		if err != nil {
			fmt.Fprintf(ios.err, "mkdir: cannot create directory '%s': %s\n", o, errText(err))
			status = 1
		}
	}
	return status, nil
}

func cRmdir(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	_, ops := flagSplit(argv[1:], "")
	status := 0
	for _, o := range ops {
		p := cleanPath(s.cwd, o)
		s.g.mu.Lock()
		n, err := s.g.fs.get(p)
		if err == nil && !n.dir {
			err = ErrNotDir
		} else if err == nil {
			err = s.g.fs.remove(p, false)
		}
		s.g.mu.Unlock()
		if err != nil {
			fmt.Fprintf(ios.err, "rmdir: failed to remove '%s': %s\n", o, errText(err))
			status = 1
		}
	}
	return status, nil
}

func cTouch(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	_, ops := flagSplit(argv[1:], "dtr")
	u, g := s.userGroup()
	status := 0
	for _, o := range ops {
		p := cleanPath(s.cwd, o)
		s.g.mu.Lock()
		var err error
		if n, ok := s.g.fs.nodes[p]; ok {
			n.mtime = s.g.now()
		} else {
			err = s.g.fs.writeFile(p, nil, true, 0o644, u, g)
		}
		s.g.mu.Unlock()
		if err != nil {
			fmt.Fprintf(ios.err, "touch: cannot touch '%s': %s\n", o, errText(err))
			status = 1
		}
	}
	return status, nil
}

// applyMode computes a new mode from an octal or symbolic (u+x,go-w,a=r)
// specification.
func applyMode(spec string, old fs.FileMode) (fs.FileMode, bool) {
	if v, err := strconv.ParseUint(spec, 8, 32); err == nil {
		return fs.FileMode(v) & 0o7777, true
	}
	mode := old
	for _, clause := range strings.Split(spec, ",") {
		i := 0
		var who fs.FileMode
		for i < len(clause) && strings.IndexByte("ugoa", clause[i]) >= 0 {
			who |= map[byte]fs.FileMode{'u': 0o700, 'g': 0o070, 'o': 0o007, 'a': 0o777}[clause[i]]
			i++
		}
		if who == 0 {
			who = 0o777
		}
		if i >= len(clause) || strings.IndexByte("+-=", clause[i]) < 0 {
			return old, false
		}
		op := clause[i]
		i++
		var bits fs.FileMode
		for ; i < len(clause); i++ {
			switch clause[i] {
			case 'r':
				bits |= 0o444
			case 'w':
				bits |= 0o222
			case 'x', 'X':
				bits |= 0o111
			case 's', 't':
			default:
				return old, false
			}
		}
		bits &= who
		switch op {
		case '+':
			mode |= bits
		case '-':
			mode &^= bits
		case '=':
			mode = mode&^who | bits
		}
	}
	return mode, true
}

func (s *shell) walk(p string, recursive bool, fn func(p string, n *inode)) error {
	s.g.mu.Lock()
	defer s.g.mu.Unlock()
	n, err := s.g.fs.get(p)
	if err != nil {
		return err
	}
	fn(p, n)
	if recursive && n.dir {
		for k, v := range s.g.fs.nodes {
			if strings.HasPrefix(k, p+"/") || (p == "/" && k != "/") {
				fn(k, v)
			}
		}
	}
	return nil
}

func cChmod(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	args := argv[1:]
	rec := false
	for len(args) > 0 && (args[0] == "-R" || args[0] == "-f" || args[0] == "-v") {
		rec = rec || args[0] == "-R"
		args = args[1:]
	}
	if len(args) < 2 {
		fmt.Fprintln(ios.err, "chmod: missing operand")
		return 1, nil
	}
	status := 0
	for _, o := range args[1:] {
		bad := false
		err := s.walk(cleanPath(s.cwd, o), rec, func(_ string, n *inode) {
			m, ok := applyMode(args[0], n.mode)
			if !ok {
				bad = true
				return
			}
			n.mode = m
		})
		if bad {
			fmt.Fprintf(ios.err, "chmod: invalid mode: '%s'\n", args[0])
			return 1, nil
		}
		if err != nil {
			fmt.Fprintf(ios.err, "chmod: cannot access '%s': %s\n", o, errText(err))
			status = 1
		}
	}
	return status, nil
}

func cChown(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	args := argv[1:]
	rec := false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		rec = rec || strings.Contains(args[0], "R")
		args = args[1:]
	}
	if len(args) < 2 {
		fmt.Fprintf(ios.err, "%s: missing operand\n", argv[0])
		return 1, nil
	}
	spec := args[0]
	if argv[0] == "chgrp" {
		spec = ":" + spec
	}
	uName, gName, hasGroup := strings.Cut(strings.Replace(spec, ".", ":", 1), ":")
	s.g.mu.Lock()
	var newU, newG string
	if uName != "" {
		u, ok := s.g.lookupUserLocked(uName)
		if !ok {
			s.g.mu.Unlock()
			fmt.Fprintf(ios.err, "%s: invalid user: '%s'\n", argv[0], spec)
			return 1, nil
		}
		newU = u.name
		if hasGroup && gName == "" {
			newG = s.g.groupNameLocked(u.gid)
		}
	}
	if gName != "" {
		n, ok := s.g.lookupGroupLocked(gName)
		if !ok {
			s.g.mu.Unlock()
			fmt.Fprintf(ios.err, "%s: invalid group: '%s'\n", argv[0], spec)
			return 1, nil
		}
		newG = n
	}
	s.g.mu.Unlock()
	status := 0
	for _, o := range args[1:] {
		err := s.walk(cleanPath(s.cwd, o), rec, func(_ string, n *inode) {
			if newU != "" {
				n.owner = newU
			}
			if newG != "" {
				n.group = newG
			}
		})
		if err != nil {
			fmt.Fprintf(ios.err, "%s: cannot access '%s': %s\n", argv[0], o, errText(err))
			status = 1
		}
	}
	return status, nil
}

func cMvCp(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	flags, ops := flagSplit(argv[1:], "t")
	prog := argv[0]
	if len(ops) < 2 {
		fmt.Fprintf(ios.err, "%s: missing file operand\n", prog)
		return 1, nil
	}
	dst := cleanPath(s.cwd, ops[len(ops)-1])
	srcs := ops[:len(ops)-1]
	rec := has(flags, "r", "R", "a", "--recursive", "--archive")
	keep := has(flags, "p", "a", "--archive", "--preserve")
	u, g := s.userGroup()
	s.g.mu.Lock()
	defer s.g.mu.Unlock()
	fsys := s.g.fs
	dstNode, dstExists := fsys.nodes[dst]
	if len(srcs) > 1 && (!dstExists || !dstNode.dir) {
		fmt.Fprintf(ios.err, "%s: target '%s' is not a directory\n", prog, ops[len(ops)-1])
		return 1, nil
	}
	status := 0
	for _, o := range srcs {
		src := cleanPath(s.cwd, o)
		n, err := fsys.get(src)
		if err != nil {
			fmt.Fprintf(ios.err, "%s: cannot stat '%s': %s\n", prog, o, errText(err))
			status = 1
			continue
		}
		if prog == "mv" {
			if err := fsys.rename(src, dst); err != nil {
				fmt.Fprintf(ios.err, "mv: cannot move '%s' to '%s': %s\n", o, ops[len(ops)-1], errText(err))
				status = 1
			}
			continue
		}
		target := dst
		if dstExists && dstNode.dir {
			target = path.Join(dst, path.Base(src))
		}
		if n.dir && !rec {
			fmt.Fprintf(ios.err, "cp: -r not specified; omitting directory '%s'\n", o)
			status = 1
			continue
		}
		if n.dir && strings.HasPrefix(target+"/", src+"/") {
			fmt.Fprintf(ios.err, "cp: cannot copy a directory, '%s', into itself\n", o)
			status = 1
			continue
		}
		copyNode := func(from, to string, n *inode) error {
			if n.dir {
				if err := fsys.mkdir(to, n.mode, u, g, false); err != nil && !errors.Is(err, ErrExist) {
					return err
				}
			} else if err := fsys.writeFile(to, n.data, false, n.mode, u, g); err != nil {
				return err
			}
			if keep {
				c := fsys.nodes[to]
				c.mode, c.owner, c.group, c.mtime = n.mode, n.owner, n.group, n.mtime
			}
			return nil
		}
		if err := copyNode(src, target, n); err != nil {
			fmt.Fprintf(ios.err, "cp: cannot create '%s': %s\n", ops[len(ops)-1], errText(err))
			status = 1
			continue
		}
		if n.dir {
			var kids []string
			for k := range fsys.nodes {
				if strings.HasPrefix(k, src+"/") {
					kids = append(kids, k)
				}
			}
			sort.Strings(kids)
			for _, k := range kids {
				if err := copyNode(k, target+k[len(src):], fsys.nodes[k]); err != nil {
					status = 1
				}
			}
		}
	}
	return status, nil
}

func cStat(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	flags, ops := flagSplit(argv[1:], "c")
	format, custom := flags["c"]
	if f, ok := flags["--format"]; ok {
		format, custom = f, true
	}
	if f, ok := flags["--printf"]; ok {
		return 0, &UnsupportedError{What: "stat --printf " + f}
	}
	status := 0
	for _, o := range ops {
		fi, err := s.g.Stat(cleanPath(s.cwd, o))
		if err != nil {
			fmt.Fprintf(ios.err, "stat: cannot statx '%s': %s\n", o, errText(err))
			status = 1
			continue
		}
		if !custom {
			fmt.Fprintf(ios.out, "  File: %s\n  Size: %d\nAccess: (%04o/%s)  Uid: ( %s)   Gid: ( %s)\n",
				o, fi.Size, fi.Mode, modeString(fi), fi.Owner, fi.Group)
			continue
		}
		var b strings.Builder
		for i := 0; i < len(format); i++ {
			if format[i] != '%' || i+1 >= len(format) {
				b.WriteByte(format[i])
				continue
			}
			i++
			switch format[i] {
			case 'a':
				fmt.Fprintf(&b, "%o", fi.Mode)
			case 'A':
				b.WriteString(modeString(fi))
			case 'U':
				b.WriteString(fi.Owner)
			case 'G':
				b.WriteString(fi.Group)
			case 'u', 'g':
				name := fi.Owner
				if format[i] == 'g' {
					name = fi.Group
				}
				b.WriteString(s.g.idOf(name, format[i] == 'g'))
			case 's':
				b.WriteString(strconv.FormatInt(fi.Size, 10))
			case 'n':
				b.WriteString(o)
			case 'F':
				if fi.Dir {
					b.WriteString("directory")
				} else if fi.Size == 0 {
					b.WriteString("regular empty file")
				} else {
					b.WriteString("regular file")
				}
			case 'Y':
				b.WriteString(strconv.FormatInt(fi.ModTime.Unix(), 10))
			case 'y':
				b.WriteString(fi.ModTime.Format("2006-01-02 15:04:05.000000000 -0700"))
			case '%':
				b.WriteByte('%')
			default:
				b.WriteByte('?')
			}
		}
		fmt.Fprintln(ios.out, b.String())
	}
	return status, nil
}

func (g *Guest) idOf(name string, group bool) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if group {
		if id, ok := g.groups[name]; ok {
			return strconv.Itoa(id)
		}
	} else if u, ok := g.users[name]; ok {
		return strconv.Itoa(u.uid)
	}
	return name
}

func cRealpath(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	_, ops := flagSplit(argv[1:], "")
	for _, o := range ops {
		fmt.Fprintln(ios.out, cleanPath(s.cwd, o))
	}
	return 0, nil
}

func cPathPart(_ context.Context, _ *shell, argv []string, ios ioSet) (int, error) {
	if len(argv) < 2 {
		fmt.Fprintf(ios.err, "%s: missing operand\n", argv[0])
		return 1, nil
	}
	p := argv[1]
	if argv[0] == "dirname" {
		d := path.Dir(strings.TrimRight(p, "/"))
		if p == "/" {
			d = "/"
		}
		fmt.Fprintln(ios.out, d)
		return 0, nil
	}
	b := path.Base(p)
	if len(argv) > 2 && b != argv[2] {
		b = strings.TrimSuffix(b, argv[2])
	}
	fmt.Fprintln(ios.out, b)
	return 0, nil
}

func cMktemp(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	flags, ops := flagSplit(argv[1:], "p")
	tmpl := "tmp.XXXXXXXXXX"
	if len(ops) > 0 {
		tmpl = ops[0]
	}
	dir := "/tmp"
	if d, ok := flags["p"]; ok {
		dir = d
	}
	if !strings.Contains(tmpl, "/") || has(flags, "p", "t") {
		tmpl = dir + "/" + tmpl
	}
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	n := len(tmpl) - len(strings.TrimRight(tmpl, "X"))
	u, g := s.userGroup()
	for attempt := 0; attempt < 100; attempt++ {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteByte(chars[rand.IntN(len(chars))])
		}
		p := cleanPath(s.cwd, tmpl[:len(tmpl)-n]+b.String())
		s.g.mu.Lock()
		var err error
		if _, exists := s.g.fs.nodes[p]; exists {
			s.g.mu.Unlock()
			continue
		}
		if has(flags, "d") {
			err = s.g.fs.mkdir(p, 0o700, u, g, false)
		} else {
			err = s.g.fs.writeFile(p, nil, false, 0o600, u, g)
		}
		s.g.mu.Unlock()
		if err != nil {
			fmt.Fprintf(ios.err, "mktemp: failed to create file via template '%s': %s\n", tmpl, errText(err))
			return 1, nil
		}
		fmt.Fprintln(ios.out, p)
		return 0, nil
	}
	return 1, nil
}
