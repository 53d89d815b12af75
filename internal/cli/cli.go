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
	"github.com/lxcbot/lxcbot/internal/logging"
	"github.com/lxcbot/lxcbot/internal/secret"
)

// Exit statuses, as CONTRACT.md defines them.
const (
	ExitOK      = 0
	ExitFailure = 1 // the command ran and failed
	ExitUsage   = 2 // bad command line or configuration
)

// Run is the whole lxcbot binary: it runs the command named by args[0] and
// returns the process's exit status. It reads the environment only through
// env (os.LookupEnv in production), so tests call it in-process, in
// parallel, with their own environment and streams.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) (string, bool)) int {
	if len(args) == 0 {
		writeUsage(stderr)
		return ExitUsage
	}
	name, args := args[0], args[1:]
	switch name {
	case "-h", "-help", "--help":
		name = "help"
	case "-version", "--version":
		name = "version"
	}
	cmd, ok := lookupCommand(name)
	if !ok {
		fmt.Fprintf(stderr, "lxcbot: unknown command %q\n\n", name)
		writeUsage(stderr)
		return ExitUsage
	}

	positional, err := parseArgs(cmd.flagSet(), args)
	if errors.Is(err, flag.ErrHelp) {
		writeCommandUsage(stdout, cmd)
		return ExitOK
	}
	if err != nil {
		return usageFailure(stderr, cmd, err)
	}
	e := &Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: env,
		Logger: logging.New(stderr, slog.LevelInfo, logging.FormatJSON)}
	if !cmd.NoConfig {
		cfg, err := config.Load(env)
		if err == nil {
			err = cfg.Require(cmd.Needs...)
		}
		if err != nil {
			return configFailure(stderr, err)
		}
		e.Config = cfg
		e.Logger = cfg.Logger(stderr)
	}

	err = cmd.Run(ctx, e, positional)
	var ue *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ue):
		return usageFailure(stderr, cmd, err)
	case config.IsConfigError(err):
		return configFailure(stderr, err)
	}
	var secrets []string
	if e.Config != nil {
		secrets = e.Config.Secrets()
	}
	fmt.Fprintf(stderr, "lxcbot %s: %s\n", cmd.Name, oneLine(redact(err.Error(), secrets)))
	return ExitFailure
}

func usageFailure(stderr io.Writer, cmd Command, err error) int {
	fmt.Fprintf(stderr, "lxcbot %s: %s\n\n", cmd.Name, oneLine(err.Error()))
	writeCommandUsage(stderr, cmd)
	return ExitUsage
}

// configFailure writes exactly one line naming the setting at fault.
func configFailure(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "lxcbot: configuration: %s\n", oneLine(err.Error()))
	return ExitUsage
}

// redact blanks out every secret value that a library may have put into an
// error message, longest first so that a secret containing another is
// replaced whole.
func redact(msg string, secrets []string) string {
	secrets = slices.Clone(secrets)
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, s := range secrets {
		if len(s) >= 4 { // shorter strings would blank out ordinary words
			msg = strings.ReplaceAll(msg, s, secret.Redacted)
		}
	}
	return msg
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
