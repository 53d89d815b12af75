package guest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// arith evaluates $(( )) and (( )): integers, variables, the usual C
// operators, assignment and ++/--.
func (s *shell) arith(ctx context.Context, w *word, ios ioSet) (int64, error) {
	src, err := s.expandString(ctx, w, ios)
	if err != nil {
		return 0, err
	}
	a := &arithParser{s: s, src: src}
	v, err := a.run()
	if err != nil {
		return 0, &expandError{msg: fmt.Sprintf("%s: %v", strings.TrimSpace(src), err)}
	}
	return v, nil
}

type arithParser struct {
	s     *shell
	src   string
	pos   int
	depth int
	skip  int // >0 while evaluating a short-circuited branch
}

type arithErr string

func (e arithErr) Error() string { return string(e) }

func (a *arithParser) run() (v int64, err error) {
	defer func() {
		if r := recover(); r != nil {
			ae, ok := r.(arithErr)
			if !ok {
				panic(r)
			}
			err = ae
		}
	}()
	a.space()
	if a.pos >= len(a.src) {
		return 0, nil
	}
	v = a.comma()
	a.space()
	if a.pos < len(a.src) {
		panic(arithErr(fmt.Sprintf("syntax error in expression (error token is %q)", a.src[a.pos:])))
	}
	return v, nil
}

func (a *arithParser) space() {
	for a.pos < len(a.src) && strings.IndexByte(" \t\n", a.src[a.pos]) >= 0 {
		a.pos++
	}
}

func (a *arithParser) accept(op string) bool {
	a.space()
	if strings.HasPrefix(a.src[a.pos:], op) {
		a.pos += len(op)
		return true
	}
	return false
}

// peekOp reports op at the cursor unless it is the prefix of a longer one.
func (a *arithParser) peekOp(op string, not ...string) bool {
	a.space()
	if !strings.HasPrefix(a.src[a.pos:], op) {
		return false
	}
	for _, n := range not {
		if strings.HasPrefix(a.src[a.pos:], n) {
			return false
		}
	}
	return true
}

func (a *arithParser) comma() int64 {
	v := a.assign()
	for a.accept(",") {
		v = a.assign()
	}
	return v
}

func (a *arithParser) assign() int64 {
	a.space()
	save := a.pos
	name := a.name()
	if name != "" {
		for _, op := range []string{"=", "+=", "-=", "*=", "/=", "%="} {
			if a.peekOp(op, "==") {
				a.pos += len(op)
				rhs := a.assign()
				cur := a.variable(name)
				switch op {
				case "=":
					cur = rhs
				case "+=":
					cur += rhs
				case "-=":
					cur -= rhs
				case "*=":
					cur *= rhs
				case "/=", "%=":
					if rhs == 0 {
						panic(arithErr("division by 0"))
					}
					if op == "/=" {
						cur /= rhs
					} else {
						cur %= rhs
					}
				}
				a.store(name, cur)
				return cur
			}
		}
	}
	a.pos = save
	return a.ternary()
}

func (a *arithParser) ternary() int64 {
	c := a.binary(0)
	if !a.accept("?") {
		return c
	}
	if c == 0 {
		a.skip++
	}
	x := a.assign()
	if c == 0 {
		a.skip--
	}
	if !a.accept(":") {
		panic(arithErr("expected `:'"))
	}
	if c != 0 {
		a.skip++
	}
	y := a.assign()
	if c != 0 {
		a.skip--
		return x
	}
	return y
}

var arithLevels = [][]string{
	{"||"}, {"&&"}, {"|"}, {"^"}, {"&"}, {"==", "!="}, {"<=", ">=", "<", ">"}, {"<<", ">>"}, {"+", "-"}, {"*", "/", "%"},
}

func (a *arithParser) binary(level int) int64 {
	if level == len(arithLevels) {
		return a.power()
	}
	v := a.binary(level + 1)
	for {
		op := ""
		for _, cand := range arithLevels[level] {
			excl := map[string][]string{"|": {"||", "|="}, "&": {"&&", "&="}, "<": {"<<", "<="}, ">": {">>", ">="},
				"+": {"++", "+="}, "-": {"--", "-="}, "*": {"**", "*="}, "/": {"/="}, "%": {"%="}, "^": {"^="}}[cand]
			if a.peekOp(cand, excl...) {
				op = cand
				break
			}
		}
		if op == "" {
			return v
		}
		a.pos += len(op)
		if op == "&&" || op == "||" {
			short := (op == "&&" && v == 0) || (op == "||" && v != 0)
			if short {
				a.skip++
			}
			r := a.binary(level + 1)
			if short {
				a.skip--
				v = b2i(op == "||")
			} else {
				v = b2i(r != 0)
			}
			continue
		}
		r := a.binary(level + 1)
		switch op {
		case "|":
			v |= r
		case "^":
			v ^= r
		case "&":
			v &= r
		case "==":
			v = b2i(v == r)
		case "!=":
			v = b2i(v != r)
		case "<":
			v = b2i(v < r)
		case ">":
			v = b2i(v > r)
		case "<=":
			v = b2i(v <= r)
		case ">=":
			v = b2i(v >= r)
		case "<<":
			v <<= uint64(r & 63)
		case ">>":
			v >>= uint64(r & 63)
		case "+":
			v += r
		case "-":
			v -= r
		case "*":
			v *= r
		case "/", "%":
			if r == 0 {
				if a.skip > 0 {
					v = 0
					continue
				}
				panic(arithErr("division by 0"))
			}
			if op == "/" {
				v /= r
			} else {
				v %= r
			}
		}
	}
}

func (a *arithParser) power() int64 {
	v := a.unary()
	if a.accept("**") {
		e := a.power()
		r := int64(1)
		for i := int64(0); i < e && i < 64; i++ {
			r *= v
		}
		return r
	}
	return v
}

func (a *arithParser) unary() int64 {
	a.depth++
	defer func() { a.depth-- }()
	if a.depth > 200 {
		panic(arithErr("expression nested too deeply"))
	}
	switch {
	case a.accept("++"), a.accept("--"):
		op := a.src[a.pos-2 : a.pos]
		a.space()
		name := a.name()
		if name == "" {
			panic(arithErr("syntax error: operand expected"))
		}
		v := a.variable(name)
		if op == "++" {
			v++
		} else {
			v--
		}
		a.store(name, v)
		return v
	case a.accept("!"):
		return b2i(a.unary() == 0)
	case a.accept("~"):
		return ^a.unary()
	case a.accept("-"):
		return -a.unary()
	case a.accept("+"):
		return a.unary()
	}
	return a.primary()
}

func (a *arithParser) primary() int64 {
	a.space()
	if a.accept("(") {
		v := a.comma()
		if !a.accept(")") {
			panic(arithErr("missing `)'"))
		}
		return v
	}
	if a.pos >= len(a.src) {
		panic(arithErr("syntax error: operand expected"))
	}
	c := a.src[a.pos]
	if c >= '0' && c <= '9' {
		start := a.pos
		for a.pos < len(a.src) && (isAlpha(a.src[a.pos]) || (a.src[a.pos] >= '0' && a.src[a.pos] <= '9') || a.src[a.pos] == '#') {
			a.pos++
		}
		return parseArithNumber(a.src[start:a.pos])
	}
	name := a.name()
	if name == "" {
		panic(arithErr(fmt.Sprintf("syntax error: operand expected (error token is %q)", a.src[a.pos:])))
	}
	v := a.variable(name)
	switch {
	case a.peekOp("++"):
		a.pos += 2
		a.store(name, v+1)
	case a.peekOp("--"):
		a.pos += 2
		a.store(name, v-1)
	}
	return v
}

func parseArithNumber(lit string) int64 {
	base := 10
	digits := lit
	switch {
	case strings.HasPrefix(lit, "0x") || strings.HasPrefix(lit, "0X"):
		base, digits = 16, lit[2:]
	case strings.Contains(lit, "#"):
		i := strings.IndexByte(lit, '#')
		b, err := strconv.Atoi(lit[:i])
		if err != nil || b < 2 || b > 36 {
			panic(arithErr("invalid arithmetic base"))
		}
		base, digits = b, lit[i+1:]
	case len(lit) > 1 && lit[0] == '0':
		base, digits = 8, lit[1:]
	}
	v, err := strconv.ParseInt(digits, base, 64)
	if err != nil {
		panic(arithErr(fmt.Sprintf("value too great for base (error token is %q)", lit)))
	}
	return v
}

func (a *arithParser) name() string {
	i := a.pos
	for i < len(a.src) && (isNameStart(a.src[i]) || (i > a.pos && a.src[i] >= '0' && a.src[i] <= '9')) {
		i++
	}
	n := a.src[a.pos:i]
	a.pos = i
	return n
}

// variable reads a shell variable as a number; its value may itself be an
// expression, as in bash (bounded by depth).
func (a *arithParser) variable(name string) int64 {
	val, ok := a.s.get(name)
	if !ok {
		if a.s.nounset && a.skip == 0 {
			panic(arithErr(name + ": unbound variable"))
		}
		return 0
	}
	val = strings.TrimSpace(val)
	if val == "" {
		return 0
	}
	if n, err := strconv.ParseInt(val, 10, 64); err == nil {
		return n
	}
	if a.depth > 20 {
		panic(arithErr("expression recursion level exceeded"))
	}
	sub := &arithParser{s: a.s, src: val, depth: a.depth + 10, skip: a.skip}
	v, err := sub.run()
	if err != nil {
		panic(arithErr(err.Error()))
	}
	return v
}

func (a *arithParser) store(name string, v int64) {
	if a.skip > 0 {
		return
	}
	a.s.set(name, strconv.FormatInt(v, 10))
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
