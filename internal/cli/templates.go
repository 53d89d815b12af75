package cli

import (
	"context"
	"fmt"
	"sort"

	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/provision/catalog"
	"github.com/lxcbot/lxcbot/internal/store"
)

func templatesCommand() Command {
	return Command{
		Name:    "templates",
		Summary: "Import templates from a directory (sync), or write one back in the directory format (export).",
		Usage:   "sync [DIR] | export NAME DIR",
		Needs:   []string{config.EnvDatabaseURL, config.EnvEncryptionKey},
		Run: func(ctx context.Context, env *Env, args []string) error {
			if len(args) == 0 {
				return usageErrorf("expected sync or export")
			}
			switch args[0] {
			case "sync":
				if len(args) > 2 {
					return usageErrorf("sync takes at most one directory")
				}
				dir := env.Config.TemplatesDir
				if len(args) == 2 {
					dir = args[1]
				}
				if dir == "" {
					return usageErrorf("sync needs a directory (or LXCBOT_TEMPLATES_DIR)")
				}
				return withStore(ctx, env, func(db *store.DB) error { return syncTemplates(ctx, env, db, dir) })
			case "export":
				if len(args) != 3 {
					return usageErrorf("export takes a template name and a directory")
				}
				return withStore(ctx, env, func(db *store.DB) error {
					ca := provision.NewCatalogAdmin(provision.CatalogAdminDeps{Store: db, Log: env.Logger,
						Dir: provision.TemplateDirFuncs{ExportFunc: catalog.Export}})
					if err := ca.Export(ctx, args[1], args[2]); err != nil {
						return err
					}
					fmt.Fprintf(env.Stdout, "exported %s to %s\n", args[1], args[2])
					return nil
				})
			default:
				return usageErrorf("unknown subcommand %q: expected sync or export", args[0])
			}
		},
	}
}

func withStore(ctx context.Context, env *Env, fn func(*store.DB) error) error {
	kr, err := env.Config.Keyring()
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, env.Config.DatabaseURL.Reveal(), kr, env.Logger)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db)
}

func syncTemplates(ctx context.Context, env *Env, db *store.DB, dir string) error {
	rep, err := catalog.Sync(ctx, db, dir, env.Logger)
	if err != nil {
		return err
	}
	for _, name := range rep.Templates {
		fmt.Fprintf(env.Stdout, "imported %s\n", name)
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(env.Stdout, "warning: %v\n", w)
	}
	failed := make([]string, 0, len(rep.Failed))
	for name := range rep.Failed {
		failed = append(failed, name)
	}
	sort.Strings(failed)
	for _, name := range failed {
		fmt.Fprintf(env.Stdout, "failed %s: %v\n", name, rep.Failed[name])
	}
	fmt.Fprintf(env.Stdout, "%d imported, %d failed\n", len(rep.Templates), len(failed))
	if len(failed) > 0 {
		return fmt.Errorf("%d template(s) could not be imported", len(failed))
	}
	return nil
}

func keysCommand() Command {
	return Command{
		Name: "keys",
		Summary: "Re-seal every stored secret with LXCBOT_ENCRYPTION_KEY after a rotation " +
			"(the old key goes in LXCBOT_ENCRYPTION_KEY_PREVIOUS until this has run).",
		Usage: "rotate",
		Needs: []string{config.EnvDatabaseURL, config.EnvEncryptionKey},
		Run: func(ctx context.Context, env *Env, args []string) error {
			if len(args) != 1 || args[0] != "rotate" {
				return usageErrorf("expected the subcommand rotate")
			}
			return withStore(ctx, env, func(db *store.DB) error {
				n, err := db.RotateSecrets(ctx)
				if err != nil {
					return fmt.Errorf("re-sealing stored secrets: %w", err)
				}
				fmt.Fprintf(env.Stdout, "re-sealed %d secret(s) with the current key\n", n)
				return nil
			})
		},
	}
}
