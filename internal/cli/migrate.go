package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/migrations"
)

func migrateCommand() Command {
	var to int64
	return Command{
		Name:    "migrate",
		Summary: "Apply (up, the default), roll back (down) or list (status) the database migrations.",
		Usage:   "[up|down|status] [--to VERSION]",
		Needs:   []string{config.EnvDatabaseURL},
		Flags: func(fs *flag.FlagSet) {
			fs.Int64Var(&to, "to", -1, "with down: roll back to this version instead of one step (0 removes every migration)")
		},
		Run: func(ctx context.Context, env *Env, args []string) error {
			action := "up"
			switch len(args) {
			case 0:
			case 1:
				action = args[0]
			default:
				return usageErrorf("expected one action, got %d arguments", len(args))
			}
			if to >= 0 && action != "down" {
				return usageErrorf("--to only applies to down")
			}
			dsn := env.Config.DatabaseURL.Reveal()
			switch action {
			case "up":
				if err := migrations.Up(ctx, dsn); err != nil {
					return err
				}
			case "down":
				var err error
				if to >= 0 {
					err = migrations.DownTo(ctx, dsn, to)
				} else {
					err = migrations.Down(ctx, dsn)
				}
				if err != nil {
					return err
				}
			case "status":
				return migrations.Status(ctx, dsn, env.Stdout)
			default:
				return usageErrorf("unknown action %q (want up, down or status)", action)
			}
			fmt.Fprintf(env.Stdout, "migrate %s: done\n", action)
			return migrations.Status(ctx, dsn, env.Stdout)
		},
	}
}
