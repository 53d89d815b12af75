package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lxcbot/lxcbot/bench/internal/load"
	"github.com/lxcbot/lxcbot/internal/adapters/slack/slackfake"
	"github.com/lxcbot/lxcbot/internal/pvesim"
	"github.com/lxcbot/lxcbot/internal/pvesim/simenv"
	"github.com/lxcbot/lxcbot/internal/testenv"
)

// benchUser is the Slack user every benchmark command comes from; serve is
// told it is an admin.
const (
	benchUser    = "UBENCH"
	benchChannel = "CBENCH"
)

// serveOptions shape the environment lxcbot serve runs in.
type serveOptions struct {
	Nodes        int
	TaskDuration time.Duration
	Latency      time.Duration
	SleepScale   float64
	// RateLimit makes the fake Slack refuse a second message in a channel
	// within this window with 429 (0: no limit).
	RateLimit time.Duration
	// Concurrency is serve's --concurrency, the creation jobs its worker
	// runs at once (0: serve's default, 8).
	Concurrency int
}

// serveEnv is lxcbot serve, pinned to the server core, with everything it
// needs: a throwaway Postgres, redis-server, the simulated cluster and the
// fake Slack in this process.
type serveEnv struct {
	pg     *testenv.Postgres
	redis  *proc
	Sim    *simenv.Env
	Slack  *slackfake.Server
	tb     *cleanupTB
	serve  *proc
	addr   string
	DSN    string
	db     *pgx.Conn
	client *http.Client
}

// serveAvailable reports whether the binary has a serve command.
func serveAvailable(o options) error {
	if _, err := os.Stat(o.lxcbot); err != nil {
		return fmt.Errorf("%s not built (make build)", o.lxcbot)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := exec.CommandContext(ctx, o.lxcbot, "help", "serve").Run(); err != nil {
		return fmt.Errorf("this build of lxcbot has no serve command")
	}
	if _, err := testenv.PostgresBinDir(); err != nil {
		return fmt.Errorf("PostgreSQL server binaries missing (make deps): %w", err)
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		return fmt.Errorf("redis-server missing (make deps)")
	}
	return nil
}

func startServe(ctx context.Context, o options, m machine, so serveOptions) (env *serveEnv, err error) {
	e := &serveEnv{tb: &cleanupTB{}, client: load.NewClient(64, 30*time.Second)}
	defer func() {
		if err != nil {
			e.stop()
		}
	}()
	dir, err := os.MkdirTemp(o.work, "serve-")
	if err != nil {
		return nil, err
	}

	if e.pg, err = testenv.StartPostgres(); err != nil {
		return nil, fmt.Errorf("starting Postgres: %w", err)
	}
	if err := e.pg.Exec(ctx, "CREATE DATABASE lxcbot"); err != nil {
		return nil, fmt.Errorf("creating the database: %w", err)
	}
	e.DSN = e.pg.DSN("lxcbot")

	redisAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	host, port, _ := strings.Cut(redisAddr, ":")
	if e.redis, err = start("redis", dir, nil, "redis-server", "--port", port, "--bind", host,
		"--save", "", "--appendonly", "no", "--dir", dir); err != nil {
		return nil, err
	}
	if err := e.redis.waitReady(ctx, 10*time.Second, tcpOpen(redisAddr)); err != nil {
		return nil, err
	}

	if e.Sim, err = simenv.Start(ctx, simenv.Options{Nodes: so.Nodes, TaskDuration: so.TaskDuration,
		Latency: so.Latency, SleepScale: so.SleepScale}); err != nil {
		return nil, fmt.Errorf("starting the simulator: %w", err)
	}
	e.Slack = slackfake.New(e.tb)
	e.Slack.SetRateLimit(so.RateLimit)

	cfgPath := filepath.Join(dir, "lxcbot.yaml")
	f, err := os.OpenFile(cfgPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	err = pvesim.WriteNodesConfig(f, e.Sim.NodeConfigs())
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("writing the nodes configuration: %w", err)
	}

	if e.addr, err = freeAddr(); err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	envv := []string{
		"DATABASE_URL=" + e.DSN,
		"REDIS_URL=" + redisURL(redisAddr, so.Concurrency),
		"LXCBOT_ENCRYPTION_KEY=" + hex.EncodeToString(key),
		"LXCBOT_HTTP_ADDR=" + e.addr,
		"LXCBOT_CONFIG=" + cfgPath,
		"LXCBOT_ADMINS=slack:" + benchUser,
		"LXCBOT_TEMPLATES_DIR=" + filepath.Join(o.root, "examples", "templates"),
		"LXCBOT_LOG_LEVEL=warn",
		"SLACK_BOT_TOKEN=xoxb-bench",
		"SLACK_SIGNING_SECRET=" + benchSecret,
		"SLACK_API_URL=" + e.Slack.APIURL(),
	}
	serveArgs := []string{"serve"}
	if so.Concurrency > 0 {
		serveArgs = append(serveArgs, "--concurrency", strconv.Itoa(so.Concurrency))
	}
	name, args := pinned(m, serverCore, o.lxcbot, serveArgs...)
	if e.serve, err = start("lxcbot-serve", dir, envv, name, args...); err != nil {
		return nil, err
	}
	if err := e.serve.waitReady(ctx, 90*time.Second, httpOK("http://"+e.addr+"/readyz")); err != nil {
		return nil, err
	}
	if e.db, err = pgx.Connect(ctx, e.DSN); err != nil {
		return nil, fmt.Errorf("connecting to the bench database: %w", err)
	}
	// Every section talks to serve through signed slash commands only.
	status, body, err := command(ctx, e, "help", e.responseURL("probe"), "probe")
	if err != nil {
		return nil, fmt.Errorf("probing /slack/commands: %w", err)
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("serve answered a signed /lxc help with %d (%.100s): Slack's HTTP endpoints are not mounted in this build", status, body)
	}
	return e, nil
}

// redisURL is serve's REDIS_URL. With more worker slots than the default,
// the Redis client's pool is sized to them: go-redis defaults to 10
// connections per GOMAXPROCS, which is 10 for a serve pinned to one core,
// and every running creation holds a blocking progress-stream read (the
// job and the chat card following it each hold one). At --concurrency 50
// on that default pool, N = 50 stalled on "redis: connection pool timeout"
// with nothing ready after 200 s.
func redisURL(addr string, concurrency int) string {
	u := "redis://" + addr + "/0"
	if concurrency > 8 {
		u += "?pool_size=" + strconv.Itoa(redisPoolFor(concurrency))
	}
	return u
}

func redisPoolFor(concurrency int) int { return 3*concurrency + 16 }

func (e *serveEnv) commandsURL() string { return "http://" + e.addr + "/slack/commands" }

// Pid is serve's process id.
func (e *serveEnv) Pid() int { return e.serve.Pid() }

// responseURL is a response_url on the fake Slack.
func (e *serveEnv) responseURL(id string) string { return e.Slack.ResponseURL(id) }

func (e *serveEnv) stop() {
	if e == nil {
		return
	}
	if e.db != nil {
		_ = e.db.Close(context.Background())
	}
	e.serve.stop(10 * time.Second)
	e.tb.run()
	if e.Sim != nil {
		e.Sim.Close()
	}
	e.redis.stop(5 * time.Second)
	if e.pg != nil {
		e.pg.Stop()
	}
}

// cleanupTB lets test helpers that only register cleanups (the fake Slack)
// run outside a test. Any other testing.TB method is a programming error.
type cleanupTB struct {
	testing.TB
	fns []func()
}

func (c *cleanupTB) Cleanup(f func()) { c.fns = append(c.fns, f) }
func (c *cleanupTB) Helper()          {}

func (c *cleanupTB) run() {
	for i := len(c.fns) - 1; i >= 0; i-- {
		c.fns[i]()
	}
	c.fns = nil
}

// command posts one signed /lxc command and returns the status and reply.
func command(ctx context.Context, e *serveEnv, text, responseURL, seq string) (int, []byte, error) {
	body := load.CommandBody(text, benchUser, benchChannel, responseURL, seq)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.commandsURL(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", load.Sign([]byte(benchSecret), ts, body))
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
