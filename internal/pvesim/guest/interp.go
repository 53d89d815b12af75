package guest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Bounds that keep one Exec finite whatever the script does.
const (
	maxSteps        = 1_000_000
	maxCallDepth    = 100
	maxCaptureBytes = 8 << 20
)

type ioSet struct {
	in       io.Reader
	out, err io.Writer
}

// Control flow travels as errors so that it unwinds through Go frames.
type (
	exitSignal   struct{ code int }
	returnSignal struct{ code int }
	loopSignal   struct {
		brk bool
		n   int
	}
)

func (exitSignal) Error() string   { return "exit" }
func (returnSignal) Error() string { return "return" }
func (loopSignal) Error() string   { return "break/continue" }

type shVar struct {
	val      string
	exported bool
}

type shell struct {
	g         *Guest
	vars      map[string]*shVar
	locals    []map[string]*shVar // saved outer values per function frame
	funcs     map[string]*funcDef
	arg0      string
	args      []string
	status    int
	errexit   bool
	nounset   bool
	pipefail  bool
	noErrexit int // >0 while running a condition, where set -e does not apply
	cwd       string
	user      string
	steps     *atomic.Int64
	depth     int // nested shells, functions, substitutions
	loops     int
	substs    int // command substitutions run, for the status of assignments
}

func (s *shell) clone() *shell {
	c := *s
	c.vars = make(map[string]*shVar, len(s.vars))
	for k, v := range s.vars {
		vv := *v
		c.vars[k] = &vv
	}
	c.funcs = make(map[string]*funcDef, len(s.funcs))
	for k, v := range s.funcs {
		c.funcs[k] = v
	}
	c.args = append([]string(nil), s.args...)
	c.locals = nil
	c.loops = 0
	return &c
}

// child returns a new shell process as started by `bash`: only exported
// variables survive.
func (s *shell) child() *shell {
	c := &shell{g: s.g, vars: map[string]*shVar{}, funcs: map[string]*funcDef{}, cwd: s.cwd,
		user: s.user, steps: s.steps, depth: s.depth + 1, arg0: "bash"}
	for k, v := range s.vars {
		if v.exported {
			c.vars[k] = &shVar{val: v.val, exported: true}
		}
	}
	return c
}

func (s *shell) get(name string) (string, bool) {
	v, ok := s.vars[name]
	if !ok {
		return "", false
	}
	return v.val, true
}

func (s *shell) set(name, val string) {
	if v, ok := s.vars[name]; ok {
		v.val = val
		return
	}
	s.vars[name] = &shVar{val: val}
}

func (s *shell) step(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.steps.Add(1) > maxSteps {
		return &UnsupportedError{What: fmt.Sprintf("more than %d commands in one exec", maxSteps)}
	}
	return nil
}

func (s *shell) errf(io ioSet, format string, args ...any) {
	fmt.Fprintf(io.err, "bash: "+format+"\n", args...)
}

// ---- execution ----

func (s *shell) runScript(ctx context.Context, sc *script, io ioSet) error {
	for _, ao := range sc.items {
		if err := s.runAndOr(ctx, ao, io); err != nil {
			return err
		}
	}
	return nil
}

func (s *shell) runAndOr(ctx context.Context, ao *andOr, io ioSet) error {
	for i, pl := range ao.pipes {
		if i > 0 {
			if ao.ops[i-1] == "&&" && s.status != 0 || ao.ops[i-1] == "||" && s.status == 0 {
				continue
			}
		}
		last := i == len(ao.pipes)-1
		if !last {
			s.noErrexit++
		}
		err := s.runPipeline(ctx, pl, io)
		if !last {
			s.noErrexit--
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *shell) runPipeline(ctx context.Context, pl *pipeline, io ioSet) error {
	if pl.negate {
		s.noErrexit++
	}
	var err error
	if len(pl.cmds) == 1 {
		err = s.runCommand(ctx, pl.cmds[0], io)
	} else {
		err = s.runPipe(ctx, pl.cmds, io)
	}
	if pl.negate {
		s.noErrexit--
		if err == nil {
			if s.status == 0 {
				s.status = 1
			} else {
				s.status = 0
			}
		}
		return err
	}
	if err == nil && s.errexit && s.noErrexit == 0 && s.status != 0 {
		return exitSignal{code: s.status}
	}
	return err
}

// runPipe runs each element in its own subshell, connected by pipes.
func (s *shell) runPipe(ctx context.Context, cmds []command, ios ioSet) error {
	n := len(cmds)
	pipes := make([]*bufPipe, n-1)
	for i := range pipes {
		pipes[i] = newBufPipe()
	}
	status := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, cmd := range cmds {
		sub := s.clone()
		sub.noErrexit = 0
		stage := ioSet{in: ios.in, out: ios.out, err: ios.err}
		if i > 0 {
			stage.in = pipes[i-1]
		}
		if i < n-1 {
			stage.out = pipes[i]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if i < n-1 {
					pipes[i].closeWrite()
				}
				if i > 0 {
					pipes[i-1].closeRead()
				}
			}()
			defer func() {
				if r := recover(); r != nil {
					errs[i] = fmt.Errorf("panic in pipeline: %v", r)
				}
			}()
			status[i], errs[i] = sub.subshell(ctx, func() error { return sub.runCommand(ctx, cmd, stage) })
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	s.status = status[n-1]
	if s.pipefail {
		for i := n - 1; i >= 0; i-- {
			if status[i] != 0 {
				s.status = status[i]
				break
			}
		}
	}
	return nil
}

// subshell runs fn and turns exit and stray control flow into a status.
func (s *shell) subshell(_ context.Context, fn func() error) (int, error) {
	err := fn()
	var ex exitSignal
	var ret returnSignal
	var lp loopSignal
	switch {
	case errors.As(err, &ex):
		return ex.code, nil
	case errors.As(err, &ret):
		return ret.code, nil
	case errors.As(err, &lp):
		return s.status, nil
	case err != nil:
		return 0, err
	}
	return s.status, nil
}

func (s *shell) runCommand(ctx context.Context, c command, ios ioSet) error {
	if err := s.step(ctx); err != nil {
		return err
	}
	if sc, ok := c.(*simpleCmd); ok {
		return s.runSimple(ctx, sc, ios)
	}
	if fd, ok := c.(*funcDef); ok {
		s.funcs[fd.name] = fd
		s.status = 0
		return nil
	}
	rio, closeAll, ok, err := s.applyRedirs(ctx, c.redirections(), ios)
	if err != nil {
		return err
	}
	defer closeAll()
	if !ok {
		s.status = 1
		return nil
	}
	switch c := c.(type) {
	case *groupCmd:
		if !c.subshell {
			return s.runScript(ctx, c.body, rio)
		}
		sub := s.clone()
		st, err := sub.subshell(ctx, func() error { return sub.runScript(ctx, c.body, rio) })
		s.status = st
		return err
	case *ifCmd:
		for i, cond := range c.conds {
			s.noErrexit++
			err := s.runScript(ctx, cond, rio)
			s.noErrexit--
			if err != nil {
				return err
			}
			if s.status == 0 {
				return s.runScript(ctx, c.bodies[i], rio)
			}
		}
		s.status = 0
		if c.els != nil {
			return s.runScript(ctx, c.els, rio)
		}
		return nil
	case *forCmd:
		return s.runFor(ctx, c, rio)
	case *whileCmd:
		return s.runWhile(ctx, c, rio)
	case *caseCmd:
		return s.runCase(ctx, c, rio)
	case *condCmd:
		return s.runCond(ctx, c, rio)
	case *arithCmd:
		v, err := s.arith(ctx, c.expr, rio)
		if err != nil {
			return s.expansionFailed(err, rio)
		}
		s.status = 0
		if v == 0 {
			s.status = 1
		}
		return nil
	}
	return &UnsupportedError{What: fmt.Sprintf("command type %T", c)}
}

// loopBody runs one iteration and reports whether the loop should stop.
func (s *shell) loopBody(ctx context.Context, body *script, ios ioSet) (stop bool, err error) {
	err = s.runScript(ctx, body, ios)
	var lp loopSignal
	if errors.As(err, &lp) {
		if lp.n > 1 {
			lp.n--
			return true, lp
		}
		return lp.brk, nil
	}
	return false, err
}

func (s *shell) runFor(ctx context.Context, c *forCmd, ios ioSet) error {
	items := s.args
	if c.inArg {
		var err error
		items, err = s.expandWords(ctx, c.items, ios)
		if err != nil {
			return s.expansionFailed(err, ios)
		}
	}
	s.status = 0
	s.loops++
	defer func() { s.loops-- }()
	for _, it := range items {
		if err := s.step(ctx); err != nil {
			return err
		}
		s.set(c.name, it)
		if stop, err := s.loopBody(ctx, c.body, ios); err != nil || stop {
			return err
		}
	}
	return nil
}

func (s *shell) runWhile(ctx context.Context, c *whileCmd, ios ioSet) error {
	s.loops++
	defer func() { s.loops-- }()
	last := 0
	for {
		if err := s.step(ctx); err != nil {
			return err
		}
		s.noErrexit++
		err := s.runScript(ctx, c.cond, ios)
		s.noErrexit--
		if err != nil {
			return err
		}
		if (s.status == 0) == c.until {
			s.status = last
			return nil
		}
		stop, err := s.loopBody(ctx, c.body, ios)
		last = s.status
		if err != nil || stop {
			return err
		}
	}
}

func (s *shell) runCase(ctx context.Context, c *caseCmd, ios ioSet) error {
	subject, err := s.expandString(ctx, c.subject, ios)
	if err != nil {
		return s.expansionFailed(err, ios)
	}
	s.status = 0
	for _, it := range c.items {
		for _, pw := range it.patterns {
			pat, err := s.expandPattern(ctx, pw, ios)
			if err != nil {
				return s.expansionFailed(err, ios)
			}
			if globMatch(pat, subject) {
				return s.runScript(ctx, it.body, ios)
			}
		}
	}
	return nil
}

// expansionFailed turns an expansion error into the shell's reaction: a
// non-interactive shell exits on a bad substitution or unset variable.
func (s *shell) expansionFailed(err error, ios ioSet) error {
	var ee *expandError
	if errors.As(err, &ee) {
		s.errf(ios, "%s", ee.msg)
		return exitSignal{code: 1}
	}
	return err
}

type expandError struct{ msg string }

func (e *expandError) Error() string { return e.msg }

func (s *shell) runSimple(ctx context.Context, c *simpleCmd, ios ioSet) error {
	substs := s.substs
	argv, err := s.expandWords(ctx, c.words, ios)
	if err != nil {
		return s.expansionFailed(err, ios)
	}
	type saved struct {
		name string
		old  *shVar
	}
	var restore []saved
	for _, a := range c.assigns {
		val, err := s.expandString(ctx, a.value, ios)
		if err != nil {
			return s.expansionFailed(err, ios)
		}
		if a.value != nil && len(a.value.parts) > 0 {
			if l, ok := a.value.parts[0].(*litPart); ok && !l.quoted && strings.HasPrefix(l.s, "~") {
				if home, ok := s.get("HOME"); ok {
					val = home + strings.TrimPrefix(val, "~")
				}
			}
		}
		if a.append {
			old, _ := s.get(a.name)
			val = old + val
		}
		if len(argv) > 0 {
			old := s.vars[a.name]
			if old != nil {
				cp := *old
				old = &cp
			}
			restore = append(restore, saved{a.name, old})
			s.vars[a.name] = &shVar{val: val, exported: true}
			continue
		}
		s.set(a.name, val)
	}
	defer func() {
		for i := len(restore) - 1; i >= 0; i-- {
			if restore[i].old == nil {
				delete(s.vars, restore[i].name)
			} else {
				s.vars[restore[i].name] = restore[i].old
			}
		}
	}()
	rio, closeAll, ok, err := s.applyRedirs(ctx, c.rs, ios)
	if err != nil {
		return err
	}
	defer closeAll()
	if !ok {
		s.status = 1
		return nil
	}
	if len(argv) == 0 {
		if s.substs == substs {
			s.status = 0
		}
		return nil
	}
	st, err := s.invoke(ctx, argv, rio)
	s.status = st
	s.g.record(argv, st, false)
	return err
}

// invoke runs one expanded command: a fault, a function, a builtin or an
// executable file in the guest filesystem.
func (s *shell) invoke(ctx context.Context, argv []string, ios ioSet) (int, error) {
	if code, msg, ok := s.g.fault(argv); ok {
		if msg != "" {
			io.WriteString(ios.err, strings.TrimSuffix(msg, "\n")+"\n")
		}
		return code, nil
	}
	name := argv[0]
	if fd, ok := s.funcs[name]; ok {
		return s.callFunc(ctx, fd, argv, ios)
	}
	base := name
	if i := strings.LastIndexByte(name, '/'); i >= 0 && isBinDir(name[:i]) {
		base = name[i+1:]
	}
	if builtins[base] {
		if !s.g.commandAvailable(base) {
			return s.notFound(name, ios), nil
		}
		return builtinFor(base)(ctx, s, argv, ios)
	}
	if p, ok := s.lookPath(name); ok {
		return s.runFile(ctx, p, argv, ios)
	}
	return s.notFound(name, ios), nil
}

func (s *shell) notFound(name string, ios ioSet) int {
	if strings.Contains(name, "/") {
		s.errf(ios, "%s: No such file or directory", name)
	} else {
		s.errf(ios, "%s: command not found", name)
	}
	return 127
}

func isBinDir(d string) bool {
	switch d {
	case "/bin", "/usr/bin", "/sbin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin":
		return true
	}
	return false
}

// lookPath finds an executable file in the guest.
func (s *shell) lookPath(name string) (string, bool) {
	var cands []string
	if strings.Contains(name, "/") {
		cands = []string{cleanPath(s.cwd, name)}
	} else {
		path, _ := s.get("PATH")
		for _, d := range strings.Split(path, ":") {
			if d != "" {
				cands = append(cands, cleanPath("/", d+"/"+name))
			}
		}
	}
	for _, p := range cands {
		if fi, err := s.g.Stat(p); err == nil && !fi.Dir && fi.Mode&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

// runFile executes a script file from the guest; binaries installed by
// packages are small scripts too.
func (s *shell) runFile(ctx context.Context, p string, argv []string, ios ioSet) (int, error) {
	data, err := s.g.ReadFile(p)
	if err != nil {
		return s.notFound(argv[0], ios), nil
	}
	if s.depth >= maxCallDepth {
		return 0, &UnsupportedError{What: "scripts nested more than 100 deep"}
	}
	sc, perr := Parse(string(data))
	if perr != nil {
		return s.parseFailed(perr, p, ios)
	}
	c := s.child()
	c.arg0 = argv[0]
	c.args = append([]string(nil), argv[1:]...)
	return c.subshell(ctx, func() error { return c.runScript(ctx, sc, ios) })
}

func (s *shell) parseFailed(err error, name string, ios ioSet) (int, error) {
	var ue *UnsupportedError
	if errors.As(err, &ue) {
		return 0, ue
	}
	fmt.Fprintf(ios.err, "bash: %s: %v\n", name, err)
	return 2, nil
}

func (s *shell) callFunc(ctx context.Context, fd *funcDef, argv []string, ios ioSet) (int, error) {
	if s.depth >= maxCallDepth {
		return 0, &UnsupportedError{What: "function calls nested more than 100 deep"}
	}
	oldArgs := s.args
	s.args = append([]string(nil), argv[1:]...)
	s.depth++
	s.locals = append(s.locals, map[string]*shVar{})
	defer func() {
		frame := s.locals[len(s.locals)-1]
		s.locals = s.locals[:len(s.locals)-1]
		for name, old := range frame {
			if old == nil {
				delete(s.vars, name)
			} else {
				s.vars[name] = old
			}
		}
		s.depth--
		s.args = oldArgs
	}()
	loops := s.loops
	s.loops = 0
	err := s.runCommand(ctx, fd.body, ios)
	s.loops = loops
	var ret returnSignal
	if errors.As(err, &ret) {
		return ret.code, nil
	}
	return s.status, err
}

// ---- redirections ----

func (s *shell) applyRedirs(ctx context.Context, rs []*redir, ios ioSet) (ioSet, func(), bool, error) {
	out := ios
	noop := func() {}
	if len(rs) == 0 {
		return out, noop, true, nil
	}
	var closers []func()
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	setFD := func(fd int, r io.Reader, w io.Writer) {
		switch fd {
		case 0:
			out.in = r
		case 1:
			out.out = w
		case 2:
			out.err = w
		}
	}
	getW := func(fd int) io.Writer {
		if fd == 2 {
			return out.err
		}
		return out.out
	}
	for _, r := range rs {
		fd := r.fd
		switch r.op {
		case "<<", "<<-":
			body, err := s.expandString(ctx, r.heredoc, ios)
			if err != nil {
				closeAll()
				return out, noop, false, s.expansionFailed(err, ios)
			}
			out.in = strings.NewReader(body)
			continue
		}
		target, err := s.expandWords(ctx, []*word{r.target}, ios)
		if err != nil {
			closeAll()
			return out, noop, false, s.expansionFailed(err, ios)
		}
		if r.op == "<<<" {
			out.in = strings.NewReader(strings.Join(target, " ") + "\n")
			continue
		}
		if len(target) != 1 {
			raw, _ := staticText(r.target)
			s.errf(ios, "%s: ambiguous redirect", raw)
			closeAll()
			return out, noop, false, nil
		}
		t := target[0]
		switch r.op {
		case ">&", "<&":
			if fd < 0 {
				fd = 1
				if r.op == "<&" {
					fd = 0
				}
			}
			switch t {
			case "0":
				setFD(fd, out.in, nil)
			case "1", "2":
				src, _ := strconv.Atoi(t)
				setFD(fd, nil, getW(src))
			case "-":
				setFD(fd, strings.NewReader(""), io.Discard)
			default:
				if r.op == ">&" && fd == 1 {
					// bash: >&file is &>file
					w, c, err := s.g.openWriter(cleanPath(s.cwd, t), false, s.user)
					if err != nil {
						s.errf(ios, "%s: %v", t, err)
						closeAll()
						return out, noop, false, nil
					}
					closers = append(closers, c)
					out.out, out.err = w, w
					continue
				}
				s.errf(ios, "%s: ambiguous redirect", t)
				closeAll()
				return out, noop, false, nil
			}
		case "<":
			if fd < 0 {
				fd = 0
			}
			rd, err := s.g.openReader(cleanPath(s.cwd, t))
			if err != nil {
				s.errf(ios, "%s: %v", t, err)
				closeAll()
				return out, noop, false, nil
			}
			setFD(fd, rd, nil)
		case ">", ">>", "&>", "&>>":
			w, c, err := s.g.openWriter(cleanPath(s.cwd, t), strings.HasSuffix(r.op, ">>"), s.user)
			if err != nil {
				s.errf(ios, "%s: %v", t, err)
				closeAll()
				return out, noop, false, nil
			}
			closers = append(closers, c)
			if r.op[0] == '&' {
				out.out, out.err = w, w
				continue
			}
			if fd < 0 {
				fd = 1
			}
			setFD(fd, nil, w)
		}
	}
	return out, closeAll, true, nil
}

// ---- expansion ----

type field struct {
	text, pat strings.Builder
	glob      bool
}

type fields struct {
	list []*field
	cur  *field
	ifs  string
}

func (f *fields) ensure() *field {
	if f.cur == nil {
		f.cur = &field{}
		f.list = append(f.list, f.cur)
	}
	return f.cur
}

func (f *fields) quoted(s string) {
	c := f.ensure()
	c.text.WriteString(s)
	c.pat.WriteString(escapeGlob(s))
}

func (f *fields) unquoted(s string) {
	if s == "" {
		return
	}
	c := f.ensure()
	c.text.WriteString(s)
	c.pat.WriteString(s)
	if strings.ContainsAny(s, "*?[") {
		c.glob = true
	}
}

func (f *fields) split(s string) {
	for i := 0; i < len(s); {
		if strings.IndexByte(f.ifs, s[i]) >= 0 {
			f.cur = nil
			i++
			continue
		}
		j := i
		for j < len(s) && strings.IndexByte(f.ifs, s[j]) < 0 {
			j++
		}
		f.unquoted(s[i:j])
		i = j
	}
}

func escapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?[\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(`*?[\`, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (s *shell) ifs() string {
	if v, ok := s.get("IFS"); ok {
		return v
	}
	return " \t\n"
}

// expandWords performs parameter, command and arithmetic expansion, field
// splitting and pathname expansion.
func (s *shell) expandWords(ctx context.Context, ws []*word, ios ioSet) ([]string, error) {
	var out []string
	for _, w := range ws {
		f := &fields{ifs: s.ifs()}
		if err := s.expandInto(ctx, w, f, ios, true); err != nil {
			return nil, err
		}
		for _, fl := range f.list {
			if fl.glob {
				if m := s.g.glob(s.cwd, fl.pat.String()); len(m) > 0 {
					out = append(out, m...)
					continue
				}
			}
			out = append(out, fl.text.String())
		}
	}
	return out, nil
}

// expandString expands without splitting or globbing (assignments,
// here-documents, case subjects).
func (s *shell) expandString(ctx context.Context, w *word, ios ioSet) (string, error) {
	if w == nil {
		return "", nil
	}
	f := &fields{ifs: ""}
	if err := s.expandInto(ctx, w, f, ios, false); err != nil {
		return "", err
	}
	var b strings.Builder
	for i, fl := range f.list {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(fl.text.String())
	}
	return b.String(), nil
}

// expandPattern expands a word into a glob pattern where quoted characters
// match literally.
func (s *shell) expandPattern(ctx context.Context, w *word, ios ioSet) (string, error) {
	f := &fields{ifs: ""}
	if err := s.expandInto(ctx, w, f, ios, false); err != nil {
		return "", err
	}
	var b strings.Builder
	for _, fl := range f.list {
		b.WriteString(fl.pat.String())
	}
	return b.String(), nil
}

func (s *shell) expandInto(ctx context.Context, w *word, f *fields, ios ioSet, splitting bool) error {
	for i, part := range w.parts {
		switch p := part.(type) {
		case *litPart:
			if p.quoted {
				f.quoted(p.s)
				continue
			}
			text := p.s
			if i == 0 && splitting && (text == "~" || strings.HasPrefix(text, "~/")) {
				home, _ := s.get("HOME")
				f.quoted(home)
				text = text[1:]
			}
			f.unquoted(text)
		case *paramPart:
			if (p.name == "@" || p.name == "*") && p.op == "" && !p.length {
				if p.quoted && p.name == "@" {
					for j, a := range s.args {
						if j > 0 {
							f.cur = nil
						}
						f.quoted(a)
					}
					continue
				}
				if p.quoted {
					sep := " "
					if ifs := s.ifs(); ifs != " \t\n" {
						sep = ifs[:min(1, len(ifs))]
					}
					f.quoted(strings.Join(s.args, sep))
					continue
				}
				for _, a := range s.args {
					if splitting {
						f.cur = nil
						f.split(a)
					} else {
						f.unquoted(a)
					}
				}
				continue
			}
			val, err := s.expandParam(ctx, p, ios)
			if err != nil {
				return err
			}
			if p.quoted || !splitting {
				f.quoted(val)
			} else {
				f.split(val)
			}
		case *cmdSubPart:
			val, err := s.commandSubst(ctx, p.body, ios)
			if err != nil {
				return err
			}
			if p.quoted || !splitting {
				f.quoted(val)
			} else {
				f.split(val)
			}
		case *arithPart:
			v, err := s.arith(ctx, p.expr, ios)
			if err != nil {
				return err
			}
			f.quoted(strconv.FormatInt(v, 10))
		}
	}
	if len(w.parts) > 0 {
		if l, ok := w.parts[0].(*litPart); ok && l.quoted && l.s == "" {
			f.ensure()
		}
	}
	return nil
}

type limitedBuffer struct {
	bytes.Buffer
	mu sync.Mutex
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Len()+len(p) > maxCaptureBytes {
		return 0, errors.New("command substitution output too large")
	}
	return b.Buffer.Write(p)
}

func (s *shell) commandSubst(ctx context.Context, body *script, ios ioSet) (string, error) {
	if s.depth >= maxCallDepth {
		return "", &UnsupportedError{What: "command substitution nested more than 100 deep"}
	}
	sub := s.clone()
	sub.depth++
	sub.noErrexit = 0
	var buf limitedBuffer
	st, err := sub.subshell(ctx, func() error {
		return sub.runScript(ctx, body, ioSet{in: ios.in, out: &buf, err: ios.err})
	})
	if err != nil {
		return "", err
	}
	s.status = st
	s.substs++
	return strings.TrimRight(buf.String(), "\n"), nil
}

func (s *shell) param(name string) (string, bool) {
	switch name {
	case "?":
		return strconv.Itoa(s.status), true
	case "#":
		return strconv.Itoa(len(s.args)), true
	case "$":
		return "4242", true
	case "!":
		return "", false
	case "0":
		return s.arg0, true
	case "-":
		flags := "h"
		if s.errexit {
			flags += "e"
		}
		if s.nounset {
			flags += "u"
		}
		return flags, true
	case "@", "*":
		return strings.Join(s.args, " "), true
	case "RANDOM":
		return strconv.Itoa(rand.IntN(32768)), true
	case "PWD":
		return s.cwd, true
	}
	if name[0] >= '0' && name[0] <= '9' {
		n, err := strconv.Atoi(name)
		if err != nil || n < 1 || n > len(s.args) {
			return "", false
		}
		return s.args[n-1], true
	}
	return s.get(name)
}

func (s *shell) expandParam(ctx context.Context, p *paramPart, ios ioSet) (string, error) {
	val, set := s.param(p.name)
	if p.length {
		if !set && s.nounset {
			return "", &expandError{msg: p.name + ": unbound variable"}
		}
		return strconv.Itoa(len([]rune(val))), nil
	}
	arg := func() (string, error) { return s.expandString(ctx, p.arg, ios) }
	switch p.op {
	case "":
		if !set && s.nounset && p.name != "@" && p.name != "*" {
			return "", &expandError{msg: p.name + ": unbound variable"}
		}
		return val, nil
	case ":-", "-":
		if !set || (p.op == ":-" && val == "") {
			return arg()
		}
		return val, nil
	case ":=", "=":
		if !set || (p.op == ":=" && val == "") {
			v, err := arg()
			if err != nil {
				return "", err
			}
			if !isName(p.name) {
				return "", &expandError{msg: fmt.Sprintf("$%s: cannot assign in this way", p.name)}
			}
			s.set(p.name, v)
			return v, nil
		}
		return val, nil
	case ":+", "+":
		if !set || (p.op == ":+" && val == "") {
			return "", nil
		}
		return arg()
	case ":?", "?":
		if !set || (p.op == ":?" && val == "") {
			msg, err := arg()
			if err != nil {
				return "", err
			}
			if msg == "" {
				msg = "parameter null or not set"
			}
			return "", &expandError{msg: p.name + ": " + msg}
		}
		return val, nil
	}
	if !set && s.nounset {
		return "", &expandError{msg: p.name + ": unbound variable"}
	}
	switch p.op {
	case "#", "##", "%", "%%":
		pat, err := s.expandPattern(ctx, p.arg, ios)
		if err != nil {
			return "", err
		}
		return trimPattern(val, pat, p.op), nil
	case "/", "//":
		pat, err := s.expandPattern(ctx, p.arg, ios)
		if err != nil {
			return "", err
		}
		rep, err := s.expandString(ctx, p.arg2, ios)
		if err != nil {
			return "", err
		}
		return replacePattern(val, pat, rep, p.op == "//"), nil
	case "^^":
		return strings.ToUpper(val), nil
	case ",,":
		return strings.ToLower(val), nil
	case ":":
		off, err := s.arith(ctx, p.arg, ios)
		if err != nil {
			return "", err
		}
		r := []rune(val)
		if off < 0 {
			off += int64(len(r))
		}
		if off < 0 || off > int64(len(r)) {
			return "", nil
		}
		r = r[off:]
		if p.arg2 != nil {
			n, err := s.arith(ctx, p.arg2, ios)
			if err != nil {
				return "", err
			}
			if n < 0 {
				n += int64(len(r))
				if n < 0 {
					return "", &expandError{msg: "substring expression < 0"}
				}
			}
			if n < int64(len(r)) {
				r = r[:n]
			}
		}
		return string(r), nil
	}
	return "", &UnsupportedError{What: "${" + p.name + p.op + "...}"}
}

func trimPattern(val, pat, op string) string {
	n := len(val)
	switch op {
	case "#":
		for i := 0; i <= n; i++ {
			if globMatch(pat, val[:i]) {
				return val[i:]
			}
		}
	case "##":
		for i := n; i >= 0; i-- {
			if globMatch(pat, val[:i]) {
				return val[i:]
			}
		}
	case "%":
		for i := n; i >= 0; i-- {
			if globMatch(pat, val[i:]) {
				return val[:i]
			}
		}
	case "%%":
		for i := 0; i <= n; i++ {
			if globMatch(pat, val[i:]) {
				return val[:i]
			}
		}
	}
	return val
}

func replacePattern(val, pat, rep string, all bool) string {
	if pat == "" {
		return val
	}
	var b strings.Builder
	i := 0
	for i < len(val) {
		matched := -1
		for j := len(val); j > i; j-- {
			if globMatch(pat, val[i:j]) {
				matched = j
				break
			}
		}
		if matched < 0 {
			b.WriteByte(val[i])
			i++
			continue
		}
		b.WriteString(rep)
		i = matched
		if !all {
			b.WriteString(val[i:])
			return b.String()
		}
	}
	return b.String()
}

// globMatch matches s against a shell pattern in which '/' is ordinary.
func globMatch(pat, s string) bool {
	px, sx := 0, 0
	nextPx, nextSx := -1, -1
	for px < len(pat) || sx < len(s) {
		if px < len(pat) {
			switch c := pat[px]; c {
			case '*':
				nextPx, nextSx = px, sx+1
				px++
				continue
			case '?':
				if sx < len(s) {
					px++
					sx++
					continue
				}
			case '[':
				if sx < len(s) {
					if ok, width := matchClass(pat[px:], s[sx]); width > 0 {
						if ok {
							px += width
							sx++
							continue
						}
					} else if s[sx] == '[' {
						px++
						sx++
						continue
					}
				}
			case '\\':
				if px+1 < len(pat) && sx < len(s) && pat[px+1] == s[sx] {
					px += 2
					sx++
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if nextSx > 0 && nextSx <= len(s) {
			px, sx = nextPx, nextSx
			continue
		}
		return false
	}
	return true
}

// matchClass matches a bracket expression at the start of pat; width 0
// means pat does not start a valid bracket expression.
func matchClass(pat string, c byte) (bool, int) {
	i := 1
	neg := false
	if i < len(pat) && (pat[i] == '!' || pat[i] == '^') {
		neg = true
		i++
	}
	matched := false
	first := true
	for i < len(pat) {
		if pat[i] == ']' && !first {
			return matched != neg, i + 1
		}
		first = false
		if strings.HasPrefix(pat[i:], "[:") {
			end := strings.Index(pat[i:], ":]")
			if end > 0 {
				if classMatch(pat[i+2:i+end], c) {
					matched = true
				}
				i += end + 2
				continue
			}
		}
		lo := pat[i]
		if lo == '\\' && i+1 < len(pat) {
			i++
			lo = pat[i]
		}
		hi := lo
		if i+2 < len(pat) && pat[i+1] == '-' && pat[i+2] != ']' {
			hi = pat[i+2]
			i += 2
		}
		if lo <= c && c <= hi {
			matched = true
		}
		i++
	}
	return false, 0
}

func classMatch(class string, c byte) bool {
	switch class {
	case "alpha":
		return isAlpha(c)
	case "digit":
		return c >= '0' && c <= '9'
	case "alnum":
		return isAlpha(c) || (c >= '0' && c <= '9')
	case "space":
		return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
	case "upper":
		return c >= 'A' && c <= 'Z'
	case "lower":
		return c >= 'a' && c <= 'z'
	case "xdigit":
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
	case "punct":
		return c > 32 && c < 127 && !isAlpha(c) && !(c >= '0' && c <= '9')
	}
	return false
}

func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// sortedKeys is used by `set` and `export -p` for stable output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
