package catalog

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// ParseError is a problem in one catalog file. It names the file and, where
// there is one, the line. errors.Is(err, provision.ErrInvalid) holds for it.
type ParseError struct {
	File string // path inside the template directory, e.g. template.conf
	Line int    // 1-based; 0 when the problem is the whole file
	Err  error
}

func (e *ParseError) Error() string {
	return location(e.File, e.Line) + ": " + e.Err.Error()
}

func (e *ParseError) Unwrap() error { return e.Err }

// Is makes every ParseError an invalid-input error for callers that map
// domain errors to replies.
func (e *ParseError) Is(target error) bool { return target == provision.ErrInvalid }

// Warning is something a catalog file does that is accepted but probably not
// meant, such as an unknown key or a stray file.
type Warning struct {
	File string
	Line int
	Msg  string
}

func (w Warning) String() string { return location(w.File, w.Line) + ": " + w.Msg }

func location(file string, line int) string {
	switch {
	case file == "" && line == 0:
		return "input"
	case file == "":
		return "line " + strconv.Itoa(line)
	case line == 0:
		return file
	}
	return file + ":" + strconv.Itoa(line)
}

func parseErrorf(file string, line int, format string, args ...any) error {
	return &ParseError{File: file, Line: line, Err: fmt.Errorf(format, args...)}
}

// inFile sets the file name of parse errors and warnings that came from a
// reader-based parser, which knows lines but not file names.
func inFile(err error, file string) error {
	var pe *ParseError
	if errors.As(err, &pe) && pe.File == "" {
		return &ParseError{File: file, Line: pe.Line, Err: pe.Err}
	}
	return err
}

func prefixWarnings(ws []Warning, dir string) []Warning {
	out := make([]Warning, len(ws))
	for i, w := range ws {
		if dir != "" {
			w.File = dir + "/" + w.File
		}
		out[i] = w
	}
	return out
}
