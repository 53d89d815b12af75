package slack

import (
	"fmt"
	"strings"
)

// ManifestOptions shape the app manifest.
type ManifestOptions struct {
	// SocketMode makes Slack deliver over a WebSocket the bot opens; no
	// public URL is needed and BaseURL is ignored.
	SocketMode bool
	// BaseURL is where the bot's HTTP server is reachable from Slack,
	// e.g. https://lxcbot.example.com (without a trailing slash).
	BaseURL string
}

// Scopes are the bot token scopes lxcbot needs.
var botScopes = []string{"commands", "chat:write", "chat:write.public", "files:write", "users:read", "usergroups:read"}

// Manifest returns a Slack app manifest (YAML) users can paste at
// api.slack.com/apps to create the app: the /lxc slash command,
// interactivity, the Home tab, and the events and scopes lxcbot uses.
func Manifest(opts ManifestOptions) string {
	base := strings.TrimRight(opts.BaseURL, "/")
	if base == "" {
		base = "https://lxcbot.example.com"
	}
	// In Socket Mode Slack needs no URLs at all.
	url := func(indent, key, path string) string {
		if opts.SocketMode {
			return ""
		}
		return "\n" + indent + key + ": " + base + path
	}
	var b strings.Builder
	fmt.Fprintf(&b, `display_information:
  name: lxcbot
  description: Create and run Proxmox VE LXC containers from Slack
  background_color: "#2c3e50"
features:
  app_home:
    home_tab_enabled: true
    messages_tab_enabled: true
    messages_tab_read_only_enabled: true
  bot_user:
    display_name: lxcbot
    always_online: true
  slash_commands:
    - command: /lxc
      description: Create and manage LXC containers
      usage_hint: "help | create | list | show <ct> | start <ct> …"
      should_escape: false%s
  shortcuts:
    - name: Create a container
      type: global
      callback_id: %s
      description: Open the create form
oauth_config:
  scopes:
    bot:
`, url("      ", "url", "/slack/commands"), ShortcutCreate)
	for _, s := range botScopes {
		fmt.Fprintf(&b, "      - %s\n", s)
	}
	fmt.Fprintf(&b, `settings:
  event_subscriptions:%s
    bot_events:
      - app_home_opened
      - app_mention
  interactivity:
    is_enabled: true%s
  org_deploy_enabled: false
  socket_mode_enabled: %t
  token_rotation_enabled: false
`, url("    ", "request_url", "/slack/events"), url("    ", "request_url", "/slack/interactions"), opts.SocketMode)
	return b.String()
}

// ShortcutCreate is the callback id of the "Create a container" shortcut.
const ShortcutCreate = "lxc_create"
