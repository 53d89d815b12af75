package pvesim

import (
	"context"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// SSHConfig is the ssh part of a node entry in the bot's configuration.
type SSHConfig struct {
	Addr     string `yaml:"addr"`
	User     string `yaml:"user"`
	Password string `yaml:"password,omitempty"`
	HostKey  string `yaml:"host_key,omitempty"`
}

// NodeConfig is one entry of the `nodes:` list in the bot's configuration.
type NodeConfig struct {
	Name           string     `yaml:"name"`
	APIURL         string     `yaml:"api_url"`
	TokenID        string     `yaml:"token_id"`
	TokenSecret    string     `yaml:"token_secret"`
	TLSFingerprint string     `yaml:"tls_fingerprint"`
	SSH            *SSHConfig `yaml:"ssh,omitempty"`
	Default        bool       `yaml:"default,omitempty"`
}

// NodeConfigs describes every simulated node for the bot's configuration.
// All nodes share the one API endpoint (it proxies, as a PVE cluster does);
// ssh gives each node's SSH endpoint and may be nil or incomplete.
func (s *Server) NodeConfigs(apiURL string, ssh map[string]SSHConfig) []NodeConfig {
	opts := s.c.Options()
	var out []NodeConfig
	for i, name := range s.c.NodeNames() {
		nc := NodeConfig{
			Name: name, APIURL: apiURL, TokenID: opts.TokenID, TokenSecret: opts.TokenSecret,
			TLSFingerprint: s.fingerprint, Default: i == 0,
		}
		if cfg, ok := ssh[name]; ok {
			cfg := cfg
			nc.SSH = &cfg
		}
		out = append(out, nc)
	}
	return out
}

// WriteNodesConfig writes the `nodes:` YAML snippet of the bot's
// configuration file.
func WriteNodesConfig(w io.Writer, nodes []NodeConfig) error {
	b, err := yaml.Marshal(map[string]any{"nodes": nodes})
	if err != nil {
		return fmt.Errorf("encoding nodes config: %w", err)
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("writing nodes config: %w", err)
	}
	return nil
}

// Run serves a simulated cluster on opts.Addr until ctx ends. It prints the
// API URL, the token and the certificate fingerprint to stdout once
// listening.
func Run(ctx context.Context, opts Options, stdout io.Writer) error {
	c := New(opts)
	srv, err := NewServer(c)
	if err != nil {
		return err
	}
	if err := srv.Start(c.Options().Addr); err != nil {
		return err
	}
	o := c.Options()
	fmt.Fprintf(stdout, "pvesim: %d nodes\napi_url: %s\ntoken_id: %s\ntoken_secret: %s\ntls_fingerprint: %s\n",
		o.Nodes, srv.URL(), o.TokenID, o.TokenSecret, srv.Fingerprint())
	<-ctx.Done()
	if err := srv.Close(); err != nil {
		return fmt.Errorf("stopping api server: %w", err)
	}
	return nil
}
