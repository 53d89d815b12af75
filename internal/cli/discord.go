package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/lxcbot/lxcbot/internal/app"
	"github.com/lxcbot/lxcbot/internal/config"
)

func discordCommand() Command {
	var guild string
	return Command{
		Name:    "discord",
		Summary: "Discord helpers: `discord register` registers the /lxc application command (to one guild at once, or globally).",
		Usage:   "register [--guild ID]",
		Needs:   []string{config.EnvDiscordBotToken, config.EnvDatabaseURL, config.EnvRedisURL, config.EnvEncryptionKey},
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&guild, "guild", "", "register to this guild only (applies at once); default DISCORD_GUILD_ID, else global")
		},
		Run: func(ctx context.Context, env *Env, args []string) error {
			if len(args) != 1 || args[0] != "register" {
				return usageErrorf("expected the subcommand register")
			}
			if guild == "" {
				guild = env.Config.Discord.GuildID
			}
			a, err := app.New(ctx, app.Options{Config: env.Config, Logger: env.Logger})
			if err != nil {
				return err
			}
			defer a.Close()
			ad, err := app.NewDiscord(a, env.Config, env.Logger)
			if err != nil {
				return err
			}
			defer ad.Close()
			if err := ad.Register(ctx, guild); err != nil {
				return fmt.Errorf("registering /lxc: %w", err)
			}
			where := "globally (may take up to an hour to appear)"
			if guild != "" {
				where = "in guild " + guild
			}
			fmt.Fprintf(env.Stdout, "registered /lxc %s\n", where)
			return nil
		},
	}
}
