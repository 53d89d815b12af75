package guest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

type builtinFunc func(ctx context.Context, s *shell, argv []string, ios ioSet) (int, error)

// shellBuiltins exist without a file in the guest.
var shellBuiltins = map[string]bool{
	":": true, "true": true, "false": true, "echo": true, "printf": true, "cd": true, "pwd": true,
	"export": true, "unset": true, "set": true, "shift": true, "exit": true, "return": true, "break": true,
	"continue": true, "local": true, "declare": true, "typeset": true, "readonly": true, "source": true,
	".": true, "eval": true, "test": true, "[": true, "command": true, "type": true, "read": true,
	"wait": true, "hash": true, "umask": true, "let": true, "exec": true, "trap": true, "alias": true,
	"getopts": true, "ulimit": true, "shopt": true,
}

// packageProvided commands appear only when their package is installed.
var packageProvided = map[string]bool{"pip": true, "pip3": true, "npm": true, "psql": true, "curl": true}

var sbinCommands = map[string]bool{"useradd": true, "adduser": true, "usermod": true, "groupadd": true,
	"userdel": true, "chpasswd": true, "runuser": true}

// builtins maps command names to their Go implementation. It is built by a
// function so that command implementations may call back into the shell.
var builtins = builtinTable()

func builtinTable() map[string]bool {
	names := []string{
		":", "true", "false", "echo", "printf", "cd", "pwd", "export", "unset", "set", "shift", "exit", "return",
		"break", "continue", "local", "declare", "typeset", "readonly", "source", ".", "eval", "test", "[", "command",
		"type", "read", "wait", "hash", "umask", "let", "exec", "trap", "alias", "getopts", "ulimit", "shopt",
		"bash", "sh", "dash", "sleep", "cat", "ls", "rm", "mkdir", "rmdir", "touch", "chmod", "chown", "chgrp", "mv", "cp",
		"ln", "stat", "head", "tail", "tr", "wc", "grep", "sed", "cut", "sort", "uniq", "base64", "tee", "date",
		"hostname", "hostnamectl", "ip", "ss", "systemctl", "journalctl", "apt-get", "apt", "dpkg", "dpkg-query",
		"pip", "pip3", "npm", "python3", "useradd", "adduser", "usermod", "groupadd", "userdel", "id", "getent",
		"su", "runuser", "chpasswd", "whoami", "env", "printenv", "dirname", "basename", "seq", "uname",
		"mktemp", "timeout", "nproc", "openssl", "systemd-detect-virt", "pgrep", "realpath", "readlink", "which",
		"awk", "perl", "find", "xargs", "yes", "psql", "curl", "install",
	}
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func builtinFor(name string) builtinFunc {
	switch name {
	case ":", "true", "wait", "hash", "umask", "ulimit":
		return func(context.Context, *shell, []string, ioSet) (int, error) { return 0, nil }
	case "false":
		return func(context.Context, *shell, []string, ioSet) (int, error) { return 1, nil }
	case "echo":
		return bEcho
	case "printf":
		return bPrintf
	case "cd":
		return bCd
	case "pwd":
		return func(_ context.Context, s *shell, _ []string, ios ioSet) (int, error) {
			fmt.Fprintln(ios.out, s.cwd)
			return 0, nil
		}
	case "export", "readonly":
		return bExport
	case "unset":
		return bUnset
	case "set":
		return bSet
	case "shopt":
		return bShopt
	case "shift":
		return bShift
	case "exit":
		return bExit
	case "return":
		return bReturn
	case "break", "continue":
		return bLoopCtl
	case "local", "declare", "typeset":
		return bLocal
	case "source", ".":
		return bSource
	case "eval":
		return bEval
	case "test", "[":
		return builtinTest
	case "command", "type", "which":
		return bCommand
	case "read":
		return bRead
	case "let":
		return bLet
	case "exec":
		return bExec
	case "bash", "sh", "dash":
		return bBash
	case "sleep":
		return bSleep
	case "trap", "alias", "getopts", "awk", "perl", "find", "xargs", "ln", "yes":
		return func(_ context.Context, _ *shell, argv []string, _ ioSet) (int, error) {
			return 0, &UnsupportedError{What: "command " + argv[0]}
		}
	}
	return commandFor(name)
}

func bEcho(_ context.Context, _ *shell, argv []string, ios ioSet) (int, error) {
	args := argv[1:]
	newline, escapes := true, false
	for len(args) > 0 && len(args[0]) > 1 && args[0][0] == '-' && strings.Trim(args[0][1:], "neE") == "" {
		for _, c := range args[0][1:] {
			switch c {
			case 'n':
				newline = false
			case 'e':
				escapes = true
			case 'E':
				escapes = false
			}
		}
		args = args[1:]
	}
	out := strings.Join(args, " ")
	if escapes {
		var stop bool
		out, stop = unescape(out, true)
		if stop {
			newline = false
		}
	}
	if newline {
		out += "\n"
	}
	if _, err := io.WriteString(ios.out, out); err != nil {
		return 1, nil
	}
	return 0, nil
}

// unescape interprets backslash escapes as echo -e and printf %b do; stop
// reports \c (no further output).
func unescape(s string, echo bool) (string, bool) {
	if !strings.Contains(s, `\`) {
		return s, false
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'a':
			b.WriteByte(7)
		case 'b':
			b.WriteByte(8)
		case 'f':
			b.WriteByte(12)
		case 'v':
			b.WriteByte(11)
		case 'e':
			b.WriteByte(27)
		case '\\':
			b.WriteByte('\\')
		case 'c':
			return b.String(), true
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			if s[i] == '0' && echo {
				j++
			}
			k := j
			for k < len(s) && k < j+3 && s[k] >= '0' && s[k] <= '7' {
				k++
			}
			v, _ := strconv.ParseUint(s[j:k], 8, 8)
			if k == j {
				v = 0
			}
			b.WriteByte(byte(v))
			i = k - 1
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String(), false
}

func bPrintf(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	args := argv[1:]
	if len(args) > 0 && args[0] == "-v" {
		return 0, &UnsupportedError{What: "printf -v"}
	}
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		s.errf(ios, "printf: usage: printf [-v var] format [arguments]")
		return 2, nil
	}
	format, rest := args[0], args[1:]
	var b strings.Builder
	status := 0
	for iter := 0; ; iter++ {
		consumed, stop, st := printfOnce(&b, format, rest)
		if st != 0 {
			status = st
		}
		rest = rest[consumed:]
		if stop || consumed == 0 || len(rest) == 0 || iter > 10000 {
			break
		}
	}
	if _, err := io.WriteString(ios.out, b.String()); err != nil {
		return 1, nil
	}
	return status, nil
}

func printfOnce(b *strings.Builder, format string, args []string) (consumed int, stop bool, status int) {
	next := func() (string, bool) {
		if consumed < len(args) {
			consumed++
			return args[consumed-1], true
		}
		return "", false
	}
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c == '\\' {
			j := i + 1
			for j < len(format) && j < i+4 && format[j] >= '0' && format[j] <= '7' && format[i+1] != 'x' {
				j++
			}
			if j == i+1 {
				j = i + 2
			}
			if j > len(format) {
				j = len(format)
			}
			seq := format[i:j]
			if len(seq) > 1 && seq[1] >= '0' && seq[1] <= '7' {
				seq = `\0` + seq[1:]
			}
			out, _ := unescape(seq, true)
			b.WriteString(out)
			i = j - 1
			continue
		}
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(format) && strings.IndexByte("-+ #0123456789.", format[j]) >= 0 {
			j++
		}
		if j >= len(format) {
			b.WriteString(format[i:])
			return consumed, false, 1
		}
		spec, verb := format[i+1:j], format[j]
		i = j
		switch verb {
		case '%':
			b.WriteByte('%')
		case 's':
			a, _ := next()
			fmt.Fprintf(b, "%"+spec+"s", a)
		case 'b':
			a, _ := next()
			out, st := unescape(a, true)
			fmt.Fprintf(b, "%"+spec+"s", out)
			if st {
				return consumed, true, status
			}
		case 'q':
			a, _ := next()
			b.WriteString(shellQuote(a))
		case 'c':
			a, _ := next()
			if a != "" {
				b.WriteByte(a[0])
			}
		case 'd', 'i', 'x', 'X', 'o', 'u':
			a, _ := next()
			n, err := strconv.ParseInt(strings.TrimSpace(a), 0, 64)
			if err != nil && a != "" {
				if len(a) > 1 && (a[0] == '\'' || a[0] == '"') {
					n = int64(a[1])
				} else {
					status = 1
				}
			}
			v := verb
			if v == 'i' || v == 'u' {
				v = 'd'
			}
			fmt.Fprintf(b, "%"+spec+string(v), n)
		case 'f', 'e', 'g', 'E', 'G':
			a, _ := next()
			f, err := strconv.ParseFloat(strings.TrimSpace(a), 64)
			if err != nil && a != "" {
				status = 1
			}
			fmt.Fprintf(b, "%"+spec+string(verb), f)
		default:
			b.WriteString(format[i-len(spec)-1 : i+1])
			status = 1
		}
	}
	return consumed, false, status
}

// shellQuote quotes s for a POSIX shell the way bash's printf %q would
// accept it back (single quotes, with ' as '\”).
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func bCd(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	target, _ := s.get("HOME")
	if len(argv) > 1 {
		target = argv[1]
	}
	if target == "-" {
		target, _ = s.get("OLDPWD")
	}
	p := cleanPath(s.cwd, target)
	fi, err := s.g.Stat(p)
	if err != nil {
		s.errf(ios, "cd: %s: No such file or directory", target)
		return 1, nil
	}
	if !fi.Dir {
		s.errf(ios, "cd: %s: Not a directory", target)
		return 1, nil
	}
	s.set("OLDPWD", s.cwd)
	s.cwd = p
	return 0, nil
}

func bExport(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	status := 0
	for _, a := range argv[1:] {
		switch a {
		case "-p":
			for _, k := range sortedKeys(s.vars) {
				if s.vars[k].exported {
					fmt.Fprintf(ios.out, "declare -x %s=%q\n", k, s.vars[k].val)
				}
			}
			continue
		case "-n", "--":
			continue
		case "-f":
			return 0, &UnsupportedError{What: "export -f"}
		}
		name, val, hasVal := strings.Cut(a, "=")
		if !isName(name) {
			s.errf(ios, "%s: `%s': not a valid identifier", argv[0], a)
			status = 1
			continue
		}
		v, ok := s.vars[name]
		if !ok {
			v = &shVar{}
			s.vars[name] = v
		}
		if hasVal {
			v.val = val
		}
		if argv[0] == "export" {
			v.exported = true
		}
	}
	return status, nil
}

func bUnset(_ context.Context, s *shell, argv []string, _ ioSet) (int, error) {
	funcs := false
	for _, a := range argv[1:] {
		switch a {
		case "-f":
			funcs = true
		case "-v":
			funcs = false
		default:
			if funcs {
				delete(s.funcs, a)
			} else {
				delete(s.vars, a)
			}
		}
	}
	return 0, nil
}

func (s *shell) setOption(name string, on bool) error {
	switch name {
	case "e", "errexit":
		s.errexit = on
	case "u", "nounset":
		s.nounset = on
	case "pipefail":
		s.pipefail = on
	case "x", "xtrace", "v", "verbose", "h", "hashall", "B", "braceexpand", "m", "monitor", "H", "histexpand":
		// tracing and interactive features do not change results
	case "f", "noglob", "C", "noclobber", "a", "allexport", "n", "noexec", "posix":
		return &UnsupportedError{What: "set option " + name}
	default:
		return fmt.Errorf("%s: invalid option", name)
	}
	return nil
}

func bSet(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	args := argv[1:]
	if len(args) == 0 {
		for _, k := range sortedKeys(s.vars) {
			fmt.Fprintf(ios.out, "%s=%s\n", k, shellQuote(s.vars[k].val))
		}
		return 0, nil
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			s.args = append([]string(nil), args[i+1:]...)
			return 0, nil
		}
		if len(a) < 2 || (a[0] != '-' && a[0] != '+') {
			s.args = append([]string(nil), args[i:]...)
			return 0, nil
		}
		on := a[0] == '-'
		for _, c := range a[1:] {
			if c == 'o' {
				if i+1 >= len(args) {
					return 0, nil
				}
				i++
				if err := s.setOption(args[i], on); err != nil {
					return s.optionErr(err, ios)
				}
				continue
			}
			if err := s.setOption(string(c), on); err != nil {
				return s.optionErr(err, ios)
			}
		}
	}
	return 0, nil
}

func (s *shell) optionErr(err error, ios ioSet) (int, error) {
	var ue *UnsupportedError
	if errors.As(err, &ue) {
		return 0, ue
	}
	s.errf(ios, "set: %v", err)
	return 2, nil
}

func bShopt(_ context.Context, _ *shell, argv []string, _ ioSet) (int, error) {
	if len(argv) >= 3 && argv[1] == "-s" && (argv[2] == "nullglob" || argv[2] == "extglob" || argv[2] == "globstar" || argv[2] == "dotglob") {
		return 0, &UnsupportedError{What: "shopt -s " + argv[2]}
	}
	return 0, nil
}

func bShift(_ context.Context, s *shell, argv []string, _ ioSet) (int, error) {
	n := 1
	if len(argv) > 1 {
		var err error
		if n, err = strconv.Atoi(argv[1]); err != nil || n < 0 {
			return 1, nil
		}
	}
	if n > len(s.args) {
		return 1, nil
	}
	s.args = s.args[n:]
	return 0, nil
}

func statusArg(s *shell, argv []string, ios ioSet) int {
	if len(argv) < 2 {
		return s.status
	}
	n, err := strconv.Atoi(argv[1])
	if err != nil {
		s.errf(ios, "%s: %s: numeric argument required", argv[0], argv[1])
		return 2
	}
	return n & 0xff
}

func bExit(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	code := statusArg(s, argv, ios)
	return code, exitSignal{code: code}
}

func bReturn(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	code := statusArg(s, argv, ios)
	if len(s.locals) == 0 && s.depth == 0 {
		s.errf(ios, "return: can only `return' from a function or sourced script")
		return 1, nil
	}
	return code, returnSignal{code: code}
}

func bLoopCtl(_ context.Context, s *shell, argv []string, _ ioSet) (int, error) {
	if s.loops == 0 {
		return 0, nil
	}
	n := 1
	if len(argv) > 1 {
		if v, err := strconv.Atoi(argv[1]); err == nil && v > 0 {
			n = v
		}
	}
	if n > s.loops {
		n = s.loops
	}
	return 0, loopSignal{brk: argv[0] == "break", n: n}
}

func bLocal(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	export := false
	for _, a := range argv[1:] {
		if strings.HasPrefix(a, "-") {
			if strings.ContainsAny(a, "aAn") {
				return 0, &UnsupportedError{What: argv[0] + " " + a}
			}
			if strings.Contains(a, "x") {
				export = true
			}
			continue
		}
		name, val, hasVal := strings.Cut(a, "=")
		if !isName(name) {
			s.errf(ios, "%s: `%s': not a valid identifier", argv[0], a)
			return 1, nil
		}
		if len(s.locals) > 0 {
			frame := s.locals[len(s.locals)-1]
			if _, saved := frame[name]; !saved {
				if old, ok := s.vars[name]; ok {
					cp := *old
					frame[name] = &cp
				} else {
					frame[name] = nil
				}
			}
			if !hasVal {
				s.vars[name] = &shVar{}
			}
		} else if argv[0] == "local" {
			s.errf(ios, "local: can only be used in a function")
			return 1, nil
		}
		if hasVal {
			s.set(name, val)
		} else if _, ok := s.vars[name]; !ok {
			s.vars[name] = &shVar{}
		}
		if export {
			s.vars[name].exported = true
		}
	}
	return 0, nil
}

func (s *shell) findSourceFile(name string) (string, bool) {
	if strings.Contains(name, "/") {
		p := cleanPath(s.cwd, name)
		return p, s.g.Exists(p)
	}
	path, _ := s.get("PATH")
	for _, d := range append(strings.Split(path, ":"), s.cwd) {
		if d == "" {
			continue
		}
		p := cleanPath("/", d+"/"+name)
		if fi, err := s.g.Stat(p); err == nil && !fi.Dir {
			return p, true
		}
	}
	return "", false
}

func bSource(ctx context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	if len(argv) < 2 {
		s.errf(ios, "%s: filename argument required", argv[0])
		return 2, nil
	}
	p, ok := s.findSourceFile(argv[1])
	if !ok {
		s.errf(ios, "%s: No such file or directory", argv[1])
		return 1, nil
	}
	data, err := s.g.ReadFile(p)
	if err != nil {
		s.errf(ios, "%s: %v", argv[1], err)
		return 1, nil
	}
	sc, perr := Parse(string(data))
	if perr != nil {
		return s.parseFailed(perr, argv[1], ios)
	}
	if s.depth >= maxCallDepth {
		return 0, &UnsupportedError{What: "source nested more than 100 deep"}
	}
	if len(argv) > 2 {
		old := s.args
		s.args = append([]string(nil), argv[2:]...)
		defer func() { s.args = old }()
	}
	s.depth++
	defer func() { s.depth-- }()
	s.status = 0
	err = s.runScript(ctx, sc, ios)
	var ret returnSignal
	if errors.As(err, &ret) {
		return ret.code, nil
	}
	return s.status, err
}

func bEval(ctx context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	sc, err := Parse(strings.Join(argv[1:], " "))
	if err != nil {
		return s.parseFailed(err, "eval", ios)
	}
	if s.depth >= maxCallDepth {
		return 0, &UnsupportedError{What: "eval nested more than 100 deep"}
	}
	s.depth++
	defer func() { s.depth-- }()
	s.status = 0
	err = s.runScript(ctx, sc, ios)
	return s.status, err
}

// bCommand implements command, type and which.
func bCommand(ctx context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	args := argv[1:]
	mode := argv[0]
	if mode == "command" {
		for len(args) > 0 && strings.HasPrefix(args[0], "-") {
			switch args[0] {
			case "-v", "-V":
				mode = "-v"
			case "-p", "--":
			}
			args = args[1:]
		}
		if mode == "command" {
			if len(args) == 0 {
				return 0, nil
			}
			saved := s.funcs
			s.funcs = map[string]*funcDef{}
			defer func() { s.funcs = saved }()
			return s.invoke(ctx, args, ios)
		}
	} else {
		for len(args) > 0 && strings.HasPrefix(args[0], "-") {
			args = args[1:]
		}
	}
	status := 0
	for _, name := range args {
		desc, path, ok := s.describe(name)
		if !ok {
			status = 1
			if mode == "type" {
				s.errf(ios, "type: %s: not found", name)
			}
			continue
		}
		switch mode {
		case "type":
			fmt.Fprintf(ios.out, "%s is %s\n", name, desc)
		case "which":
			if path == "" {
				status = 1
				continue
			}
			fmt.Fprintln(ios.out, path)
		default:
			if path != "" {
				fmt.Fprintln(ios.out, path)
			} else {
				fmt.Fprintln(ios.out, name)
			}
		}
	}
	return status, nil
}

func (s *shell) describe(name string) (desc, path string, ok bool) {
	if _, ok := s.funcs[name]; ok {
		return "a function", "", true
	}
	if shellBuiltins[name] {
		return "a shell builtin", "", true
	}
	if p, ok := s.lookPath(name); ok {
		return p, p, true
	}
	return "", "", false
}

// bRead reads one line byte by byte so the rest of stdin stays unread.
func bRead(_ context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	raw := false
	var names []string
	args := argv[1:]
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-r":
			raw = true
		case a == "-s", a == "-e":
		case a == "-p", a == "-t", a == "-u":
			i++
		case a == "-rs" || a == "-sr":
			raw = true
		case strings.HasPrefix(a, "-"):
			return 0, &UnsupportedError{What: "read " + a}
		default:
			names = append(names, a)
		}
	}
	if len(names) == 0 {
		names = []string{"REPLY"}
	}
	var line []byte
	buf := make([]byte, 1)
	eof := false
	for {
		n, err := ios.in.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				if !raw && len(line) > 0 && line[len(line)-1] == '\\' {
					line = line[:len(line)-1]
					continue
				}
				break
			}
			line = append(line, buf[0])
			if len(line) > maxCaptureBytes {
				break
			}
		}
		if err != nil {
			eof = true
			break
		}
	}
	text := string(line)
	if !raw {
		text = strings.ReplaceAll(text, `\`, "")
	}
	ifs := s.ifs()
	if len(names) == 1 {
		if names[0] == "REPLY" {
			s.set("REPLY", string(line))
		} else {
			s.set(names[0], strings.Trim(text, ifs))
		}
	} else {
		fields := strings.FieldsFunc(text, func(r rune) bool { return strings.ContainsRune(ifs, r) })
		for i, n := range names {
			switch {
			case i < len(fields) && i == len(names)-1:
				s.set(n, strings.Join(fields[i:], " "))
			case i < len(fields):
				s.set(n, fields[i])
			default:
				s.set(n, "")
			}
		}
	}
	if eof && len(line) == 0 {
		return 1, nil
	}
	if eof {
		return 1, nil
	}
	return 0, nil
}

func bLet(ctx context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	var v int64
	for _, a := range argv[1:] {
		var err error
		v, err = s.arith(ctx, &word{parts: []wordPart{&litPart{s: a, quoted: true}}}, ios)
		if err != nil {
			s.errf(ios, "let: %v", err)
			return 1, nil
		}
	}
	return int(b2i(v == 0)), nil
}

func bExec(ctx context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	if len(argv) == 1 {
		return 0, &UnsupportedError{What: "exec with redirections only"}
	}
	st, err := s.invoke(ctx, argv[1:], ios)
	if err != nil {
		return st, err
	}
	return st, exitSignal{code: st}
}

// bBash runs a new shell: bash -c script [name args...], bash file, or a
// script read from stdin.
func bBash(ctx context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	c := s.child()
	c.arg0 = argv[0]
	args := argv[1:]
	var script *string
	fromStdin := false
	for len(args) > 0 && len(args[0]) > 1 && (args[0][0] == '-' || args[0][0] == '+') {
		a := args[0]
		args = args[1:]
		if a == "--" {
			break
		}
		on := a[0] == '-'
		for _, f := range a[1:] {
			switch f {
			case 'c':
				if len(args) == 0 {
					s.errf(ios, "-c: option requires an argument")
					return 2, nil
				}
				script = &args[0]
				args = args[1:]
			case 'o':
				if len(args) > 0 {
					if err := c.setOption(args[0], on); err != nil {
						return c.optionErr(err, ios)
					}
					args = args[1:]
				}
			case 'l', 's', 'i':
				fromStdin = fromStdin || f == 's'
				if f == 'i' {
					return 0, &UnsupportedError{What: "interactive bash -i"}
				}
			default:
				if err := c.setOption(string(f), on); err != nil {
					return c.optionErr(err, ios)
				}
			}
		}
	}
	var src, name string
	switch {
	case script != nil:
		src, name = *script, "-c"
		if len(args) > 0 {
			c.arg0, c.args = args[0], append([]string(nil), args[1:]...)
		}
	case len(args) > 0 && !fromStdin:
		p := cleanPath(s.cwd, args[0])
		data, err := s.g.ReadFile(p)
		if err != nil {
			fmt.Fprintf(ios.err, "%s: %s: No such file or directory\n", argv[0], args[0])
			return 127, nil
		}
		src, name = string(data), args[0]
		c.arg0, c.args = args[0], append([]string(nil), args[1:]...)
	default:
		data, err := io.ReadAll(io.LimitReader(ios.in, maxScriptLen+1))
		if err != nil {
			return 1, nil
		}
		src, name = string(data), "stdin"
		if fromStdin {
			c.args = append([]string(nil), args...) // sh -s -- ARGS: the script's positional parameters
		}
	}
	if c.depth > maxCallDepth {
		return 0, &UnsupportedError{What: "shells nested more than 100 deep"}
	}
	sc, err := Parse(src)
	if err != nil {
		var ue *UnsupportedError
		if errors.As(err, &ue) {
			return 0, ue
		}
		fmt.Fprintf(ios.err, "%s: %s: %v\n", argv[0], name, err)
		return 2, nil
	}
	return c.subshell(ctx, func() error { return c.runScript(ctx, sc, ios) })
}

func parseDuration(a string) (time.Duration, bool) {
	mult := time.Second
	switch {
	case strings.HasSuffix(a, "s"):
		a = a[:len(a)-1]
	case strings.HasSuffix(a, "m"):
		a, mult = a[:len(a)-1], time.Minute
	case strings.HasSuffix(a, "h"):
		a, mult = a[:len(a)-1], time.Hour
	case strings.HasSuffix(a, "d"):
		a, mult = a[:len(a)-1], 24*time.Hour
	}
	f, err := strconv.ParseFloat(a, 64)
	if err != nil || f < 0 || f > 1e7 {
		return 0, false
	}
	return time.Duration(f * float64(mult)), true
}

func bSleep(ctx context.Context, s *shell, argv []string, ios ioSet) (int, error) {
	if len(argv) < 2 {
		fmt.Fprintln(ios.err, "sleep: missing operand")
		return 1, nil
	}
	var total time.Duration
	for _, a := range argv[1:] {
		d, ok := parseDuration(a)
		if !ok {
			fmt.Fprintf(ios.err, "sleep: invalid time interval '%s'\n", a)
			return 1, nil
		}
		total += d
	}
	if err := s.g.sleep(ctx, total); err != nil {
		return 130, err
	}
	return 0, nil
}
