package config

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/lxcbot/lxcbot/internal/logging"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/secret"
)

// Names of the environment variables, which are also the names settings go
// by in errors and in Require.
const (
	EnvConfigFile         = "LXCBOT_CONFIG"
	EnvDatabaseURL        = "DATABASE_URL"
	EnvRedisURL           = "REDIS_URL"
	EnvEncryptionKey      = "LXCBOT_ENCRYPTION_KEY"
	EnvPreviousKeys       = "LXCBOT_ENCRYPTION_KEY_PREVIOUS"
	EnvHTTPAddr           = "LXCBOT_HTTP_ADDR"
	EnvTemplatesDir       = "LXCBOT_TEMPLATES_DIR"
	EnvAdmins             = "LXCBOT_ADMINS"
	EnvLogLevel           = "LXCBOT_LOG_LEVEL"
	EnvLogFormat          = "LXCBOT_LOG_FORMAT"
	EnvSlackBotToken      = "SLACK_BOT_TOKEN"
	EnvSlackSigningSecret = "SLACK_SIGNING_SECRET"
	EnvSlackAppToken      = "SLACK_APP_TOKEN"
	EnvSlackAPIURL        = "SLACK_API_URL"
	EnvDiscordBotToken    = "DISCORD_BOT_TOKEN"
	EnvDiscordAppID       = "DISCORD_APP_ID"
	EnvDiscordGateway     = "DISCORD_GATEWAY"
	EnvDiscordPublicKey   = "DISCORD_PUBLIC_KEY"
	EnvDiscordAPIURL      = "DISCORD_API_URL"
	EnvDiscordGuildID     = "DISCORD_GUILD_ID"
)

// Config is the resolved configuration. Every secret is a secret.String, so a
// Config can be printed, marshalled or logged whole without disclosing one.
// Secret fields must stay exported: fmt skips the redacting methods of
// unexported fields.
type Config struct {
	File string `json:"file,omitempty"` // the LXCBOT_CONFIG file, if any

	DatabaseURL   secret.String `json:"database_url"`
	RedisURL      secret.String `json:"redis_url"`
	EncryptionKey secret.String `json:"encryption_key"` // 64 hex characters; see Key
	// PreviousKeys are retired keys, comma separated, that still open values
	// sealed before a rotation; new values are sealed with EncryptionKey.
	PreviousKeys secret.String         `json:"previous_keys"`
	HTTPAddr     string                `json:"http_addr"`
	TemplatesDir string                `json:"templates_dir,omitempty"`
	Admins       []provision.Principal `json:"admins,omitempty"` // bootstrap admins
	LogLevel     slog.Level            `json:"log_level"`
	LogFormat    logging.Format        `json:"log_format"`

	Slack   Slack   `json:"slack"`
	Discord Discord `json:"discord"`

	Nodes         []Node        `json:"nodes,omitempty"`
	Roles         Roles         `json:"roles"`
	Notifications Notifications `json:"notifications"`

	// sources maps a setting's name to where its value came from.
	sources map[string]string
}

// Slack holds the Slack settings. The bot token enables Slack, the signing
// secret the HTTP endpoints, the app token Socket Mode.
type Slack struct {
	BotToken      secret.String `json:"bot_token"`
	SigningSecret secret.String `json:"signing_secret"`
	AppToken      secret.String `json:"app_token"`
	APIURL        string        `json:"api_url"` // ends with "/"
}

// Discord holds the Discord settings. Bot token and application id together
// enable Discord; the public key enables the HTTP interactions endpoint.
type Discord struct {
	BotToken  secret.String `json:"bot_token"`
	AppID     string        `json:"app_id,omitempty"`
	Gateway   bool          `json:"gateway"`
	PublicKey string        `json:"public_key,omitempty"` // hex Ed25519 public key
	APIURL    string        `json:"api_url"`              // ends with "/"
	GuildID   string        `json:"guild_id,omitempty"`
}

// Node is a Proxmox VE node declared in the configuration file.
type Node struct {
	Name               string        `json:"name"`
	APIURL             string        `json:"api_url"`
	TokenID            string        `json:"token_id"`
	TokenSecret        secret.String `json:"token_secret"`
	TLSFingerprint     string        `json:"tls_fingerprint,omitempty"` // AB:CD:… (SHA-256, upper case)
	InsecureSkipVerify bool          `json:"insecure_skip_verify,omitempty"`
	SSH                SSH           `json:"ssh"`
	Default            bool          `json:"default,omitempty"`
}

// SSH is how the bot reaches a node's shell to run pct.
type SSH struct {
	Addr           string        `json:"addr,omitempty"` // host:port
	User           string        `json:"user,omitempty"`
	Password       secret.String `json:"password"`
	PrivateKeyFile string        `json:"private_key_file,omitempty"`
	PrivateKey     secret.String `json:"private_key"`        // PEM read from PrivateKeyFile
	HostKey        string        `json:"host_key,omitempty"` // SHA256:… fingerprint
}

// Roles binds chat users to roles at start-up.
type Roles struct {
	Admins    []provision.Principal `json:"admins,omitempty"`
	Operators []provision.Principal `json:"operators,omitempty"`
	Viewers   []provision.Principal `json:"viewers,omitempty"`
}

// Notifications says where team notifications go on each platform.
type Notifications struct {
	Slack   *Notify `json:"slack,omitempty"`
	Discord *Notify `json:"discord,omitempty"`
}

// Notify is one platform's notification channel and the events it receives.
type Notify struct {
	Channel string   `json:"channel"`
	Events  []string `json:"events"`
}

// NotifyEvents are the event kinds a notification channel can receive.
func NotifyEvents() []string {
	return []string{"created", "failed", "deleted", "lifecycle", "drift", "node"}
}

// Require returns a configuration *Error naming the first of names that has
// no value. Commands call it with the settings they cannot run without.
func (c *Config) Require(names ...string) error {
	for _, name := range names {
		if c.sources[name] == "" {
			return errorf(name, fmt.Sprintf("required but not set (set it in the environment, in %s_FILE or in the %s file)", name, EnvConfigFile))
		}
	}
	return nil
}

// Source tells where a setting's value came from: "environment",
// "<NAME>_FILE", the configuration file's path, "default", or "" when unset.
func (c *Config) Source(name string) string { return c.sources[name] }

// Key returns the encryption key. Load has validated it, so the error only
// reports that it is not set.
func (c *Config) Key() (secret.Key, error) {
	if c.EncryptionKey.IsZero() {
		return secret.Key{}, c.Require(EnvEncryptionKey)
	}
	k, err := secret.ParseKey(c.EncryptionKey.Reveal())
	if err != nil {
		return secret.Key{}, errorf(EnvEncryptionKey, err.Error())
	}
	return k, nil
}

// Keyring returns the keyring: EncryptionKey seals, previous keys only open.
func (c *Config) Keyring() (*secret.Keyring, error) {
	primary, err := c.Key()
	if err != nil {
		return nil, err
	}
	var old []secret.Key
	if !c.PreviousKeys.IsZero() {
		for _, s := range strings.Split(c.PreviousKeys.Reveal(), ",") {
			k, err := secret.ParseKey(s)
			if err != nil {
				return nil, errorf(EnvPreviousKeys, err.Error())
			}
			old = append(old, k)
		}
	}
	kr, err := secret.NewKeyring(primary, old...)
	if err != nil {
		return nil, errorf(EnvEncryptionKey, err.Error())
	}
	return kr, nil
}

// SlackEnabled reports whether Slack is configured.
func (c *Config) SlackEnabled() bool { return !c.Slack.BotToken.IsZero() }

// DiscordEnabled reports whether Discord is configured.
func (c *Config) DiscordEnabled() bool { return !c.Discord.BotToken.IsZero() }

// DefaultNode returns the node marked default, or the only node.
func (c *Config) DefaultNode() (Node, bool) {
	if i := slices.IndexFunc(c.Nodes, func(n Node) bool { return n.Default }); i >= 0 {
		return c.Nodes[i], true
	}
	if len(c.Nodes) == 1 {
		return c.Nodes[0], true
	}
	return Node{}, false
}

// Logger returns a logger writing to w at the configured level and format.
func (c *Config) Logger(w io.Writer) *slog.Logger {
	return logging.New(w, c.LogLevel, c.LogFormat)
}

// LogValue summarises the configuration for logs: which features are on and
// which secrets are set, never their values.
func (c *Config) LogValue() slog.Value {
	set := func(s secret.String) string {
		if s.IsZero() {
			return "unset"
		}
		return "set"
	}
	names := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		names[i] = n.Name
	}
	return slog.GroupValue(
		slog.String("file", c.File),
		slog.String("database_url", set(c.DatabaseURL)),
		slog.String("redis_url", set(c.RedisURL)),
		slog.String("encryption_key", set(c.EncryptionKey)),
		slog.String("http_addr", c.HTTPAddr),
		slog.String("templates_dir", c.TemplatesDir),
		slog.Int("admins", len(c.Admins)),
		slog.Bool("slack", c.SlackEnabled()),
		slog.Bool("slack_http", !c.Slack.SigningSecret.IsZero()),
		slog.Bool("slack_socket_mode", !c.Slack.AppToken.IsZero()),
		slog.Bool("discord", c.DiscordEnabled()),
		slog.Bool("discord_http", c.Discord.PublicKey != ""),
		slog.Any("nodes", names),
	)
}

// Provision converts the node to the domain's form for upserting.
func (n Node) Provision() provision.Node {
	return provision.Node{
		Name:               n.Name,
		APIURL:             n.APIURL,
		TokenID:            n.TokenID,
		TokenSecret:        n.TokenSecret,
		TLSFingerprint:     n.TLSFingerprint,
		InsecureSkipVerify: n.InsecureSkipVerify,
		SSHAddr:            n.SSH.Addr,
		SSHUser:            n.SSH.User,
		SSHPassword:        n.SSH.Password,
		SSHPrivateKey:      n.SSH.PrivateKey,
		SSHHostKey:         n.SSH.HostKey,
		IsDefault:          n.Default,
	}
}

// Secrets returns every secret value that is set, and the passwords inside
// the database and Redis URLs, so that the one place that turns errors into
// output can blank them out of messages written by libraries.
func (c *Config) Secrets() []string {
	all := []secret.String{c.DatabaseURL, c.RedisURL, c.EncryptionKey, c.PreviousKeys,
		c.Slack.BotToken, c.Slack.SigningSecret, c.Slack.AppToken, c.Discord.BotToken}
	for _, n := range c.Nodes {
		all = append(all, n.TokenSecret, n.SSH.Password, n.SSH.PrivateKey)
	}
	var out []string
	for _, s := range all {
		if !s.IsZero() {
			out = append(out, s.Reveal())
		}
	}
	for _, s := range []secret.String{c.DatabaseURL, c.RedisURL} {
		if u, err := url.Parse(s.Reveal()); err == nil && u.User != nil {
			if pw, ok := u.User.Password(); ok && pw != "" {
				out = append(out, pw, url.QueryEscape(pw), url.PathEscape(pw))
			}
		}
		out = append(out, keywordPasswords(s.Reveal())...)
	}
	return out
}

// keywordPasswords finds password=... in a key=value connection string.
func keywordPasswords(dsn string) []string {
	var out []string
	for _, field := range strings.Fields(dsn) {
		if v, ok := strings.CutPrefix(field, "password="); ok && v != "" {
			out = append(out, v, strings.Trim(v, "'"))
		}
	}
	return out
}

// Clone returns a copy that can be changed without touching c.
func (c *Config) Clone() *Config {
	d := *c
	d.sources = maps.Clone(c.sources)
	d.Nodes = slices.Clone(c.Nodes)
	d.Admins = slices.Clone(c.Admins)
	return &d
}

// Provided records that a program set a setting itself (the demo fills in
// its own database, Redis and key), so Require accepts it; source says where
// the value came from.
func (c *Config) Provided(name, source string) {
	if c.sources == nil {
		c.sources = map[string]string{}
	}
	c.sources[name] = source
}
