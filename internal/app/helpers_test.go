package app

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/pvesim/simenv"
	"github.com/lxcbot/lxcbot/internal/secret"
	"github.com/lxcbot/lxcbot/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// startSim starts a simulated two-node cluster for the test.
func startSim(t *testing.T) *simenv.Env {
	t.Helper()
	env, err := simenv.Start(context.Background(), simenv.Options{Nodes: 2})
	require.NoError(t, err)
	t.Cleanup(env.Close)
	return env
}

// configNode is a simulator node as the configuration file gives it.
func configNode(n provision.Node) config.Node {
	return config.Node{
		Name: n.Name, APIURL: n.APIURL, TokenID: n.TokenID, TokenSecret: n.TokenSecret,
		TLSFingerprint: n.TLSFingerprint, InsecureSkipVerify: n.InsecureSkipVerify, Default: n.IsDefault,
		SSH: config.SSH{Addr: n.SSHAddr, User: n.SSHUser, Password: n.SSHPassword, HostKey: n.SSHHostKey},
	}
}

type appOptions struct {
	templates fs.FS
	roles     config.Roles
	admins    []provision.Principal
	nodes     []provision.Node
	redisAddr string // "" = a fresh redis-server
	dsn       string // "" = a fresh migrated database
}

// testConfig loads a configuration the way the commands do, from an
// environment: a fresh migrated database, Redis and a new encryption key.
func testConfig(t testing.TB, o appOptions) *config.Config {
	t.Helper()
	key, err := secret.GenerateKey()
	require.NoError(t, err)
	if o.redisAddr == "" {
		o.redisAddr = testenv.RedisAddr(t)
	}
	if o.dsn == "" {
		o.dsn = testenv.PostgresDSN(t)
	}
	env := map[string]string{
		config.EnvDatabaseURL:   o.dsn,
		config.EnvRedisURL:      "redis://" + o.redisAddr,
		config.EnvEncryptionKey: key.Hex().Reveal(),
	}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)
	for _, n := range o.nodes {
		cfg.Nodes = append(cfg.Nodes, configNode(n))
	}
	cfg.Roles, cfg.Admins = o.roles, o.admins
	return cfg
}

// newApp builds the bot in-process with test timings.
func newApp(t testing.TB, o appOptions) *App {
	t.Helper()
	a, err := New(context.Background(), Options{Config: testConfig(t, o), TemplatesFS: o.templates, Fast: true,
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	return a
}
