package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lxcbot/lxcbot/migrations"
)

// Postgres is a throwaway Postgres server listening only on a Unix socket.
type Postgres struct {
	dir     string // data dir and socket dir parent
	sockDir string
	user    string
	p       *proc
	launch  func() (*proc, error) // starts the server on the existing data

	mu       sync.Mutex // serialises CREATE DATABASE ... TEMPLATE
	seq      atomic.Int64
	migrated bool
}

// The server is shared by every test in one test binary: starting it takes
// about a second, cloning a database from the migrated template about 50 ms.
var (
	pgOnce   sync.Once
	pgShared *Postgres
	pgErr    error
)

// Main runs the tests and then stops the servers this package started.
// Use it from TestMain: func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }.
func Main(m *testing.M) int {
	code := m.Run()
	if pgShared != nil {
		pgShared.Stop()
	}
	return code
}

// PostgresDSN returns the DSN of a fresh database, migrated to the latest
// schema, for this test only. It is dropped when the test ends.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	pg := sharedPostgres(t)
	if err := pg.ensureTemplate(); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return pg.newDatabase(t, "lxcbot_tmpl")
}

// EmptyPostgresDSN returns the DSN of a fresh, empty (unmigrated) database.
func EmptyPostgresDSN(t testing.TB) string {
	t.Helper()
	return sharedPostgres(t).newDatabase(t, "template0")
}

// SharedPostgres returns the test binary's Postgres server, for tests that
// need to stop and start it.
func SharedPostgres(t testing.TB) *Postgres {
	t.Helper()
	return sharedPostgres(t)
}

func sharedPostgres(t testing.TB) *Postgres {
	t.Helper()
	pgOnce.Do(func() { pgShared, pgErr = StartPostgres() })
	if pgErr != nil {
		t.Fatalf("testenv: %v", pgErr)
	}
	return pgShared
}

// PostgresBinDir finds the newest installed Postgres server binaries.
func PostgresBinDir() (string, error) {
	if d := os.Getenv("LXCBOT_PG_BINDIR"); d != "" {
		return d, nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		return "", fmt.Errorf("postgres server binaries (initdb, postgres) not found: run scripts/install-deps.sh (Debian: apt-get install postgresql)")
	}
	sort.Slice(matches, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(matches[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(matches[j]))))
		return vi < vj
	})
	return filepath.Dir(matches[len(matches)-1]), nil
}

// StartPostgres initialises and starts a server in a new temporary directory.
// As root it runs the server as the postgres system user (Postgres refuses root).
func StartPostgres() (*Postgres, error) {
	bin, err := PostgresBinDir()
	if err != nil {
		return nil, err
	}
	dir, err := mkdirShared("lxcbot-pg-")
	if err != nil {
		return nil, fmt.Errorf("creating postgres dir: %w", err)
	}
	pg := &Postgres{dir: dir, sockDir: dir, user: "postgres"}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root needs the postgres system user (apt-get install postgresql): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("chown postgres dir: %w", err)
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "--no-sync", "-U", pg.user, "--auth=trust",
		"-E", "UTF8", "--locale=C", "-D", data)
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w: %s", err, lastLines(string(out), 5))
	}
	pg.launch = func() (*proc, error) {
		cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data,
			"-c", "listen_addresses=", "-k", pg.sockDir, "-p", "5432",
			"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
			"-c", "max_connections=300", "-c", "shared_buffers=32MB")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		logFile, err := os.OpenFile(filepath.Join(dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err == nil {
			cmd.Stdout, cmd.Stderr = logFile, logFile
			defer logFile.Close()
		}
		return startProc(cmd, syscall.SIGQUIT)
	}
	if err := pg.start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return pg, nil
}

// start launches the server on its existing data and waits until it
// accepts connections.
func (pg *Postgres) start() error {
	p, err := pg.launch()
	if err != nil {
		return err
	}
	pg.p = p
	err = p.waitFor("postgres", 30*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, pg.DSN("postgres"))
		if err != nil {
			return false
		}
		c.Close(ctx)
		return true
	})
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(pg.dir, "postgres.log"))
		_ = p.stop(syscall.SIGQUIT, 5*time.Second)
		return fmt.Errorf("%w: %s", err, lastLines(string(log), 5))
	}
	return nil
}

// Halt stops the server (a fast shutdown: every client is cut off and open
// transactions are aborted) but keeps its data and socket directory, so
// Restart can bring the same databases back on the same socket. For tests
// of a database outage. Not SIGQUIT: with synchronous_commit=off an
// immediate shutdown loses the last commits, which a production server
// (synchronous_commit=on) would keep.
func (pg *Postgres) Halt() {
	if pg.p != nil {
		_ = pg.p.stop(syscall.SIGINT, 30*time.Second)
	}
}

// Restart starts the server again on its data after Halt (halting it first
// if it still runs) and waits until it accepts connections.
func (pg *Postgres) Restart(t testing.TB) {
	t.Helper()
	pg.Halt()
	if err := pg.start(); err != nil {
		t.Fatalf("testenv: restarting postgres: %v", err)
	}
}

// DSN returns the DSN of database db on this server.
func (pg *Postgres) DSN(db string) string {
	return fmt.Sprintf("host=%s port=5432 user=%s dbname=%s sslmode=disable", pg.sockDir, pg.user, db)
}

// Dir is the server's temporary directory (data and socket).
func (pg *Postgres) Dir() string { return pg.dir }

// Pid returns the postmaster's process id.
func (pg *Postgres) Pid() int { return pg.p.Pid() }

// Stop shuts the server down and removes its files.
func (pg *Postgres) Stop() {
	if pg.p != nil {
		_ = pg.p.stop(syscall.SIGQUIT, 5*time.Second)
	}
	os.RemoveAll(pg.dir)
}

// Exec runs one statement in the server's postgres database.
func (pg *Postgres) Exec(ctx context.Context, sql string) error {
	c, err := pgx.Connect(ctx, pg.DSN("postgres"))
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, sql)
	return err
}

func (pg *Postgres) ensureTemplate() error {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	if pg.migrated {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := pg.Exec(ctx, "CREATE DATABASE lxcbot_tmpl"); err != nil {
		return fmt.Errorf("creating template database: %w", err)
	}
	if err := migrations.Up(ctx, pg.DSN("lxcbot_tmpl")); err != nil {
		return fmt.Errorf("migrating template database: %w", err)
	}
	pg.migrated = true
	return nil
}

func (pg *Postgres) newDatabase(t testing.TB, template string) string {
	t.Helper()
	name := fmt.Sprintf("t%d", pg.seq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pg.mu.Lock()
	err := pg.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, template))
	pg.mu.Unlock()
	if err != nil {
		t.Fatalf("testenv: creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if pg.p.exited() {
			return
		}
		if err := pg.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)); err != nil {
			t.Logf("testenv: dropping database %s: %v", name, err)
		}
	})
	return pg.DSN(name)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
