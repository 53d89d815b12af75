package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/lxcbot/lxcbot/internal/config"
)

// Command is one subcommand of the binary. Each lives in its own file with a
// constructor (versionCommand, migrateCommand, ...) listed in commands.
type Command struct {
	Name    string
	Summary string // one line for the command list
	Usage   string // arguments after the name, e.g. "[up|down|status]"
	// Needs lists settings the command cannot run without; Run is not
	// called, and the exit status is 2, when one is missing.
	Needs []string
	// NoConfig skips loading the configuration, for commands that must work
	// even when it is broken (version, help).
	NoConfig bool
	// Flags, if set, declares the command's flags on fs, binding them to
	// variables the constructor shares with Run. Flags may come before, after
	// or between arguments.
	Flags func(fs *flag.FlagSet)
	// Run does the work with the arguments that are not flags. A returned
	// *UsageError or *config.Error exits with status 2, any other error with 1.
	Run func(ctx context.Context, env *Env, args []string) error
}

// Env is what a command runs with: the process's streams and environment,
// the loaded configuration (nil for NoConfig commands) and a logger.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) (string, bool)
	Config *config.Config
	Logger *slog.Logger
}

// commands is the command table. Add a command by writing its file and
// listing its constructor here.
func commands() []Command {
	cmds := []Command{
		healthcheckCommand(),
		helpCommand(),
		keysCommand(),
		migrateCommand(),
		pvesimCommand(),
		demoCommand(),
		discordCommand(),
		serveCommand(),
		slackCommand(),
		templatesCommand(),
		workerCommand(),
		versionCommand(),
	}
	slices.SortFunc(cmds, func(a, b Command) int { return strings.Compare(a.Name, b.Name) })
	return cmds
}

func lookupCommand(name string) (Command, bool) {
	cmds := commands()
	i := slices.IndexFunc(cmds, func(c Command) bool { return c.Name == name })
	if i < 0 {
		return Command{}, false
	}
	return cmds[i], true
}

// UsageError reports a malformed command line; Run prints it with the
// command's usage and exits with status 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usageErrorf(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// flagSet returns cmd's flags in a set that reports errors instead of
// printing them or exiting, so Run decides what the user sees.
func (cmd Command) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("lxcbot "+cmd.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if cmd.Flags != nil {
		cmd.Flags(fs)
	}
	return fs
}

// parseArgs parses flags anywhere in args and returns the other arguments.
// Everything after "--" is an argument. A bad flag is a *UsageError; -h and
// --help return flag.ErrHelp.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &UsageError{Msg: err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// writeCommandUsage prints the command's usage line, summary and flags.
func writeCommandUsage(w io.Writer, cmd Command) {
	fmt.Fprintf(w, "usage: lxcbot %s", cmd.Name)
	if cmd.Usage != "" {
		fmt.Fprintf(w, " %s", cmd.Usage)
	}
	fmt.Fprintf(w, "\n\n%s\n", cmd.Summary)
	fs := cmd.flagSet()
	has := false
	fs.VisitAll(func(*flag.Flag) { has = true })
	if has {
		fmt.Fprintln(w, "\nflags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	if len(cmd.Needs) > 0 {
		fmt.Fprintf(w, "\nneeds: %s\n", strings.Join(cmd.Needs, ", "))
	}
}

// writeUsage prints the list of commands.
func writeUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: lxcbot <command> [flags] [arguments]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.Name, c.Summary)
	}
	fmt.Fprintln(w, "\nRun 'lxcbot help <command>' for a command's flags and arguments.")
	fmt.Fprintln(w, "Configuration comes from the environment and the file named by LXCBOT_CONFIG.")
}
