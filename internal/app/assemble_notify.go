package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/internal/provision"
)

// ChannelPoster posts a team notification's text into a channel of one chat
// platform. The Slack and Discord adapters each provide one (SetNotifier).
type ChannelPoster func(ctx context.Context, channel, text string) error

// WorkspaceSettings reads where each team wants its notifications.
// *store.DB satisfies it.
type WorkspaceSettings interface {
	GetWorkspace(ctx context.Context, platform provision.Platform, externalID string) (provision.Workspace, error)
	ListWorkspaces(ctx context.Context) ([]provision.Workspace, error)
}

// notifiers routes team notifications: it reads the team's settings (set with
// /lxc notify, else the configuration file's per-platform default) and hands
// the text to the poster registered for the platform. It is the
// provision.Notifier lifecycle and the reconciler announce through; a
// platform without a poster (not running in this process) is skipped.
type notifiers struct {
	settings WorkspaceSettings
	log      *slog.Logger

	mu       sync.RWMutex
	posters  map[provision.Platform]ChannelPoster
	defaults map[provision.Platform]config.Notify
}

var _ provision.Notifier = (*notifiers)(nil)

func newNotifiers(settings WorkspaceSettings, cfg config.Notifications, log *slog.Logger) *notifiers {
	n := &notifiers{settings: settings, log: log, posters: map[provision.Platform]ChannelPoster{},
		defaults: map[provision.Platform]config.Notify{}}
	if cfg.Slack != nil {
		n.defaults[provision.PlatformSlack] = *cfg.Slack
	}
	if cfg.Discord != nil {
		n.defaults[provision.PlatformDiscord] = *cfg.Discord
	}
	return n
}

func (n *notifiers) set(platform provision.Platform, p ChannelPoster) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if p == nil {
		delete(n.posters, platform)
		return
	}
	n.posters[platform] = p
}

// target is one channel that receives a notification.
type target struct {
	platform provision.Platform
	channel  string
}

// Notify delivers n to the team it concerns, or to every team when it
// names none (node and drift news).
func (n *notifiers) Notify(ctx context.Context, note provision.Notification) error {
	targets, err := n.targets(ctx, note)
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range targets {
		n.mu.RLock()
		post := n.posters[t.platform]
		n.mu.RUnlock()
		if post == nil {
			continue
		}
		if err := post(ctx, t.channel, note.Text); err != nil {
			errs = append(errs, fmt.Errorf("posting %s notification to %s channel %s: %w", note.Kind, t.platform, t.channel, err))
		}
	}
	return errors.Join(errs...)
}

func wants(events []string, kind provision.NotificationKind) bool {
	return slices.Contains(events, string(kind))
}

func (n *notifiers) targets(ctx context.Context, note provision.Notification) ([]target, error) {
	var out []target
	add := func(p provision.Platform, channel string, events []string) {
		if channel != "" && wants(events, note.Kind) && !slices.Contains(out, target{p, channel}) {
			out = append(out, target{p, channel})
		}
	}
	if note.Platform != "" && note.Workspace != "" {
		w, err := n.settings.GetWorkspace(ctx, note.Platform, note.Workspace)
		switch {
		case err == nil && w.NotifyChannel != "":
			add(w.Platform, w.NotifyChannel, w.NotifyEvents)
			return out, nil
		case err != nil && !errors.Is(err, provision.ErrNotFound):
			return nil, fmt.Errorf("reading notification settings: %w", err)
		}
		if d, ok := n.defaults[note.Platform]; ok {
			add(note.Platform, d.Channel, d.Events)
		}
		return out, nil
	}
	ws, err := n.settings.ListWorkspaces(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading notification settings: %w", err)
	}
	configured := map[provision.Platform]bool{}
	for _, w := range ws {
		if note.Platform != "" && w.Platform != note.Platform {
			continue
		}
		if w.NotifyChannel != "" {
			configured[w.Platform] = true
		}
		add(w.Platform, w.NotifyChannel, w.NotifyEvents)
	}
	for p, d := range n.defaults {
		if !configured[p] && (note.Platform == "" || note.Platform == p) {
			add(p, d.Channel, d.Events)
		}
	}
	return out, nil
}
