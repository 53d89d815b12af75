package config

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/lxcbot/lxcbot/internal/logging"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/secret"
)

// setting is one environment variable. Its key in the YAML file is its name
// in lower case without the LXCBOT_ prefix (DATABASE_URL → database_url,
// LXCBOT_HTTP_ADDR → http_addr); secrets also accept <key>_file there.
type setting struct {
	name   string
	secret bool
	path   bool   // a filesystem path: relative paths in the file are relative to it
	def    string // default value; "" for none
	// apply validates v and stores it. Its error is the reason alone; the
	// caller names the setting. It must not quote v when secret is true.
	apply func(c *Config, v string) error
}

func (s setting) key() string { return strings.ToLower(strings.TrimPrefix(s.name, "LXCBOT_")) }

// settings lists every environment variable of CONTRACT.md's table.
func settings() []setting {
	return []setting{
		{name: EnvDatabaseURL, secret: true, apply: func(c *Config, v string) error {
			c.DatabaseURL = secret.String(v)
			return checkDatabaseURL(v)
		}},
		{name: EnvRedisURL, secret: true, apply: func(c *Config, v string) error {
			c.RedisURL = secret.String(v)
			return checkRedisURL(v)
		}},
		{name: EnvEncryptionKey, secret: true, apply: func(c *Config, v string) error {
			c.EncryptionKey = secret.String(strings.TrimSpace(v))
			_, err := secret.ParseKey(v)
			if err != nil {
				return fmt.Errorf("%w; generate one with: openssl rand -hex 32", err)
			}
			return nil
		}},
		{name: EnvPreviousKeys, secret: true, apply: func(c *Config, v string) error {
			c.PreviousKeys = secret.String(strings.TrimSpace(v))
			for _, k := range strings.Split(v, ",") {
				if _, err := secret.ParseKey(k); err != nil {
					return fmt.Errorf("each previous key %w", err)
				}
			}
			return nil
		}},
		{name: EnvHTTPAddr, def: ":8080", apply: func(c *Config, v string) error {
			c.HTTPAddr = v
			return checkListenAddr(v)
		}},
		{name: EnvTemplatesDir, path: true, apply: func(c *Config, v string) error {
			c.TemplatesDir = v
			return nil
		}},
		{name: EnvAdmins, apply: func(c *Config, v string) error {
			ps, err := parsePrincipals(strings.Split(v, ","))
			c.Admins = ps
			return err
		}},
		{name: EnvLogLevel, def: "info", apply: func(c *Config, v string) error {
			l, err := logging.ParseLevel(v)
			c.LogLevel = l
			return err
		}},
		{name: EnvLogFormat, def: "json", apply: func(c *Config, v string) error {
			f, err := logging.ParseFormat(v)
			c.LogFormat = f
			return err
		}},
		{name: EnvSlackBotToken, secret: true, apply: func(c *Config, v string) error {
			c.Slack.BotToken = secret.String(v)
			return checkPrefix(v, "xoxb-", "a Slack bot token")
		}},
		{name: EnvSlackSigningSecret, secret: true, apply: func(c *Config, v string) error {
			c.Slack.SigningSecret = secret.String(v)
			return nil
		}},
		{name: EnvSlackAppToken, secret: true, apply: func(c *Config, v string) error {
			c.Slack.AppToken = secret.String(v)
			return checkPrefix(v, "xapp-", "a Slack app-level token")
		}},
		{name: EnvSlackAPIURL, def: "https://slack.com/api/", apply: func(c *Config, v string) error {
			c.Slack.APIURL = v
			return checkBaseURL(v)
		}},
		{name: EnvDiscordBotToken, secret: true, apply: func(c *Config, v string) error {
			c.Discord.BotToken = secret.String(v)
			return nil
		}},
		{name: EnvDiscordAppID, apply: func(c *Config, v string) error {
			c.Discord.AppID = v
			return checkSnowflake(v)
		}},
		{name: EnvDiscordGateway, def: "true", apply: func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			c.Discord.Gateway = b
			return nil
		}},
		{name: EnvDiscordPublicKey, apply: func(c *Config, v string) error {
			c.Discord.PublicKey = strings.ToLower(v)
			if b, err := hex.DecodeString(v); err != nil || len(b) != 32 {
				return errors.New("must be the application's Ed25519 public key as 64 hex characters")
			}
			return nil
		}},
		{name: EnvDiscordAPIURL, def: "https://discord.com/api/v10/", apply: func(c *Config, v string) error {
			c.Discord.APIURL = v
			return checkBaseURL(v)
		}},
		{name: EnvDiscordGuildID, apply: func(c *Config, v string) error {
			c.Discord.GuildID = v
			return checkSnowflake(v)
		}},
	}
}

// The URL checks never wrap url.Parse's error: it quotes the whole URL,
// password included.

func checkDatabaseURL(v string) error {
	if scheme, _, ok := strings.Cut(v, "://"); ok {
		if scheme != "postgres" && scheme != "postgresql" {
			return errors.New("must be a postgres:// or postgresql:// URL, or key=value connection string")
		}
		if _, err := url.Parse(v); err != nil {
			return errors.New("is not a valid URL")
		}
		return nil
	}
	if !strings.Contains(v, "=") {
		return errors.New("must be a postgres:// or postgresql:// URL, or key=value connection string")
	}
	return nil
}

func checkRedisURL(v string) error {
	u, err := url.Parse(v)
	if err != nil {
		return errors.New("is not a valid URL")
	}
	switch u.Scheme {
	case "redis", "rediss":
		if u.Host == "" {
			return errors.New("has no host (expected redis://host:6379/0)")
		}
	case "unix":
		if u.Path == "" {
			return errors.New("has no socket path (expected unix:///path/to/redis.sock)")
		}
	case "redis+sentinel", "rediss+sentinel":
		if u.Host == "" || u.Query().Get("master_name") == "" {
			return errors.New("needs a sentinel host and master_name (expected redis+sentinel://sentinel1:26379/0?master_name=mymaster&addr=sentinel2:26379)")
		}
	case "redis+cluster", "rediss+cluster":
		if u.Host == "" {
			return errors.New("has no host (expected redis+cluster://node1:6379?addr=node2:6379)")
		}
	default:
		return errors.New("must be a redis://, rediss://, unix://, redis+sentinel:// or redis+cluster:// URL")
	}
	return nil
}

func checkListenAddr(v string) error {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("%q is not host:port (e.g. :8080 or 127.0.0.1:8080)", v)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has no valid port number", v)
	}
	return nil
}

func checkBaseURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", v)
	}
	if !strings.HasSuffix(v, "/") {
		return errors.New("must end with /")
	}
	return nil
}

func checkPrefix(v, prefix, what string) error {
	if !strings.HasPrefix(v, prefix) {
		return fmt.Errorf("must be %s (starting with %s)", what, prefix)
	}
	return nil
}

func checkSnowflake(v string) error {
	if _, err := strconv.ParseUint(v, 10, 64); err != nil {
		return fmt.Errorf("%q is not a Discord id (digits only)", v)
	}
	return nil
}

// parsePrincipals reads platform:userid entries; blank entries are skipped.
func parsePrincipals(items []string) ([]provision.Principal, error) {
	var out []provision.Principal
	for _, it := range items {
		it = strings.TrimSpace(it)
		if it == "" {
			continue
		}
		p, err := parsePrincipal(it)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func parsePrincipal(s string) (provision.Principal, error) {
	platform, id, ok := strings.Cut(s, ":")
	bad := fmt.Errorf("%q is not platform:userid (e.g. slack:U0123 or discord:4567)", s)
	if !ok || id == "" || strings.ContainsAny(id, " \t,:") {
		return provision.Principal{}, bad
	}
	switch p := provision.Platform(strings.ToLower(platform)); p {
	case provision.PlatformSlack, provision.PlatformDiscord, provision.PlatformConsole:
		return provision.Principal{Platform: p, UserID: id}, nil
	}
	return provision.Principal{}, fmt.Errorf("%q: platform must be slack, discord or console", s)
}
