package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	redisx "github.com/lxcbot/lxcbot/internal/adapters/redis"
)

// MaxBodyBytes is the largest request body any route accepts.
const MaxBodyBytes = 1 << 20

// Check is a named readiness check.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// Routes builds the HTTP handler: health, readiness, metrics and whatever
// platform routes are mounted. Every body is limited to MaxBodyBytes.
type Routes struct {
	mux     *http.ServeMux
	checks  []Check
	timeout time.Duration
}

// NewRoutes returns the base routes with /healthz and /readyz.
func NewRoutes(checks []Check, metrics http.Handler) *Routes {
	r := &Routes{mux: http.NewServeMux(), checks: checks, timeout: 2 * time.Second}
	r.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	r.mux.HandleFunc("GET /readyz", r.ready)
	if metrics != nil {
		r.mux.Handle("GET /metrics", metrics)
	}
	return r
}

// Mount adds a POST route.
func (r *Routes) Mount(path string, h http.Handler) { r.mux.Handle("POST "+path, h) }

// ServeHTTP limits bodies and dispatches.
func (r *Routes) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.ContentLength > MaxBodyBytes {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	if req.Body != nil {
		req.Body = http.MaxBytesReader(w, req.Body, MaxBodyBytes)
	}
	r.mux.ServeHTTP(w, req)
}

func (r *Routes) ready(w http.ResponseWriter, req *http.Request) {
	ctx, cancel := context.WithTimeout(req.Context(), r.timeout)
	defer cancel()
	var mu sync.Mutex
	failed := map[string]string{}
	var wg sync.WaitGroup
	for _, c := range r.checks {
		wg.Add(1)
		go func(c Check) {
			defer wg.Done()
			if err := c.Fn(ctx); err != nil {
				mu.Lock()
				failed[c.Name] = err.Error()
				mu.Unlock()
			}
		}(c)
	}
	wg.Wait()
	w.Header().Set("Content-Type", "application/json")
	if len(failed) > 0 {
		names := make([]string, 0, len(failed))
		for n := range failed {
			names = append(names, n)
		}
		sort.Strings(names)
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "unavailable: " + strings.Join(names, ", "), "failing": failed})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "ok"})
}

// RedisCheck is a readiness check that dials Redis afresh for every probe,
// once, with a short timeout, and asks for a PING. It does not go through
// the bot's own client: that one retries dials and keeps pooled
// connections, so a dead Redis would be reported late and a restarted one
// might look dead until the pool noticed.
func RedisCheck(url string, timeout time.Duration) (Check, error) {
	tune := redisx.Tuning{PoolSize: 1, DialerRetries: 1, MaxRetries: -1, DialTimeout: timeout, ReadTimeout: timeout}
	// Parse once now, so a bad URL is reported at start-up.
	probe, _, err := redisx.NewClient(url, tune)
	if err != nil {
		return Check{}, fmt.Errorf("parsing REDIS_URL: %w", err)
	}
	_ = probe.Close()
	return Check{Name: "redis", Fn: func(ctx context.Context) error {
		c, where, err := redisx.NewClient(url, tune)
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("pinging redis at %s: %w", where, err)
		}
		return nil
	}}, nil
}

// ReplaceCheck returns checks with the check of the same name as c
// replaced by c (or c added).
func ReplaceCheck(checks []Check, c Check) []Check {
	out := make([]Check, 0, len(checks)+1)
	replaced := false
	for _, old := range checks {
		if old.Name == c.Name {
			old, replaced = c, true
		}
		out = append(out, old)
	}
	if !replaced {
		out = append(out, c)
	}
	return out
}
