package guest

import (
	"fmt"
	"strings"
)

// Limits that keep the parser total on hostile input.
const (
	maxParseDepth = 100
	maxScriptLen  = 1 << 20
)

// SyntaxError is a script that bash itself would reject.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// UnsupportedError is valid shell that the simulator does not implement. It
// is reported loudly (exit 2) so that a test never passes by accident.
type UnsupportedError struct{ What string }

func (e *UnsupportedError) Error() string { return "lxcbot-sim: unsupported: " + e.What }

// ---- syntax tree ----

type script struct{ items []*andOr }

type andOr struct {
	pipes []*pipeline
	ops   []string // "&&" or "||" between pipes
}

type pipeline struct {
	negate bool
	cmds   []command
}

type command interface{ redirections() []*redir }

type redirs struct{ rs []*redir }

func (r *redirs) redirections() []*redir { return r.rs }

type simpleCmd struct {
	redirs
	assigns []*assign
	words   []*word
	line    int
}

type assign struct {
	name   string
	value  *word
	append bool
}

type ifCmd struct {
	redirs
	conds  []*script
	bodies []*script
	els    *script
}

type forCmd struct {
	redirs
	name  string
	items []*word
	inArg bool // false: iterate over "$@"
	body  *script
}

type whileCmd struct {
	redirs
	cond, body *script
	until      bool
}

type caseItem struct {
	patterns []*word
	body     *script
}

type caseCmd struct {
	redirs
	subject *word
	items   []caseItem
}

type groupCmd struct {
	redirs
	body     *script
	subshell bool
}

type funcDef struct {
	redirs
	name string
	body command
}

type condCmd struct { // [[ ... ]]
	redirs
	args []*word // operators are unquoted literal words
}

type arithCmd struct { // (( ... ))
	redirs
	expr *word
}

type redir struct {
	fd      int    // -1: default for op
	op      string // < > >> >& <& &> &>> << <<- <<<
	target  *word
	heredoc *word // body for << and <<-
}

// word is a sequence of parts concatenated without separators.
type word struct{ parts []wordPart }

type wordPart interface{}

type litPart struct {
	s      string
	quoted bool
}

type paramPart struct {
	name   string
	op     string // "", ":-", "-", ":=", "=", ":+", "+", ":?", "?", "#", "##", "%", "%%", "/", "//", "^^", ",,", ":"
	arg    *word
	arg2   *word // substring length for ":"
	length bool
	quoted bool
}

type cmdSubPart struct {
	body   *script
	quoted bool
}

type arithPart struct {
	expr   *word
	quoted bool
}

// literal reports the word's text when it is a single unquoted literal.
func (w *word) literal() (string, bool) {
	if w == nil || len(w.parts) != 1 {
		return "", false
	}
	l, ok := w.parts[0].(*litPart)
	if !ok || l.quoted {
		return "", false
	}
	return l.s, true
}

// ---- parser ----

type parser struct {
	src      string
	pos      int
	depth    int
	pending  []*redir // here-docs whose bodies follow the next newline
	delims   []string
	dquoted  []bool
	stripTab []bool
}

// Parse parses a script in the supported bash subset.
func Parse(src string) (sc *script, err error) {
	if len(src) > maxScriptLen {
		return nil, &UnsupportedError{What: "script longer than 1 MiB"}
	}
	p := &parser{src: src}
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(parseAbort)
			if !ok {
				panic(r)
			}
			sc, err = nil, pe.err
		}
	}()
	sc = p.parseScript()
	p.skipSpaceNL()
	if !p.eof() {
		p.failNear()
	}
	p.readHeredocs()
	return sc, nil
}

type parseAbort struct{ err error }

func (p *parser) line() int { return 1 + strings.Count(p.src[:p.pos], "\n") }

func (p *parser) fail(msg string) {
	panic(parseAbort{&SyntaxError{Line: p.line(), Msg: msg}})
}

func (p *parser) unsupported(what string) {
	panic(parseAbort{&UnsupportedError{What: what}})
}

func (p *parser) failNear() {
	tok := p.peekToken()
	if tok == "" {
		p.fail("syntax error: unexpected end of file")
	}
	p.fail(fmt.Sprintf("syntax error near unexpected token `%s'", tok))
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxParseDepth {
		p.unsupported("nesting deeper than 100 levels")
	}
}

func (p *parser) leave() { p.depth-- }

func (p *parser) eof() bool { return p.pos >= len(p.src) }

func (p *parser) peekByte() byte {
	if p.eof() {
		return 0
	}
	return p.src[p.pos]
}

func (p *parser) hasPrefix(s string) bool { return strings.HasPrefix(p.src[p.pos:], s) }

// skipSpace skips blanks, line continuations and comments, not newlines.
func (p *parser) skipSpace() {
	for !p.eof() {
		c := p.src[p.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			p.pos++
		case c == '\\' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '\n':
			p.pos += 2
		case c == '#':
			for !p.eof() && p.src[p.pos] != '\n' {
				p.pos++
			}
		default:
			return
		}
	}
}

func (p *parser) skipSpaceNL() {
	for {
		p.skipSpace()
		if p.peekByte() != '\n' {
			return
		}
		p.newline()
	}
}

// newline consumes a newline and then any pending here-document bodies.
func (p *parser) newline() {
	p.pos++
	p.readHeredocs()
}

func (p *parser) readHeredocs() {
	for i, r := range p.pending {
		delim := p.delims[i]
		var body strings.Builder
		for !p.eof() {
			end := strings.IndexByte(p.src[p.pos:], '\n')
			var ln string
			if end < 0 {
				ln = p.src[p.pos:]
				p.pos = len(p.src)
			} else {
				ln = p.src[p.pos : p.pos+end]
				p.pos += end + 1
			}
			if p.stripTab[i] {
				ln = strings.TrimLeft(ln, "\t")
			}
			if ln == delim {
				break
			}
			body.WriteString(ln)
			body.WriteByte('\n')
		}
		if p.dquoted[i] {
			r.heredoc = &word{parts: []wordPart{&litPart{s: body.String(), quoted: true}}}
		} else {
			sub := &parser{src: body.String(), depth: p.depth}
			r.heredoc = sub.parseQuotedText(0, true)
		}
	}
	p.pending, p.delims, p.dquoted, p.stripTab = nil, nil, nil, nil
}

func isMeta(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', ';', '&', '|', '<', '>', '(', ')':
		return true
	}
	return false
}

// peekToken returns the next operator or raw word for error messages.
func (p *parser) peekToken() string {
	save := p.pos
	defer func() { p.pos = save }()
	p.skipSpace()
	if p.eof() {
		return ""
	}
	for _, op := range []string{";;", "&&", "||", ";", "&", "|", "(", ")", "\n"} {
		if p.hasPrefix(op) {
			if op == "\n" {
				return "newline"
			}
			return op
		}
	}
	return p.peekRawWord()
}

// peekRawWord returns the plain characters up to the next metacharacter.
func (p *parser) peekRawWord() string {
	i := p.pos
	for i < len(p.src) && !isMeta(p.src[i]) {
		i++
	}
	return p.src[p.pos:i]
}

// peekReserved reports whether the next token is the reserved word w.
func (p *parser) expectReserved(w string) {
	p.skipSpaceNL()
	if p.peekRawWord() != w {
		p.failNear()
	}
	p.pos += len(w)
}

var listTerminators = []string{"then", "else", "elif", "fi", "do", "done", "esac", "}"}

func (p *parser) atListEnd() bool {
	if p.eof() || p.hasPrefix(")") || p.hasPrefix(";;") {
		return true
	}
	w := p.peekRawWord()
	for _, t := range listTerminators {
		if w == t {
			return true
		}
	}
	return false
}

func (p *parser) parseScript() *script {
	p.enter()
	defer p.leave()
	sc := &script{}
	for {
		p.skipSpaceNL()
		if p.atListEnd() {
			return sc
		}
		sc.items = append(sc.items, p.parseAndOr())
		p.skipSpace()
		switch {
		case p.hasPrefix(";;"):
			return sc
		case p.hasPrefix(";"):
			p.pos++
		case p.hasPrefix("&") && !p.hasPrefix("&&"):
			p.unsupported("background jobs (&)")
		case p.peekByte() == '\n':
			p.newline()
		default:
			return sc
		}
	}
}

func (p *parser) parseAndOr() *andOr {
	ao := &andOr{pipes: []*pipeline{p.parsePipeline()}}
	for {
		p.skipSpace()
		var op string
		switch {
		case p.hasPrefix("&&"):
			op = "&&"
		case p.hasPrefix("||"):
			op = "||"
		default:
			return ao
		}
		p.pos += 2
		p.skipSpaceNL()
		ao.ops = append(ao.ops, op)
		ao.pipes = append(ao.pipes, p.parsePipeline())
	}
}

func (p *parser) parsePipeline() *pipeline {
	pl := &pipeline{}
	p.skipSpace()
	if p.peekRawWord() == "!" {
		pl.negate = true
		p.pos++
	}
	for {
		p.skipSpace()
		pl.cmds = append(pl.cmds, p.parseCommand())
		p.skipSpace()
		if p.hasPrefix("|&") {
			p.unsupported("|& pipes")
		}
		if !p.hasPrefix("|") || p.hasPrefix("||") {
			return pl
		}
		p.pos++
		p.skipSpaceNL()
	}
}

func (p *parser) parseCommand() command {
	p.enter()
	defer p.leave()
	p.skipSpace()
	if p.eof() || p.atListEnd() {
		p.failNear()
	}
	var c command
	switch w := p.peekRawWord(); {
	case p.hasPrefix("(("):
		c = p.parseArithCmd()
	case p.hasPrefix("("):
		p.pos++
		body := p.parseScript()
		p.skipSpaceNL()
		if !p.hasPrefix(")") {
			p.failNear()
		}
		p.pos++
		c = &groupCmd{body: body, subshell: true}
	case w == "{":
		p.pos++
		body := p.parseScript()
		p.expectReserved("}")
		c = &groupCmd{body: body}
	case w == "if":
		c = p.parseIf()
	case w == "for":
		c = p.parseFor()
	case w == "while" || w == "until":
		p.pos += len(w)
		cond := p.parseScript()
		p.expectReserved("do")
		body := p.parseScript()
		p.expectReserved("done")
		c = &whileCmd{cond: cond, body: body, until: w == "until"}
	case w == "case":
		c = p.parseCase()
	case w == "[[":
		c = p.parseCond()
	case w == "function":
		p.pos += len(w)
		p.skipSpace()
		name := p.peekRawWord()
		if !isName(name) {
			p.failNear()
		}
		p.pos += len(name)
		p.skipSpace()
		if p.hasPrefix("()") {
			p.pos += 2
		}
		return p.parseFuncBody(name)
	case w == "select" || w == "coproc":
		p.unsupported(w)
	default:
		if fd := p.tryFuncDef(); fd != nil {
			return fd
		}
		return p.parseSimple()
	}
	p.parseTrailingRedirs(c)
	return c
}

func (p *parser) tryFuncDef() command {
	save := p.pos
	name := p.peekRawWord()
	if !isFuncName(name) {
		return nil
	}
	p.pos += len(name)
	p.skipSpace()
	if !p.hasPrefix("(") || p.hasPrefix("((") {
		p.pos = save
		return nil
	}
	p.pos++
	p.skipSpace()
	if !p.hasPrefix(")") {
		p.pos = save
		return nil
	}
	p.pos++
	return p.parseFuncBody(name)
}

func (p *parser) parseFuncBody(name string) command {
	p.skipSpaceNL()
	body := p.parseCommand()
	switch body.(type) {
	case *groupCmd, *ifCmd, *forCmd, *whileCmd, *caseCmd, *condCmd, *arithCmd:
	default:
		p.fail(fmt.Sprintf("syntax error: function %s needs a compound command body", name))
	}
	return &funcDef{name: name, body: body}
}

func (p *parser) parseTrailingRedirs(c command) {
	for {
		p.skipSpace()
		r := p.tryRedir()
		if r == nil {
			return
		}
		switch c := c.(type) {
		case *groupCmd:
			c.rs = append(c.rs, r)
		case *ifCmd:
			c.rs = append(c.rs, r)
		case *forCmd:
			c.rs = append(c.rs, r)
		case *whileCmd:
			c.rs = append(c.rs, r)
		case *caseCmd:
			c.rs = append(c.rs, r)
		case *condCmd:
			c.rs = append(c.rs, r)
		case *arithCmd:
			c.rs = append(c.rs, r)
		}
	}
}

func (p *parser) parseArithCmd() command {
	start := p.pos + 2
	end := p.findArithEnd(start)
	expr := (&parser{src: p.src[start:end], depth: p.depth}).parseQuotedText(0, true)
	p.pos = end + 2
	return &arithCmd{expr: expr}
}

// findArithEnd returns the index of the "))" closing an arithmetic
// expression that starts at i.
func (p *parser) findArithEnd(i int) int {
	depth := 0
	for ; i < len(p.src); i++ {
		switch p.src[i] {
		case '(':
			depth++
		case ')':
			if depth == 0 {
				if i+1 < len(p.src) && p.src[i+1] == ')' {
					return i
				}
				p.pos = i
				p.unsupported("$(( )) or (( )) with unbalanced parentheses")
			}
			depth--
		}
	}
	p.pos = len(p.src)
	p.fail("unexpected EOF while looking for matching `))'")
	return 0
}

func (p *parser) parseIf() command {
	c := &ifCmd{}
	p.expectReserved("if")
	for {
		c.conds = append(c.conds, p.parseScript())
		p.expectReserved("then")
		c.bodies = append(c.bodies, p.parseScript())
		p.skipSpaceNL()
		switch p.peekRawWord() {
		case "elif":
			p.pos += 4
			continue
		case "else":
			p.pos += 4
			c.els = p.parseScript()
			p.expectReserved("fi")
			return c
		case "fi":
			p.pos += 2
			return c
		default:
			p.failNear()
		}
	}
}

func (p *parser) parseFor() command {
	p.expectReserved("for")
	p.skipSpace()
	if p.hasPrefix("((") {
		p.unsupported("C-style for (( ; ; )) loops")
	}
	name := p.peekRawWord()
	if !isName(name) {
		p.fail(fmt.Sprintf("`%s': not a valid identifier", name))
	}
	p.pos += len(name)
	c := &forCmd{name: name}
	p.skipSpace()
	if p.hasPrefix(";") {
		p.pos++
	}
	p.skipSpaceNL()
	if p.peekRawWord() == "in" {
		p.pos += 2
		c.inArg = true
		for {
			p.skipSpace()
			if p.eof() || p.hasPrefix(";") || p.peekByte() == '\n' {
				break
			}
			if isMeta(p.peekByte()) {
				p.failNear()
			}
			c.items = append(c.items, p.parseWord())
		}
		if p.hasPrefix(";") {
			p.pos++
		}
	}
	p.expectReserved("do")
	c.body = p.parseScript()
	p.expectReserved("done")
	return c
}

func (p *parser) parseCase() command {
	p.expectReserved("case")
	p.skipSpace()
	c := &caseCmd{subject: p.parseWord()}
	p.expectReserved("in")
	for {
		p.skipSpaceNL()
		if p.peekRawWord() == "esac" {
			p.pos += 4
			return c
		}
		if p.hasPrefix("(") {
			p.pos++
		}
		var it caseItem
		for {
			p.skipSpace()
			if p.eof() || isMeta(p.peekByte()) {
				p.failNear()
			}
			it.patterns = append(it.patterns, p.parseWord())
			p.skipSpace()
			if p.hasPrefix("|") {
				p.pos++
				continue
			}
			if !p.hasPrefix(")") {
				p.failNear()
			}
			p.pos++
			break
		}
		it.body = p.parseScript()
		c.items = append(c.items, it)
		p.skipSpaceNL()
		switch {
		case p.hasPrefix(";;&") || p.hasPrefix(";&"):
			p.unsupported("case fall-through (;& and ;;&)")
		case p.hasPrefix(";;"):
			p.pos += 2
		case p.peekRawWord() == "esac":
		default:
			p.failNear()
		}
	}
}

func (p *parser) parseCond() command {
	p.pos += 2
	c := &condCmd{}
	for {
		p.skipSpace()
		if p.peekByte() == '\n' {
			p.newline()
			continue
		}
		if p.eof() {
			p.fail("unexpected EOF while looking for `]]'")
		}
		if p.peekRawWord() == "]]" {
			p.pos += 2
			return c
		}
		switch {
		case p.hasPrefix("&&"), p.hasPrefix("||"):
			c.args = append(c.args, &word{parts: []wordPart{&litPart{s: p.src[p.pos : p.pos+2]}}})
			p.pos += 2
		case p.hasPrefix("("), p.hasPrefix(")"), p.hasPrefix("<"), p.hasPrefix(">"):
			c.args = append(c.args, &word{parts: []wordPart{&litPart{s: p.src[p.pos : p.pos+1]}}})
			p.pos++
		case isMeta(p.peekByte()):
			p.failNear()
		default:
			c.args = append(c.args, p.parseWord())
		}
	}
}

func (p *parser) parseSimple() command {
	c := &simpleCmd{line: p.line()}
	for {
		p.skipSpace()
		if p.eof() {
			break
		}
		if r := p.tryRedir(); r != nil {
			c.rs = append(c.rs, r)
			continue
		}
		if isMeta(p.peekByte()) {
			if p.hasPrefix("(") {
				if len(c.words) == 0 && len(c.assigns) > 0 {
					p.unsupported("array assignment")
				}
				p.failNear()
			}
			break
		}
		w := p.parseWord()
		if len(c.words) == 0 {
			if a := asAssign(w); a != nil {
				if p.hasPrefix("(") {
					p.unsupported("array assignment")
				}
				c.assigns = append(c.assigns, a)
				continue
			}
		}
		c.words = append(c.words, w)
	}
	if len(c.words) == 0 && len(c.assigns) == 0 && len(c.rs) == 0 {
		p.failNear()
	}
	return c
}

func asAssign(w *word) *assign {
	l, ok := w.parts[0].(*litPart)
	if !ok || l.quoted {
		return nil
	}
	eq := strings.IndexByte(l.s, '=')
	if eq <= 0 {
		return nil
	}
	name, app := l.s[:eq], false
	if strings.HasSuffix(name, "+") {
		name, app = name[:len(name)-1], true
	}
	if !isName(name) {
		return nil
	}
	val := &word{}
	if rest := l.s[eq+1:]; rest != "" {
		val.parts = append(val.parts, &litPart{s: rest})
	}
	val.parts = append(val.parts, w.parts[1:]...)
	return &assign{name: name, value: val, append: app}
}

func isName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return true
}

func isFuncName(s string) bool {
	if s == "" || strings.ContainsAny(s, "$`'\"\\=/{}[]*?!") {
		return false
	}
	for _, r := range listTerminators {
		if s == r {
			return false
		}
	}
	return true
}

// tryRedir parses a redirection at the current position, or returns nil.
func (p *parser) tryRedir() *redir {
	save := p.pos
	fd := -1
	i := p.pos
	for i < len(p.src) && p.src[i] >= '0' && p.src[i] <= '9' {
		i++
	}
	if i > p.pos && i < len(p.src) && (p.src[i] == '<' || p.src[i] == '>') {
		n := 0
		for _, c := range p.src[p.pos:i] {
			n = n*10 + int(c-'0')
			if n > 1000 {
				break
			}
		}
		fd = n
		p.pos = i
	}
	var op string
	for _, cand := range []string{"&>>", "<<<", "<<-", "&>", ">>", ">&", "<&", "<<", ">|", "<>", "<", ">"} {
		if p.hasPrefix(cand) {
			op = cand
			break
		}
	}
	if op == "" || (fd >= 0 && op[0] == '&') {
		p.pos = save
		return nil
	}
	if (op == "<" || op == ">") && strings.HasPrefix(p.src[p.pos+1:], "(") {
		p.unsupported("process substitution")
	}
	if op == "<>" {
		p.unsupported("<> redirection")
	}
	if op == ">|" {
		op = ">"
		p.pos++
	}
	p.pos += len(op)
	if fd > 2 {
		p.unsupported(fmt.Sprintf("redirection of file descriptor %d", fd))
	}
	p.skipSpace()
	if p.eof() || isMeta(p.peekByte()) {
		p.failNear()
	}
	r := &redir{fd: fd, op: op}
	if op == "<<" || op == "<<-" {
		raw := p.peekRawWord()
		w := p.parseWord()
		quoted := strings.ContainsAny(raw, `'"\`)
		delim, _ := staticText(w)
		p.pending = append(p.pending, r)
		p.delims = append(p.delims, delim)
		p.dquoted = append(p.dquoted, quoted)
		p.stripTab = append(p.stripTab, op == "<<-")
		return r
	}
	r.target = p.parseWord()
	return r
}

// staticText returns a word's text with quotes removed, and whether it has
// no expansions.
func staticText(w *word) (string, bool) {
	var b strings.Builder
	static := true
	for _, part := range w.parts {
		if l, ok := part.(*litPart); ok {
			b.WriteString(l.s)
		} else {
			static = false
		}
	}
	return b.String(), static
}

// parseWord reads one word. Outside quotes it stops at a metacharacter.
func (p *parser) parseWord() *word {
	p.enter()
	defer p.leave()
	w := &word{}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			w.parts = append(w.parts, &litPart{s: lit.String()})
			lit.Reset()
		}
	}
	for !p.eof() {
		c := p.src[p.pos]
		if isMeta(c) {
			break
		}
		switch c {
		case '\\':
			if p.pos+1 >= len(p.src) {
				lit.WriteByte('\\')
				p.pos++
				continue
			}
			if p.src[p.pos+1] == '\n' {
				p.pos += 2
				continue
			}
			flush()
			w.parts = append(w.parts, &litPart{s: p.src[p.pos+1 : p.pos+2], quoted: true})
			p.pos += 2
		case '\'':
			flush()
			end := strings.IndexByte(p.src[p.pos+1:], '\'')
			if end < 0 {
				p.pos = len(p.src)
				p.fail("unexpected EOF while looking for matching `''")
			}
			w.parts = append(w.parts, &litPart{s: p.src[p.pos+1 : p.pos+1+end], quoted: true})
			p.pos += end + 2
		case '"':
			flush()
			p.pos++
			dq := p.parseQuotedText('"', false)
			if len(dq.parts) == 0 {
				dq.parts = []wordPart{&litPart{quoted: true}}
			}
			w.parts = append(w.parts, dq.parts...)
		case '$', '`':
			flush()
			if c == '$' && p.pos+1 < len(p.src) && (p.src[p.pos+1] == '\'' || p.src[p.pos+1] == '"') {
				if p.src[p.pos+1] == '\'' {
					p.unsupported("$'...' quoting")
				}
				p.pos++ // $"..." is plain double quoting without a locale
				continue
			}
			w.parts = append(w.parts, p.parseDollar(false))
		default:
			lit.WriteByte(c)
			p.pos++
		}
	}
	flush()
	if len(w.parts) == 0 {
		w.parts = []wordPart{&litPart{}}
	}
	checkBraceExpansion(p, w)
	return w
}

// checkBraceExpansion refuses {a,b} and {1..3}: bash would expand them
// and silently passing them through literally would hide a bug.
func checkBraceExpansion(p *parser, w *word) {
	var b strings.Builder
	for _, part := range w.parts {
		if l, ok := part.(*litPart); ok && !l.quoted {
			b.WriteString(l.s)
		} else {
			b.WriteByte(0)
		}
	}
	s := b.String()
	open := strings.IndexByte(s, '{')
	if open < 0 {
		return
	}
	close := strings.IndexByte(s[open:], '}')
	if close < 0 {
		return
	}
	inner := s[open+1 : open+close]
	if strings.IndexByte(inner, 0) >= 0 {
		return
	}
	if strings.Contains(inner, ",") || strings.Contains(inner, "..") {
		p.unsupported("brace expansion " + s[open:open+close+1])
	}
}

// parseQuotedText parses double-quoted text up to the closing quote (or to
// the end of input when quote is 0, for here-documents and arithmetic).
func (p *parser) parseQuotedText(quote byte, heredoc bool) *word {
	p.enter()
	defer p.leave()
	w := &word{}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			w.parts = append(w.parts, &litPart{s: lit.String(), quoted: true})
			lit.Reset()
		}
	}
	for {
		if p.eof() {
			if quote != 0 {
				p.fail(fmt.Sprintf("unexpected EOF while looking for matching `%c'", quote))
			}
			break
		}
		c := p.src[p.pos]
		if quote != 0 && c == quote {
			p.pos++
			break
		}
		switch c {
		case '\\':
			if p.pos+1 < len(p.src) {
				n := p.src[p.pos+1]
				if n == '\n' {
					p.pos += 2
					continue
				}
				if n == '$' || n == '`' || n == '\\' || (n == '"' && !heredoc) {
					lit.WriteByte(n)
					p.pos += 2
					continue
				}
			}
			lit.WriteByte('\\')
			p.pos++
		case '$', '`':
			if c == '$' && (p.pos+1 >= len(p.src) || !startsExpansion(p.src[p.pos+1])) {
				lit.WriteByte('$')
				p.pos++
				continue
			}
			flush()
			w.parts = append(w.parts, p.parseDollar(true))
		default:
			lit.WriteByte(c)
			p.pos++
		}
	}
	flush()
	return w
}

func startsExpansion(c byte) bool {
	return c == '{' || c == '(' || c == '_' || c == '?' || c == '#' || c == '@' || c == '*' ||
		c == '$' || c == '!' || c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// parseDollar parses $name, ${...}, $(...), $((...)) or `...`.
func (p *parser) parseDollar(quoted bool) wordPart {
	p.enter()
	defer p.leave()
	if p.src[p.pos] == '`' {
		return p.parseBackquote(quoted)
	}
	p.pos++ // $
	if p.eof() {
		return &litPart{s: "$", quoted: quoted}
	}
	c := p.src[p.pos]
	switch {
	case p.hasPrefix("(("):
		start := p.pos + 2
		end := p.findArithEnd(start)
		expr := (&parser{src: p.src[start:end], depth: p.depth}).parseQuotedText(0, true)
		p.pos = end + 2
		return &arithPart{expr: expr, quoted: quoted}
	case c == '(':
		p.pos++
		body := p.parseScript()
		p.skipSpaceNL()
		if !p.hasPrefix(")") {
			if p.eof() {
				p.fail("unexpected EOF while looking for matching `)'")
			}
			p.failNear()
		}
		p.pos++
		return &cmdSubPart{body: body, quoted: quoted}
	case c == '{':
		p.pos++
		return p.parseBraceParam(quoted)
	case c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
		i := p.pos + 1
		for i < len(p.src) && (isNameStart(p.src[i]) || (p.src[i] >= '0' && p.src[i] <= '9')) {
			i++
		}
		name := p.src[p.pos:i]
		p.pos = i
		return &paramPart{name: name, quoted: quoted}
	case (c >= '0' && c <= '9') || strings.IndexByte("?#$!@*-", c) >= 0:
		p.pos++
		return &paramPart{name: string(c), quoted: quoted}
	}
	return &litPart{s: "$", quoted: quoted}
}

func (p *parser) parseBackquote(quoted bool) wordPart {
	p.pos++
	var b strings.Builder
	for {
		if p.eof() {
			p.fail("unexpected EOF while looking for matching ``'")
		}
		c := p.src[p.pos]
		if c == '`' {
			p.pos++
			break
		}
		if c == '\\' && p.pos+1 < len(p.src) && strings.IndexByte("$`\\", p.src[p.pos+1]) >= 0 {
			b.WriteByte(p.src[p.pos+1])
			p.pos += 2
			continue
		}
		b.WriteByte(c)
		p.pos++
	}
	sub := &parser{src: b.String(), depth: p.depth}
	body := sub.parseScript()
	sub.skipSpaceNL()
	if !sub.eof() {
		sub.failNear()
	}
	return &cmdSubPart{body: body, quoted: quoted}
}

func (p *parser) parseBraceParam(quoted bool) wordPart {
	pp := &paramPart{quoted: quoted}
	if p.hasPrefix("#") && !p.hasPrefix("#}") {
		pp.length = true
		p.pos++
	}
	if p.hasPrefix("!") {
		p.unsupported("indirect expansion ${!...}")
	}
	i := p.pos
	switch {
	case i < len(p.src) && strings.IndexByte("?#$@*-0123456789", p.src[i]) >= 0 && !isNameStart(p.src[i]):
		i++
		if p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
			for i < len(p.src) && p.src[i] >= '0' && p.src[i] <= '9' {
				i++
			}
		}
	case i < len(p.src) && isNameStart(p.src[i]):
		for i < len(p.src) && (isNameStart(p.src[i]) || (p.src[i] >= '0' && p.src[i] <= '9')) {
			i++
		}
	}
	pp.name = p.src[p.pos:i]
	p.pos = i
	if pp.name == "" {
		p.fail("bad substitution")
	}
	if p.hasPrefix("[") {
		p.unsupported("arrays")
	}
	if p.hasPrefix("}") {
		p.pos++
		return pp
	}
	if pp.length {
		p.fail("bad substitution")
	}
	for _, op := range []string{":-", ":=", ":+", ":?", "##", "%%", "//", "^^", ",,", "-", "=", "+", "?", "#", "%", "/", ":"} {
		if p.hasPrefix(op) {
			pp.op = op
			break
		}
	}
	if pp.op == "" {
		p.fail("bad substitution")
	}
	p.pos += len(pp.op)
	if pp.op == "/" && p.hasPrefix("/") {
		pp.op = "//"
		p.pos++
	}
	switch pp.op {
	case "/", "//":
		pp.arg = p.parseBraceArg("/}")
		if p.hasPrefix("/") {
			p.pos++
			pp.arg2 = p.parseBraceArg("}")
		}
	case ":":
		pp.arg = p.parseBraceArg(":}")
		if p.hasPrefix(":") {
			p.pos++
			pp.arg2 = p.parseBraceArg("}")
		}
	default:
		pp.arg = p.parseBraceArg("}")
	}
	if !p.hasPrefix("}") {
		p.fail("unexpected EOF while looking for matching `}'")
	}
	p.pos++
	return pp
}

func isNameStart(c byte) bool { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// parseBraceArg parses the word inside ${name op word} up to one of stops.
func (p *parser) parseBraceArg(stops string) *word {
	p.enter()
	defer p.leave()
	w := &word{}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			w.parts = append(w.parts, &litPart{s: lit.String()})
			lit.Reset()
		}
	}
	for !p.eof() && strings.IndexByte(stops, p.src[p.pos]) < 0 {
		c := p.src[p.pos]
		switch c {
		case '\\':
			flush()
			if p.pos+1 < len(p.src) {
				w.parts = append(w.parts, &litPart{s: p.src[p.pos+1 : p.pos+2], quoted: true})
				p.pos += 2
			} else {
				p.pos++
			}
		case '\'':
			flush()
			end := strings.IndexByte(p.src[p.pos+1:], '\'')
			if end < 0 {
				p.pos = len(p.src)
				p.fail("unexpected EOF while looking for matching `''")
			}
			w.parts = append(w.parts, &litPart{s: p.src[p.pos+1 : p.pos+1+end], quoted: true})
			p.pos += end + 2
		case '"':
			flush()
			p.pos++
			w.parts = append(w.parts, p.parseQuotedText('"', false).parts...)
			w.parts = append(w.parts, &litPart{quoted: true})
		case '$', '`':
			flush()
			w.parts = append(w.parts, p.parseDollar(false))
		default:
			lit.WriteByte(c)
			p.pos++
		}
	}
	flush()
	return w
}
