package cli

import (
	"context"
	"flag"
	"fmt"
	"net/url"

	"github.com/lxcbot/lxcbot/internal/adapters/slack"
)

func slackCommand() Command {
	var (
		socketMode bool
		baseURL    string
	)
	return Command{
		Name:     "slack",
		Summary:  "Slack helpers: `slack manifest` prints an app manifest (YAML) to paste into api.slack.com/apps.",
		Usage:    "manifest [--socket-mode] [--url BASE]",
		NoConfig: true,
		Flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&socketMode, "socket-mode", false, "use Socket Mode (no public URL needed)")
			fs.StringVar(&baseURL, "url", "", "public base URL of lxcbot serve for the HTTP endpoints, e.g. https://lxcbot.example.com")
		},
		Run: func(ctx context.Context, env *Env, args []string) error {
			if len(args) != 1 || args[0] != "manifest" {
				return usageErrorf("expected the subcommand manifest")
			}
			if !socketMode {
				if baseURL == "" {
					return usageErrorf("--url is required without --socket-mode (Slack must reach /slack/commands, /slack/interactions and /slack/events)")
				}
				u, err := url.Parse(baseURL)
				if err != nil || u.Scheme != "https" || u.Host == "" {
					return usageErrorf("--url must be an https URL, got %q", baseURL)
				}
			}
			fmt.Fprint(env.Stdout, slack.Manifest(slack.ManifestOptions{SocketMode: socketMode, BaseURL: baseURL}))
			return nil
		},
	}
}
