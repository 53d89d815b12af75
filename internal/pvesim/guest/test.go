package guest

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// condTok is one argument of test, [ or [[. op marks an unquoted literal
// that may act as an operator; pat is the argument as a glob pattern.
type condTok struct {
	s   string
	op  bool
	pat string
}

type condEval struct {
	s      *shell
	toks   []condTok
	pos    int
	double bool // [[ ]]: && || and pattern matching
}

type condErr string

func (e condErr) Error() string { return string(e) }

func (s *shell) runCond(ctx context.Context, c *condCmd, ios ioSet) error {
	toks := make([]condTok, 0, len(c.args))
	for _, w := range c.args {
		str, err := s.expandString(ctx, w, ios)
		if err != nil {
			return s.expansionFailed(err, ios)
		}
		pat, err := s.expandPattern(ctx, w, ios)
		if err != nil {
			return s.expansionFailed(err, ios)
		}
		_, lit := w.literal()
		toks = append(toks, condTok{s: str, op: lit, pat: pat})
	}
	ok, err := s.evalCond(toks, true)
	if err != nil {
		s.errf(ios, "conditional binary operator expected: %v", err)
		s.status = 2
		return nil
	}
	s.status = int(b2i(!ok))
	return nil
}

// builtinTest implements test and [.
func builtinTest(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	args := argv[1:]
	if argv[0] == "[" {
		if len(args) == 0 || args[len(args)-1] != "]" {
			s.errf(ios, "[: missing `]'")
			return 2, nil
		}
		args = args[:len(args)-1]
	}
	toks := make([]condTok, len(args))
	for i, a := range args {
		toks[i] = condTok{s: a, op: true, pat: escapeGlob(a)}
	}
	ok, err := s.evalCond(toks, false)
	if err != nil {
		s.errf(ios, "%s: %v", argv[0], err)
		return 2, nil
	}
	return int(b2i(!ok)), nil
}

func (s *shell) evalCond(toks []condTok, double bool) (ok bool, err error) {
	if len(toks) == 0 {
		return false, nil
	}
	e := &condEval{s: s, toks: toks, double: double}
	defer func() {
		if r := recover(); r != nil {
			ce, isCE := r.(condErr)
			if !isCE {
				panic(r)
			}
			ok, err = false, ce
		}
	}()
	ok = e.or()
	if e.pos < len(e.toks) {
		panic(condErr(fmt.Sprintf("unexpected argument `%s'", e.toks[e.pos].s)))
	}
	return ok, nil
}

func (e *condEval) peekOp(ops ...string) bool {
	if e.pos >= len(e.toks) || !e.toks[e.pos].op {
		return false
	}
	for _, op := range ops {
		if e.toks[e.pos].s == op {
			return true
		}
	}
	return false
}

func (e *condEval) or() bool {
	orOp, andOp := "-o", "-a"
	if e.double {
		orOp, andOp = "||", "&&"
	}
	v := e.and(andOp)
	for e.peekOp(orOp) {
		e.pos++
		r := e.and(andOp)
		v = v || r
	}
	return v
}

func (e *condEval) and(andOp string) bool {
	v := e.not()
	for e.peekOp(andOp) {
		e.pos++
		r := e.not()
		v = v && r
	}
	return v
}

func (e *condEval) not() bool {
	if e.peekOp("!") && e.pos+1 < len(e.toks) {
		e.pos++
		return !e.not()
	}
	return e.primary()
}

func (e *condEval) primary() bool {
	if e.pos >= len(e.toks) {
		panic(condErr("argument expected"))
	}
	if e.peekOp("(") {
		e.pos++
		v := e.or()
		if !e.peekOp(")") {
			panic(condErr("`)' expected"))
		}
		e.pos++
		return v
	}
	// binary operator?
	if e.pos+2 < len(e.toks) {
		if e.toks[e.pos+1].op && isBinaryTest(e.toks[e.pos+1].s, e.double) {
			l, op, r := e.toks[e.pos], e.toks[e.pos+1].s, e.toks[e.pos+2]
			e.pos += 3
			return e.binary(l, op, r)
		}
	}
	t := e.toks[e.pos]
	if t.op && len(t.s) == 2 && t.s[0] == '-' && e.pos+1 < len(e.toks) && isUnaryTest(t.s) {
		arg := e.toks[e.pos+1].s
		e.pos += 2
		return e.unary(t.s, arg)
	}
	e.pos++
	return t.s != ""
}

func isBinaryTest(op string, double bool) bool {
	switch op {
	case "=", "==", "!=", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "<", ">", "-nt", "-ot":
		return true
	case "=~":
		return double
	}
	return false
}

func isUnaryTest(op string) bool {
	return strings.Contains("-e -f -d -s -r -w -x -z -n -L -h -b -c -p -S -t -o -u -g -k -O -G -N", op)
}

func (e *condEval) unary(op, arg string) bool {
	g := e.s.g
	p := cleanPath(e.s.cwd, arg)
	switch op {
	case "-z":
		return arg == ""
	case "-n":
		return arg != ""
	case "-t":
		return false
	case "-o":
		return false
	}
	if arg == "" {
		return false
	}
	fi, err := g.Stat(p)
	if err != nil {
		return false
	}
	switch op {
	case "-e", "-r", "-w", "-O", "-G", "-N":
		return true
	case "-f":
		return !fi.Dir
	case "-d":
		return fi.Dir
	case "-s":
		return fi.Size > 0
	case "-x":
		return fi.Dir || fi.Mode&0o111 != 0
	}
	return false
}

func (e *condEval) binary(l condTok, op string, r condTok) bool {
	switch op {
	case "=", "==", "!=":
		var eq bool
		if e.double {
			eq = globMatch(r.pat, l.s)
		} else {
			eq = l.s == r.s
		}
		return eq == (op != "!=")
	case "=~":
		re, err := regexp.Compile(r.s)
		if err != nil {
			panic(condErr("invalid regular expression"))
		}
		return re.MatchString(l.s)
	case "<":
		return l.s < r.s
	case ">":
		return l.s > r.s
	case "-nt", "-ot":
		a, errA := e.s.g.Stat(cleanPath(e.s.cwd, l.s))
		b, errB := e.s.g.Stat(cleanPath(e.s.cwd, r.s))
		if errA != nil || errB != nil {
			return false
		}
		if op == "-nt" {
			return a.ModTime.After(b.ModTime)
		}
		return a.ModTime.Before(b.ModTime)
	}
	a, b := e.number(l.s), e.number(r.s)
	switch op {
	case "-eq":
		return a == b
	case "-ne":
		return a != b
	case "-lt":
		return a < b
	case "-le":
		return a <= b
	case "-gt":
		return a > b
	case "-ge":
		return a >= b
	}
	return false
}

func (e *condEval) number(s string) int64 {
	s = strings.TrimSpace(s)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if e.double {
			a := &arithParser{s: e.s, src: s}
			if v, err := a.run(); err == nil {
				return v
			}
		}
		panic(condErr(fmt.Sprintf("%s: integer expression expected", s)))
	}
	return n
}
