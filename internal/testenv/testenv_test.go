package testenv_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/testenv"
)

func TestMain(m *testing.M) {
	if os.Getenv("TESTENV_CHILD") == "1" {
		child()
		return
	}
	os.Exit(testenv.Main(m))
}

func TestPostgresDatabasesAreMigratedAndIsolated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := testenv.PostgresDSN(t), testenv.PostgresDSN(t)
	require.NotEqual(t, a, b)
	ca, err := pgx.Connect(ctx, a)
	require.NoError(t, err)
	defer ca.Close(ctx)
	var n int
	require.NoError(t, ca.QueryRow(ctx, "SELECT count(*) FROM goose_db_version WHERE version_id > 0").Scan(&n))
	require.Positive(t, n, "template database is migrated")
	_, err = ca.Exec(ctx, "CREATE TABLE only_in_a (x int)")
	require.NoError(t, err)

	cb, err := pgx.Connect(ctx, b)
	require.NoError(t, err)
	defer cb.Close(ctx)
	var exists bool
	require.NoError(t, cb.QueryRow(ctx, "SELECT to_regclass('only_in_a') IS NOT NULL").Scan(&exists))
	require.False(t, exists, "databases are isolated")

	e := testenv.EmptyPostgresDSN(t)
	ce, err := pgx.Connect(ctx, e)
	require.NoError(t, err)
	defer ce.Close(ctx)
	require.NoError(t, ce.QueryRow(ctx, "SELECT to_regclass('goose_db_version') IS NOT NULL").Scan(&exists))
	require.False(t, exists, "empty database is not migrated")
}

func TestRedisStartsStopsRestarts(t *testing.T) {
	t.Parallel()
	r := testenv.StartRedis(t)
	require.Equal(t, "+PONG", redisPing(t, r.Addr))
	r.Restart(t)
	require.Equal(t, "+PONG", redisPing(t, r.Addr))
	r.Stop()
	_, err := net.DialTimeout("tcp", r.Addr, 200*time.Millisecond)
	require.Error(t, err)
}

func redisPing(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write([]byte("PING\r\n"))
	require.NoError(t, err)
	line, err := bufio.NewReader(c).ReadString('\n')
	require.NoError(t, err)
	return strings.TrimSpace(line)
}

// child starts both servers, prints their pids and waits to be killed.
func child() {
	pg, err := testenv.StartPostgres()
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	var tb fakeTB
	r := testenv.StartRedis(&tb)
	fmt.Printf("PIDS %d %d %s %s\n", pg.Pid(), r.Pid(), pg.Dir(), r.Dir())
	select {}
}

type fakeTB struct{ testing.TB }

func (fakeTB) Helper()                   {}
func (fakeTB) Cleanup(func())            {}
func (fakeTB) Fatalf(f string, a ...any) { fmt.Printf("ERR "+f+"\n", a...); os.Exit(1) }

// TestServersDieWithKilledTestBinary runs this test binary as a child that
// starts Postgres and Redis, SIGKILLs it, and checks both servers go away.
func TestServersDieWithKilledTestBinary(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TESTENV_CHILD=1")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(out)
	var pids []int
	var dirs []string
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 && f[0] == "ERR" {
			t.Fatalf("child: %s", sc.Text())
		}
		if len(f) == 5 && f[0] == "PIDS" {
			dirs = f[3:]
			for _, s := range f[1:3] {
				p, _ := strconv.Atoi(s)
				pids = append(pids, p)
			}
			break
		}
	}
	require.Len(t, pids, 2)
	t.Cleanup(func() {
		for _, d := range dirs {
			os.RemoveAll(d)
		}
	})
	for _, p := range pids {
		require.True(t, alive(p), "server %d running before the kill", p)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for _, p := range pids {
		for alive(p) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		require.False(t, alive(p), "server %d outlived the killed test binary", p)
	}
}

// alive reads /proc: a zombie counts as dead (PID 1 may not reap here).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return false
	}
	return s[i+2] != 'Z'
}
