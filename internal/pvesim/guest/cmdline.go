package guest

import (
	"fmt"
	"strconv"
	"strings"
)

// Redirect is one redirection of a command line: Fd 0 reads Path, Fd 1 or 2
// writes it (Append for >>), and DupTo >= 0 makes Fd a copy of DupTo (2>&1).
type Redirect struct {
	Fd     int
	Path   string
	Append bool
	DupTo  int
}

// CommandLineItem is one simple command of a node command line and the
// operator ("", "&&", "||" or ";") that joins it to the previous one.
type CommandLineItem struct {
	Op        string
	Argv      []string
	Redirects []Redirect
}

// ParseCommandLine parses a command line the way the node's login shell
// would for the commands an SSH client sends: simple commands joined by &&,
// || and ;, with POSIX quoting and plain redirections. Quoting is removed
// exactly once. Expansions ($VAR, $(...), globs) and pipes are refused with
// an *UnsupportedError because a faithful node shell would expand them and
// the simulator does not.
func ParseCommandLine(src string) ([]CommandLineItem, error) {
	sc, err := Parse(src)
	if err != nil {
		return nil, err
	}
	var items []CommandLineItem
	for i, ao := range sc.items {
		for j, pl := range ao.pipes {
			op := ";"
			if j > 0 {
				op = ao.ops[j-1]
			} else if i == 0 {
				op = ""
			}
			if pl.negate || len(pl.cmds) != 1 {
				return nil, &UnsupportedError{What: "pipes or ! on the node command line"}
			}
			c, ok := pl.cmds[0].(*simpleCmd)
			if !ok || len(c.assigns) > 0 {
				return nil, &UnsupportedError{What: "compound commands or assignments on the node command line"}
			}
			item := CommandLineItem{Op: op}
			for _, w := range c.words {
				text, err := literalWord(w)
				if err != nil {
					return nil, err
				}
				item.Argv = append(item.Argv, text)
			}
			for _, r := range c.rs {
				rd, err := commandLineRedirect(r)
				if err != nil {
					return nil, err
				}
				item.Redirects = append(item.Redirects, rd)
			}
			items = append(items, item)
		}
	}
	return items, nil
}

func literalWord(w *word) (string, error) {
	text, static := staticText(w)
	if !static {
		return "", &UnsupportedError{What: "expansions on the node command line"}
	}
	for _, p := range w.parts {
		if l := p.(*litPart); !l.quoted && hasGlobMeta(l.s) {
			return "", &UnsupportedError{What: fmt.Sprintf("glob %q on the node command line", l.s)}
		}
	}
	return text, nil
}

func commandLineRedirect(r *redir) (Redirect, error) {
	if r.target == nil {
		return Redirect{}, &UnsupportedError{What: "here-documents on the node command line"}
	}
	target, err := literalWord(r.target)
	if err != nil {
		return Redirect{}, err
	}
	fd := r.fd
	switch r.op {
	case "<":
		if fd < 0 {
			fd = 0
		}
		return Redirect{Fd: fd, Path: target, DupTo: -1}, nil
	case ">", ">>":
		if fd < 0 {
			fd = 1
		}
		return Redirect{Fd: fd, Path: target, Append: r.op == ">>", DupTo: -1}, nil
	case ">&":
		if fd < 0 {
			fd = 1
		}
		to, err := strconv.Atoi(target)
		if err != nil || to < 1 || to > 2 {
			return Redirect{}, &UnsupportedError{What: "redirection >&" + target + " on the node command line"}
		}
		return Redirect{Fd: fd, DupTo: to}, nil
	}
	return Redirect{}, &UnsupportedError{What: "redirection " + r.op + " on the node command line"}
}

// Quote quotes s for a POSIX shell: the result is one word that any
// POSIX shell turns back into exactly s.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
