package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/lxcbot/lxcbot/internal/adapters/discord"
	"github.com/lxcbot/lxcbot/internal/adapters/slack"
	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/store"
)

// ChatRunner is a chat adapter of one serve process: it may hold a
// background connection (Slack Socket Mode, the Discord gateway) and drains
// acknowledged work at shutdown.
type ChatRunner interface {
	Run(ctx context.Context) error
	Drain(ctx context.Context)
}

// Chat is the set of configured chat adapters of one serve process.
type Chat struct {
	runners []ChatRunner
}

// Run runs every background connection until ctx ends.
func (c *Chat) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(c.runners))
	for _, r := range c.runners {
		wg.Add(1)
		go func(r ChatRunner) {
			defer wg.Done()
			if err := r.Run(ctx); err != nil && ctx.Err() == nil {
				errs <- err
			}
		}(r)
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// Drain lets every adapter finish acknowledged work.
func (c *Chat) Drain(ctx context.Context) {
	for _, r := range c.runners {
		r.Drain(ctx)
	}
}

// MountChat builds the chat adapters the configuration enables, mounts their
// HTTP routes, registers them as notification channels and picks up the job
// cards of creations still running.
func MountChat(ctx context.Context, a *App, routes *Routes, cfg *config.Config, log *slog.Logger) (*Chat, error) {
	c := &Chat{}
	if cfg.SlackEnabled() {
		r, err := mountSlack(ctx, a, routes, cfg, log.With("integration", "slack"))
		if err != nil {
			return nil, err
		}
		c.runners = append(c.runners, r)
	}
	if cfg.DiscordEnabled() {
		r, err := mountDiscord(ctx, a, routes, cfg, log.With("integration", "discord"))
		if err != nil {
			return nil, err
		}
		c.runners = append(c.runners, r)
	}
	return c, nil
}

type slackRunner struct {
	ad         *slack.Adapter
	socketMode bool
}

func (s slackRunner) Run(ctx context.Context) error {
	if !s.socketMode {
		<-ctx.Done()
		return nil
	}
	return s.ad.RunSocketMode(ctx)
}

func (s slackRunner) Drain(ctx context.Context) { _ = s.ad.Close(ctx) }

func mountSlack(ctx context.Context, a *App, routes *Routes, cfg *config.Config, log *slog.Logger) (ChatRunner, error) {
	ad, err := slack.New(slack.Config{BotToken: cfg.Slack.BotToken, SigningSecret: cfg.Slack.SigningSecret,
		AppToken: cfg.Slack.AppToken, APIURL: cfg.Slack.APIURL},
		slack.Deps{Router: a.Router(), Deduper: a.Deduper(), Cards: a.Store(), Log: log, Metrics: a.Metrics()})
	if err != nil {
		return nil, fmt.Errorf("starting the Slack adapter: %w", err)
	}
	if !cfg.Slack.SigningSecret.IsZero() {
		h := ad.Handler()
		for _, p := range []string{"/slack/commands", "/slack/interactions", "/slack/events"} {
			routes.Mount(p, h)
		}
	}
	a.SetNotifier(provision.PlatformSlack, func(ctx context.Context, channel, text string) error {
		return ad.Notify(ctx, channel, text)
	})
	resumeCards(ctx, a, provision.PlatformSlack, ad.Resume, log)
	return slackRunner{ad: ad, socketMode: !cfg.Slack.AppToken.IsZero()}, nil
}

type discordRunner struct {
	ad      *discord.Adapter
	gateway bool
}

func (d discordRunner) Run(ctx context.Context) error {
	if !d.gateway {
		<-ctx.Done()
		return nil
	}
	return d.ad.RunGateway(ctx)
}

func (d discordRunner) Drain(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		d.ad.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	d.ad.Close()
}

// NewDiscord builds the Discord adapter from the configuration (also used by
// `lxcbot discord register`).
func NewDiscord(a *App, cfg *config.Config, log *slog.Logger) (*discord.Adapter, error) {
	ad, err := discord.New(discord.Config{AppID: cfg.Discord.AppID, BotToken: cfg.Discord.BotToken,
		PublicKey: cfg.Discord.PublicKey, APIURL: cfg.Discord.APIURL, Router: a.Router(), Dedupe: a.Deduper(),
		Store: discord.NewRedisStore(a.Redis()), Cards: a.Store(), Log: log, Metrics: a.Metrics()})
	if err != nil {
		return nil, fmt.Errorf("starting the Discord adapter: %w", err)
	}
	return ad, nil
}

func mountDiscord(ctx context.Context, a *App, routes *Routes, cfg *config.Config, log *slog.Logger) (ChatRunner, error) {
	ad, err := NewDiscord(a, cfg, log)
	if err != nil {
		return nil, err
	}
	if cfg.Discord.PublicKey != "" {
		routes.Mount("/discord/interactions", ad.Handler())
	}
	a.SetNotifier(provision.PlatformDiscord, ad.NotifyText)
	resumeCards(ctx, a, provision.PlatformDiscord, ad.Resume, log)
	return discordRunner{ad: ad, gateway: cfg.Discord.Gateway}, nil
}

// resumeCards keeps editing the job cards of creations that were running
// when this process started (posted by an earlier process or a replica).
func resumeCards(ctx context.Context, a *App, platform provision.Platform,
	resume func(context.Context, string, provision.Origin) error, log *slog.Logger) {
	for _, st := range []provision.State{provision.StatePending, provision.StateCreating} {
		cs, err := a.Store().ListContainers(ctx, store.ContainerFilter{State: st})
		if err != nil {
			log.Warn("listing running creations to resume their job cards", "err", err)
			return
		}
		for _, ct := range cs {
			if ct.Origin.Platform != platform {
				continue
			}
			if err := resume(ctx, ct.ID, ct.Origin); err != nil {
				log.Warn("resuming a job card", "container", ct.ID, "err", err)
			}
		}
	}
}

// Redis returns the App's Redis client (the Discord adapter keeps long button
// values and interaction state there).
func (a *App) Redis() redis.UniversalClient { return a.rdb }
