package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Redis is a throwaway redis-server.
type Redis struct {
	Addr string
	dir  string
	port int
	p    *proc
}

// RedisAddr starts a fresh redis-server for this test and returns host:port.
// It is stopped when the test ends.
func RedisAddr(t testing.TB) string {
	t.Helper()
	return StartRedis(t).Addr
}

// StartRedis starts a fresh redis-server for this test. Tests that simulate an
// outage may Stop and Restart it; data is not persisted across restarts.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("testenv: redis-server not found on PATH: run scripts/install-deps.sh (Debian: apt-get install redis-server)")
	}
	dir, err := mkdirShared("lxcbot-redis-")
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	r := &Redis{dir: dir}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("testenv: %v", err)
		}
		r.port = port
		if lastErr = r.start(bin); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		os.RemoveAll(dir)
		t.Fatalf("testenv: starting redis-server: %v", lastErr)
	}
	t.Cleanup(func() {
		r.Stop()
		os.RemoveAll(dir)
	})
	return r
}

func (r *Redis) start(bin string) error {
	cmd := exec.Command(bin,
		"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir,
		"--loglevel", "warning")
	p, err := startProc(cmd, syscall.SIGKILL)
	if err != nil {
		return err
	}
	r.p = p
	r.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port))
	// Probe with a plain dial: go-redis retries dials and would hide a dead server.
	err = p.waitFor("redis-server", 10*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", r.Addr, 100*time.Millisecond)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	if err != nil {
		_ = p.stop(syscall.SIGKILL, time.Second)
	}
	return err
}

// Dir is the server's temporary working directory.
func (r *Redis) Dir() string { return r.dir }

// Pid returns the server's process id.
func (r *Redis) Pid() int { return r.p.Pid() }

// Stop stops the server; its data is lost.
func (r *Redis) Stop() {
	if r.p != nil {
		_ = r.p.stop(syscall.SIGTERM, 5*time.Second)
	}
}

// Restart starts the server again on the same address, empty.
func (r *Redis) Restart(t testing.TB) {
	t.Helper()
	r.Stop()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if err := r.start(bin); err != nil {
		t.Fatalf("testenv: restarting redis-server: %v", err)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartSentinel starts a Redis Sentinel monitoring master (host:port) under
// the name mymaster, and returns the sentinel's address.
func StartSentinel(t testing.TB, master string) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("testenv: redis-server not found on PATH: run scripts/install-deps.sh")
	}
	host, port, err := net.SplitHostPort(master)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	dir, err := mkdirShared("lxcbot-sentinel-")
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sp, err := freePort()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	conf := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor mymaster %s %s 1\nsentinel down-after-milliseconds mymaster 5000\n",
		sp, dir, host, port)
	path := dir + "/sentinel.conf"
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	p, err := startProc(exec.Command(bin, path, "--sentinel"), syscall.SIGKILL)
	if err != nil {
		t.Fatalf("testenv: starting redis sentinel: %v", err)
	}
	t.Cleanup(func() { _ = p.stop(syscall.SIGTERM, 5*time.Second) })
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sp))
	if err := p.waitFor("redis sentinel", 10*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			return false
		}
		c.Close()
		return true
	}); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return addr
}
