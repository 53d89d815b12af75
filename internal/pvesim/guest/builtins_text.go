package guest

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// lines reads r line by line (keeping the newline), calling fn until it
// returns false.
func eachLine(r io.Reader, fn func(line string) bool) error {
	br := bufio.NewReaderSize(r, 64*1024)
	for {
		line, err := br.ReadString('\n')
		if line != "" && !fn(line) {
			return nil
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func cHeadTail(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	args := argv[1:]
	for i, a := range args {
		if len(a) > 1 && a[0] == '-' && a[1] >= '0' && a[1] <= '9' {
			args[i] = "-n" + a[1:]
		}
	}
	flags, ops := flagSplit(args, "nc")
	if has(flags, "f", "F", "--follow") {
		return 0, &UnsupportedError{What: argv[0] + " -f"}
	}
	count, bytesMode := 10, false
	spec, ok := flags["n"]
	if v, isC := flags["c"]; isC {
		spec, ok, bytesMode = v, true, true
	}
	if v, isL := flags["--lines"]; isL {
		spec, ok = v, true
	}
	fromStart := false
	if ok {
		if strings.HasPrefix(spec, "+") {
			fromStart = true
		}
		n, err := strconv.Atoi(strings.TrimPrefix(spec, "+"))
		if err != nil || n < 0 {
			fmt.Fprintf(ios.err, "%s: invalid number of lines: '%s'\n", argv[0], spec)
			return 1, nil
		}
		count = n
	}
	rs, status := s.inputs(ops, ios, argv[0])
	for _, r := range rs {
		if argv[0] == "head" {
			if bytesMode {
				if err := copyOut(ios.out, io.LimitReader(r, int64(count))); err != nil {
					return 1, nil
				}
				continue
			}
			n := 0
			if count == 0 {
				continue
			}
			var werr error
			_ = eachLine(r, func(l string) bool {
				_, werr = io.WriteString(ios.out, l)
				n++
				return werr == nil && n < count
			})
			if werr != nil {
				return 1, nil
			}
			continue
		}
		data, err := io.ReadAll(io.LimitReader(r, maxFileSize))
		if err != nil {
			return 1, nil
		}
		if bytesMode {
			if count < len(data) {
				data = data[len(data)-count:]
			}
			ios.out.Write(data)
			continue
		}
		text := string(data)
		ls := strings.SplitAfter(text, "\n")
		if len(ls) > 0 && ls[len(ls)-1] == "" {
			ls = ls[:len(ls)-1]
		}
		if fromStart {
			if count > 0 {
				count--
			}
			if count < len(ls) {
				ls = ls[count:]
			} else {
				ls = nil
			}
		} else if count < len(ls) {
			ls = ls[len(ls)-count:]
		}
		io.WriteString(ios.out, strings.Join(ls, ""))
	}
	return status, nil
}

// expandTrSet expands ranges, [:classes:] and escapes of a tr set.
func expandTrSet(set string) []byte {
	var out []byte
	for i := 0; i < len(set); i++ {
		c := set[i]
		if c == '[' && strings.HasPrefix(set[i:], "[:") {
			if end := strings.Index(set[i:], ":]"); end > 0 {
				class := set[i+2 : i+end]
				for b := 0; b < 256; b++ {
					if classMatch(class, byte(b)) {
						out = append(out, byte(b))
					}
				}
				i += end + 1
				continue
			}
		}
		if c == '\\' && i+1 < len(set) {
			i++
			switch set[i] {
			case 'n':
				c = '\n'
			case 't':
				c = '\t'
			case 'r':
				c = '\r'
			default:
				c = set[i]
			}
		}
		if i+2 < len(set) && set[i+1] == '-' {
			hi := set[i+2]
			for b := int(c); b <= int(hi); b++ {
				out = append(out, byte(b))
			}
			i += 2
			continue
		}
		out = append(out, c)
	}
	return out
}

func cTr(_ context.Context, _ *shell, argv []string, ios ioSet) (int, error) {
	flags, ops := flagSplit(argv[1:], "")
	del, comp, squeeze := has(flags, "d"), has(flags, "c", "C"), has(flags, "s")
	if len(ops) == 0 || (!del && !squeeze && len(ops) < 2) {
		fmt.Fprintln(ios.err, "tr: missing operand")
		return 1, nil
	}
	var in [256]bool
	for _, b := range expandTrSet(ops[0]) {
		in[b] = true
	}
	if comp {
		for i := range in {
			in[i] = !in[i]
		}
	}
	var mapping [256]byte
	for i := range mapping {
		mapping[i] = byte(i)
	}
	if !del && len(ops) > 1 {
		set1, set2 := expandTrSet(ops[0]), expandTrSet(ops[1])
		if comp {
			return 0, &UnsupportedError{What: "tr -c with a translation"}
		}
		for i, b := range set1 {
			if len(set2) == 0 {
				break
			}
			j := min(i, len(set2)-1)
			mapping[b] = set2[j]
		}
	}
	buf := make([]byte, 32*1024)
	var last int = -1
	for {
		n, err := ios.in.Read(buf)
		out := make([]byte, 0, n)
		for _, b := range buf[:n] {
			if del && in[b] {
				continue
			}
			m := mapping[b]
			if squeeze && !del && in[b] && int(m) == last {
				continue
			}
			out = append(out, m)
			last = int(m)
		}
		if len(out) > 0 {
			if _, werr := ios.out.Write(out); werr != nil {
				return 1, nil
			}
		}
		if err != nil {
			break
		}
	}
	return 0, nil
}

func cWc(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	flags, ops := flagSplit(argv[1:], "")
	rs, status := s.inputs(ops, ios, "wc")
	for i, r := range rs {
		data, _ := io.ReadAll(io.LimitReader(r, maxFileSize))
		l, w, c := strings.Count(string(data), "\n"), len(strings.Fields(string(data))), len(data)
		var parts []string
		if len(flags) == 0 {
			parts = []string{strconv.Itoa(l), strconv.Itoa(w), strconv.Itoa(c)}
		}
		if has(flags, "l") {
			parts = append(parts, strconv.Itoa(l))
		}
		if has(flags, "w") {
			parts = append(parts, strconv.Itoa(w))
		}
		if has(flags, "c", "m") {
			parts = append(parts, strconv.Itoa(c))
		}
		if len(ops) > 0 {
			parts = append(parts, ops[i])
		}
		fmt.Fprintln(ios.out, strings.Join(parts, " "))
	}
	return status, nil
}

// breToGo converts a POSIX basic regular expression to Go syntax.
func breToGo(re string) string {
	var b strings.Builder
	for i := 0; i < len(re); i++ {
		c := re[i]
		if c == '\\' && i+1 < len(re) {
			i++
			switch n := re[i]; n {
			case '(', ')', '{', '}', '|', '+', '?':
				b.WriteByte(n)
			default:
				b.WriteByte('\\')
				b.WriteByte(n)
			}
			continue
		}
		switch c {
		case '(', ')', '{', '}', '|', '+', '?':
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

func compileRE(pat string, extended, fixed, icase, wordMatch, line bool) (*regexp.Regexp, error) {
	switch {
	case fixed:
		pat = regexp.QuoteMeta(pat)
	case !extended:
		pat = breToGo(pat)
	}
	if wordMatch {
		pat = `\b(?:` + pat + `)\b`
	}
	if line {
		pat = `^(?:` + pat + `)$`
	}
	if icase {
		pat = "(?i)" + pat
	}
	return regexp.Compile(pat)
}

func cGrep(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	flags, ops := flagSplit(argv[1:], "efmABC")
	if has(flags, "r", "R", "P", "z") {
		return 0, &UnsupportedError{What: "grep -r/-P/-z"}
	}
	var pats []string
	if e, ok := flags["e"]; ok {
		pats = append(pats, e)
	} else if len(ops) > 0 {
		pats, ops = append(pats, ops[0]), ops[1:]
	} else {
		fmt.Fprintln(ios.err, "Usage: grep [OPTION]... PATTERNS [FILE]...")
		return 2, nil
	}
	pats = strings.Split(strings.Join(pats, "\n"), "\n")
	var res []*regexp.Regexp
	for _, p := range pats {
		re, err := compileRE(p, has(flags, "E", "--extended-regexp"), has(flags, "F", "--fixed-strings"),
			has(flags, "i", "--ignore-case"), has(flags, "w"), has(flags, "x"))
		if err != nil {
			fmt.Fprintf(ios.err, "grep: %v\n", err)
			return 2, nil
		}
		res = append(res, re)
	}
	quiet, invert, count, onlyMatch, numbers := has(flags, "q", "--quiet", "--silent"), has(flags, "v"), has(flags, "c"),
		has(flags, "o"), has(flags, "n")
	listFiles := has(flags, "l")
	rs, status := s.inputs(ops, ios, "grep")
	if has(flags, "s") {
		status = 0
	}
	found := false
	for i, r := range rs {
		prefix := ""
		if len(ops) > 1 && !has(flags, "h") {
			prefix = ops[i] + ":"
		}
		n, lineNo := 0, 0
		var werr error
		_ = eachLine(r, func(l string) bool {
			lineNo++
			text := strings.TrimSuffix(l, "\n")
			var m bool
			var hits []string
			for _, re := range res {
				if onlyMatch {
					hits = append(hits, re.FindAllString(text, -1)...)
				}
				if re.MatchString(text) {
					m = true
				}
			}
			if m == invert {
				return true
			}
			found = true
			n++
			if quiet {
				return false
			}
			if count || listFiles {
				return true
			}
			ln := ""
			if numbers {
				ln = strconv.Itoa(lineNo) + ":"
			}
			if onlyMatch {
				for _, h := range hits {
					_, werr = fmt.Fprintf(ios.out, "%s%s%s\n", prefix, ln, h)
				}
			} else {
				_, werr = fmt.Fprintf(ios.out, "%s%s%s\n", prefix, ln, text)
			}
			return werr == nil
		})
		if quiet && found {
			return 0, nil
		}
		if count {
			fmt.Fprintf(ios.out, "%s%d\n", prefix, n)
		}
		if listFiles && n > 0 && len(ops) > 0 {
			fmt.Fprintln(ios.out, ops[i])
		}
	}
	if status != 0 {
		return 2, nil
	}
	if found {
		return 0, nil
	}
	return 1, nil
}

// ---- sed: addresses, s///, d, p, a, i, c ----

type sedAddr struct {
	kind int // 0 none, 1 line, 2 last, 3 regexp
	line int
	re   *regexp.Regexp
}

type sedCmd struct {
	addr1, addr2 sedAddr
	negate       bool
	op           byte
	re           *regexp.Regexp
	repl         string
	global       bool
	nth          int
	print        bool
	text         string
	inRange      bool
}

func parseSed(script string, extended bool) ([]*sedCmd, error) {
	var cmds []*sedCmd
	i := 0
	skip := func() {
		for i < len(script) && strings.IndexByte(" \t\n;", script[i]) >= 0 {
			i++
		}
	}
	readDelim := func(delim byte) (string, error) {
		var b strings.Builder
		for i < len(script) {
			c := script[i]
			if c == '\\' && i+1 < len(script) {
				if script[i+1] == delim {
					b.WriteByte(delim)
				} else if script[i+1] == 'n' {
					b.WriteByte('\n')
				} else {
					b.WriteByte(c)
					b.WriteByte(script[i+1])
				}
				i += 2
				continue
			}
			if c == delim {
				i++
				return b.String(), nil
			}
			b.WriteByte(c)
			i++
		}
		return "", fmt.Errorf("unterminated `s' command")
	}
	compile := func(p string) (*regexp.Regexp, error) {
		if !extended {
			p = breToGo(p)
		}
		return regexp.Compile(p)
	}
	parseAddr := func() (sedAddr, error) {
		switch {
		case i < len(script) && script[i] >= '0' && script[i] <= '9':
			j := i
			for j < len(script) && script[j] >= '0' && script[j] <= '9' {
				j++
			}
			n, _ := strconv.Atoi(script[i:j])
			i = j
			return sedAddr{kind: 1, line: n}, nil
		case i < len(script) && script[i] == '$':
			i++
			return sedAddr{kind: 2}, nil
		case i < len(script) && (script[i] == '/' || script[i] == '\\'):
			delim := byte('/')
			if script[i] == '\\' && i+1 < len(script) {
				i++
				delim = script[i]
			}
			i++
			p, err := readDelim(delim)
			if err != nil {
				return sedAddr{}, err
			}
			re, err := compile(p)
			if err != nil {
				return sedAddr{}, err
			}
			return sedAddr{kind: 3, re: re}, nil
		}
		return sedAddr{}, nil
	}
	for {
		skip()
		if i >= len(script) {
			return cmds, nil
		}
		c := &sedCmd{}
		var err error
		if c.addr1, err = parseAddr(); err != nil {
			return nil, err
		}
		if i < len(script) && script[i] == ',' {
			i++
			if c.addr2, err = parseAddr(); err != nil {
				return nil, err
			}
		}
		for i < len(script) && script[i] == ' ' {
			i++
		}
		if i < len(script) && script[i] == '!' {
			c.negate = true
			i++
		}
		if i >= len(script) {
			return nil, fmt.Errorf("missing command")
		}
		c.op = script[i]
		i++
		switch c.op {
		case 's':
			if i >= len(script) {
				return nil, fmt.Errorf("unterminated `s' command")
			}
			delim := script[i]
			i++
			pat, err := readDelim(delim)
			if err != nil {
				return nil, err
			}
			if c.repl, err = readDelim(delim); err != nil {
				return nil, err
			}
			icase := false
			for i < len(script) && strings.IndexByte("gpiI0123456789", script[i]) >= 0 {
				switch f := script[i]; {
				case f == 'g':
					c.global = true
				case f == 'p':
					c.print = true
				case f == 'i' || f == 'I':
					icase = true
				default:
					c.nth = c.nth*10 + int(f-'0')
				}
				i++
			}
			if !extended {
				pat = breToGo(pat)
			}
			if icase {
				pat = "(?i)" + pat
			}
			if c.re, err = regexp.Compile(pat); err != nil {
				return nil, err
			}
		case 'd', 'p', 'q':
		case 'a', 'i', 'c':
			if i < len(script) && script[i] == '\\' {
				i++
			}
			for i < len(script) && (script[i] == ' ' || script[i] == '\n') {
				i++
			}
			j := strings.IndexByte(script[i:], '\n')
			if j < 0 {
				j = len(script) - i
			}
			c.text = script[i : i+j]
			i += j
		default:
			return nil, &UnsupportedError{What: fmt.Sprintf("sed command %q", c.op)}
		}
		cmds = append(cmds, c)
	}
}

func (a sedAddr) match(line string, n int, last bool) bool {
	switch a.kind {
	case 1:
		return n == a.line
	case 2:
		return last
	case 3:
		return a.re.MatchString(line)
	}
	return true
}

func (c *sedCmd) selects(line string, n int, last bool) bool {
	var m bool
	switch {
	case c.addr1.kind == 0:
		m = true
	case c.addr2.kind == 0:
		m = c.addr1.match(line, n, last)
	case c.inRange:
		m = true
		if (c.addr2.kind == 1 && n >= c.addr2.line) || (c.addr2.kind != 1 && c.addr2.match(line, n, last)) {
			c.inRange = false
		}
	case c.addr1.match(line, n, last):
		m = true
		c.inRange = !(c.addr2.kind == 1 && n >= c.addr2.line)
	}
	return m != c.negate
}

func sedReplace(re *regexp.Regexp, line, repl string, global bool, nth int) (string, bool) {
	matches := re.FindAllStringSubmatchIndex(line, -1)
	if len(matches) == 0 {
		return line, false
	}
	var b strings.Builder
	last := 0
	done := false
	for k, m := range matches {
		if done || (nth > 0 && k+1 != nth) || (!global && nth == 0 && k > 0) {
			continue
		}
		b.WriteString(line[last:m[0]])
		for i := 0; i < len(repl); i++ {
			c := repl[i]
			switch {
			case c == '&':
				b.WriteString(line[m[0]:m[1]])
			case c == '\\' && i+1 < len(repl):
				i++
				d := repl[i]
				switch {
				case d >= '0' && d <= '9':
					g := int(d - '0')
					if 2*g+1 < len(m) && m[2*g] >= 0 {
						b.WriteString(line[m[2*g]:m[2*g+1]])
					}
				case d == 'n':
					b.WriteByte('\n')
				case d == 't':
					b.WriteByte('\t')
				default:
					b.WriteByte(d)
				}
			default:
				b.WriteByte(c)
			}
		}
		last = m[1]
		if nth > 0 {
			done = true
		}
	}
	b.WriteString(line[last:])
	return b.String(), true
}

func cSed(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	args := argv[1:]
	var scripts, files []string
	inPlace, quiet, extended := false, false, false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-e" || a == "--expression":
			if i+1 < len(args) {
				i++
				scripts = append(scripts, args[i])
			}
		case strings.HasPrefix(a, "--expression="):
			scripts = append(scripts, strings.TrimPrefix(a, "--expression="))
		case a == "-i" || strings.HasPrefix(a, "-i") && !strings.ContainsAny(a[2:], "nerE") || a == "--in-place":
			inPlace = true
		case a == "-f":
			return 0, &UnsupportedError{What: "sed -f"}
		case len(a) > 1 && a[0] == '-' && a != "-":
			for _, f := range a[1:] {
				switch f {
				case 'i':
					inPlace = true
				case 'n':
					quiet = true
				case 'E', 'r':
					extended = true
				case 'u', 's':
				default:
					return 0, &UnsupportedError{What: "sed -" + string(f)}
				}
			}
		default:
			if len(scripts) == 0 && !containsScriptFlag(args[:i]) {
				scripts = append(scripts, a)
			} else {
				files = append(files, a)
			}
		}
	}
	if len(scripts) == 0 {
		fmt.Fprintln(ios.err, "Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...")
		return 1, nil
	}
	cmds, err := parseSed(strings.Join(scripts, "\n"), extended)
	if err != nil {
		if ue, ok := err.(*UnsupportedError); ok {
			return 0, ue
		}
		fmt.Fprintf(ios.err, "sed: -e expression #1, char 0: %v\n", err)
		return 1, nil
	}
	run := func(text string, out io.Writer) {
		ls := strings.SplitAfter(text, "\n")
		if len(ls) > 0 && ls[len(ls)-1] == "" {
			ls = ls[:len(ls)-1]
		}
		for _, c := range cmds {
			c.inRange = false
		}
	lines:
		for n, raw := range ls {
			line := strings.TrimSuffix(raw, "\n")
			nl := strings.HasSuffix(raw, "\n")
			lastLine := n == len(ls)-1
			var after []string
			for _, c := range cmds {
				if !c.selects(line, n+1, lastLine) {
					continue
				}
				switch c.op {
				case 's':
					if r, ok := sedReplace(c.re, line, c.repl, c.global, c.nth); ok {
						line = r
						if c.print {
							fmt.Fprintln(out, line)
						}
					}
				case 'd':
					continue lines
				case 'p':
					fmt.Fprintln(out, line)
				case 'a':
					after = append(after, c.text)
				case 'i':
					fmt.Fprintln(out, c.text)
				case 'c':
					fmt.Fprintln(out, c.text)
					continue lines
				case 'q':
					if !quiet {
						fmt.Fprintln(out, line)
					}
					return
				}
			}
			if !quiet {
				io.WriteString(out, line)
				if nl || len(after) > 0 {
					io.WriteString(out, "\n")
				}
			}
			for _, a := range after {
				fmt.Fprintln(out, a)
			}
		}
	}
	if inPlace {
		status := 0
		for _, f := range files {
			p := cleanPath(s.cwd, f)
			data, err := s.g.ReadFile(p)
			if err != nil {
				fmt.Fprintf(ios.err, "sed: can't read %s: No such file or directory\n", f)
				status = 2
				continue
			}
			var b strings.Builder
			run(string(data), &b)
			s.g.mu.Lock()
			err = s.g.fs.writeFile(p, []byte(b.String()), false, 0o644, "root", "root")
			s.g.mu.Unlock()
			if err != nil {
				status = 4
			}
		}
		if len(files) == 0 {
			fmt.Fprintln(ios.err, "sed: no input files")
			return 1, nil
		}
		return status, nil
	}
	rs, status := s.inputs(files, ios, "sed")
	for _, r := range rs {
		data, _ := io.ReadAll(io.LimitReader(r, maxFileSize))
		run(string(data), ios.out)
	}
	if status != 0 {
		return 2, nil
	}
	return 0, nil
}

func containsScriptFlag(args []string) bool {
	for _, a := range args {
		if a == "-e" || a == "--expression" || strings.HasPrefix(a, "--expression=") {
			return true
		}
	}
	return false
}

func cCut(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	flags, ops := flagSplit(argv[1:], "dfc")
	delim := "\t"
	if d, ok := flags["d"]; ok {
		delim = d
	}
	spec, byChar := flags["f"], false
	if c, ok := flags["c"]; ok {
		spec, byChar = c, true
	}
	if spec == "" {
		fmt.Fprintln(ios.err, "cut: you must specify a list of bytes, characters, or fields")
		return 1, nil
	}
	type rng struct{ lo, hi int }
	var ranges []rng
	for _, part := range strings.Split(spec, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		l, _ := strconv.Atoi(lo)
		h := l
		if isRange {
			h = 1 << 30
			if hi != "" {
				h, _ = strconv.Atoi(hi)
			}
			if lo == "" {
				l = 1
			}
		}
		ranges = append(ranges, rng{l, h})
	}
	sel := func(i int) bool {
		for _, r := range ranges {
			if i >= r.lo && i <= r.hi {
				return true
			}
		}
		return false
	}
	rs, status := s.inputs(ops, ios, "cut")
	for _, r := range rs {
		_ = eachLine(r, func(l string) bool {
			l = strings.TrimSuffix(l, "\n")
			var out []string
			if byChar {
				var b strings.Builder
				for i, c := range []rune(l) {
					if sel(i + 1) {
						b.WriteRune(c)
					}
				}
				out = []string{b.String()}
			} else {
				if !strings.Contains(l, delim) {
					fmt.Fprintln(ios.out, l)
					return true
				}
				for i, f := range strings.Split(l, delim) {
					if sel(i + 1) {
						out = append(out, f)
					}
				}
			}
			_, err := fmt.Fprintln(ios.out, strings.Join(out, delim))
			return err == nil
		})
	}
	return status, nil
}

func cSortUniq(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	flags, ops := flagSplit(argv[1:], "tk")
	rs, status := s.inputs(ops, ios, argv[0])
	var ls []string
	for _, r := range rs {
		_ = eachLine(r, func(l string) bool {
			ls = append(ls, strings.TrimSuffix(l, "\n"))
			return len(ls) < 1_000_000
		})
	}
	if argv[0] == "sort" {
		if has(flags, "n") {
			sort.SliceStable(ls, func(i, j int) bool {
				a, _ := strconv.ParseFloat(strings.Fields(ls[i] + " 0")[0], 64)
				b, _ := strconv.ParseFloat(strings.Fields(ls[j] + " 0")[0], 64)
				return a < b
			})
		} else {
			sort.Strings(ls)
		}
		if has(flags, "r") {
			for i, j := 0, len(ls)-1; i < j; i, j = i+1, j-1 {
				ls[i], ls[j] = ls[j], ls[i]
			}
		}
	}
	if argv[0] == "uniq" || has(flags, "u") {
		var out []string
		counts := []int{}
		for _, l := range ls {
			if len(out) > 0 && out[len(out)-1] == l {
				counts[len(counts)-1]++
				continue
			}
			out = append(out, l)
			counts = append(counts, 1)
		}
		if argv[0] == "uniq" && has(flags, "c") {
			for i, l := range out {
				fmt.Fprintf(ios.out, "%7d %s\n", counts[i], l)
			}
			return status, nil
		}
		ls = out
	}
	for _, l := range ls {
		if _, err := fmt.Fprintln(ios.out, l); err != nil {
			return 1, nil
		}
	}
	return status, nil
}

func cBase64(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	flags, ops := flagSplit(argv[1:], "w")
	rs, status := s.inputs(ops, ios, "base64")
	if status != 0 {
		return status, nil
	}
	data, err := io.ReadAll(io.LimitReader(rs[0], maxFileSize))
	if err != nil {
		return 1, nil
	}
	if has(flags, "d", "--decode") {
		clean := strings.Join(strings.Fields(string(data)), "")
		out, err := base64.StdEncoding.DecodeString(clean)
		if err != nil {
			fmt.Fprintln(ios.err, "base64: invalid input")
			return 1, nil
		}
		ios.out.Write(out)
		return 0, nil
	}
	enc := base64.StdEncoding.EncodeToString(data)
	wrap := 76
	if w, ok := flags["w"]; ok {
		wrap, _ = strconv.Atoi(w)
	}
	var b strings.Builder
	for wrap > 0 && len(enc) > wrap {
		b.WriteString(enc[:wrap])
		b.WriteByte('\n')
		enc = enc[wrap:]
	}
	b.WriteString(enc)
	if b.Len() > 0 {
		b.WriteByte('\n')
	}
	io.WriteString(ios.out, b.String())
	return 0, nil
}

func cTee(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	flags, ops := flagSplit(argv[1:], "")
	writers := []io.Writer{ios.out}
	status := 0
	for _, o := range ops {
		w, _, err := s.g.openWriter(cleanPath(s.cwd, o), has(flags, "a", "--append"), s.user)
		if err != nil {
			fmt.Fprintf(ios.err, "tee: %s: %s\n", o, errText(err))
			status = 1
			continue
		}
		writers = append(writers, w)
	}
	if err := copyOut(io.MultiWriter(writers...), ios.in); err != nil {
		return 1, nil
	}
	return status, nil
}

func cSeq(_ context.Context, _ *shell, argv []string, ios ioSet) (int, error) {
	var nums []int
	for _, a := range argv[1:] {
		n, err := strconv.Atoi(a)
		if err != nil {
			fmt.Fprintf(ios.err, "seq: invalid argument: '%s'\n", a)
			return 1, nil
		}
		nums = append(nums, n)
	}
	first, inc, last := 1, 1, 0
	switch len(nums) {
	case 1:
		last = nums[0]
	case 2:
		first, last = nums[0], nums[1]
	case 3:
		first, inc, last = nums[0], nums[1], nums[2]
	default:
		fmt.Fprintln(ios.err, "seq: missing operand")
		return 1, nil
	}
	if inc == 0 {
		return 1, nil
	}
	for i, n := first, 0; (inc > 0 && i <= last || inc < 0 && i >= last) && n < 1_000_000; i, n = i+inc, n+1 {
		if _, err := fmt.Fprintln(ios.out, i); err != nil {
			return 1, nil
		}
	}
	return 0, nil
}
