package cli

import (
	"context"
)

func helpCommand() Command {
	return Command{
		Name:     "help",
		Summary:  "Show the commands, or one command's flags and arguments.",
		Usage:    "[command]",
		NoConfig: true,
		Run: func(_ context.Context, env *Env, args []string) error {
			switch len(args) {
			case 0:
				writeUsage(env.Stdout)
				return nil
			case 1:
				cmd, ok := lookupCommand(args[0])
				if !ok {
					return usageErrorf("unknown command %q", args[0])
				}
				writeCommandUsage(env.Stdout, cmd)
				return nil
			}
			return usageErrorf("expected at most one command name, got %d arguments", len(args))
		},
	}
}
