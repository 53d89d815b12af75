package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Load resolves the configuration from env, which looks a variable up the way
// os.LookupEnv does. Load never reads the process environment itself, so tests
// and several bots in one process each pass their own.
//
// For each setting the first of these that is present wins: the variable
// NAME, the file named by NAME_FILE (secrets only), the key in the
// LXCBOT_CONFIG file (or <key>_file there, for secrets), the default. An empty
// variable counts as unset. Giving both NAME and NAME_FILE is an error, as is
// any malformed value; every error is a *Error naming the setting.
//
// Load checks values, not presence: which settings must be set depends on the
// command, which calls Require.
func Load(env func(string) (string, bool)) (*Config, error) {
	lookup := func(name string) (string, bool) {
		v, ok := env(name)
		return v, ok && v != ""
	}
	var f *file
	if path, ok := lookup(EnvConfigFile); ok {
		var err error
		if f, err = readFile(path, lookup); err != nil {
			return nil, err
		}
	}
	return load(lookup, f)
}

// load resolves every setting from the environment and the parsed file f
// (nil when there is none).
func load(lookup func(string) (string, bool), f *file) (*Config, error) {
	c := &Config{sources: make(map[string]string)}
	if f != nil {
		c.File = f.path
	}
	for _, s := range settings() {
		v, src, err := resolve(s, lookup, f)
		if err != nil {
			return nil, err
		}
		if src == "" {
			continue
		}
		if err := s.apply(c, v); err != nil {
			reason := err.Error()
			if f != nil && src == f.path {
				reason += fmt.Sprintf(" (set as %s in %s)", s.key(), f.path)
			}
			return nil, errorf(s.name, reason)
		}
		c.sources[s.name] = src
	}

	if f != nil {
		if err := f.apply(c); err != nil {
			return nil, err
		}
	}
	if err := c.checkCombinations(); err != nil {
		return nil, err
	}
	return c, nil
}

// resolve finds a setting's raw value and says where it came from ("" when
// nowhere).
func resolve(s setting, lookup func(string) (string, bool), f *file) (value, source string, err error) {
	v, inEnv := lookup(s.name)
	if s.secret {
		fileVar := s.name + "_FILE"
		p, inFileVar := lookup(fileVar)
		switch {
		case inEnv && inFileVar:
			return "", "", errorf(s.name, fmt.Sprintf("both %s and %s are set; set only one", s.name, fileVar))
		case inFileVar:
			v, err := readSecretFile(p)
			if err != nil {
				return "", "", errorf(fileVar, err.Error())
			}
			return v, fileVar, nil
		}
	}
	if inEnv {
		return v, "environment", nil
	}
	if f != nil {
		v, ok, err := f.setting(s)
		if err != nil {
			return "", "", err
		}
		if ok {
			return v, f.path, nil
		}
	}
	if s.def != "" {
		return s.def, "default", nil
	}
	return "", "", nil
}

// maxSecretFile bounds what a *_FILE may hold; a PEM key is a few KiB.
const maxSecretFile = 1 << 20

// readSecretFile reads a secret from a file, without its trailing newline.
// Its errors carry the path, never the content.
func readSecretFile(path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", path, underlying(err))
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", path, underlying(err))
	}
	if len(b) > maxSecretFile {
		return "", fmt.Errorf("%s is larger than 1 MiB", path)
	}
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return v, nil
}

// underlying drops the operation and path that *fs.PathError repeats.
func underlying(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// relTo makes a relative path from the configuration file relative to the
// file's directory.
func relTo(base, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(base), p)
}

func (c *Config) checkCombinations() error {
	needs := func(name, other string) error {
		return errorf(name, fmt.Sprintf("is set but %s is not; both are needed", other))
	}
	if c.Slack.BotToken.IsZero() {
		if !c.Slack.SigningSecret.IsZero() {
			return needs(EnvSlackSigningSecret, EnvSlackBotToken)
		}
		if !c.Slack.AppToken.IsZero() {
			return needs(EnvSlackAppToken, EnvSlackBotToken)
		}
	}
	if !c.Discord.BotToken.IsZero() && c.Discord.AppID == "" {
		return needs(EnvDiscordBotToken, EnvDiscordAppID)
	}
	if c.Discord.BotToken.IsZero() && c.Discord.AppID != "" {
		return needs(EnvDiscordAppID, EnvDiscordBotToken)
	}
	return nil
}
