package load

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Config is one load level.
type Config struct {
	URL         string // the slash-command endpoint
	Secret      []byte // signing secret
	Text        string // the command text after /lxc
	User        string // Slack user id sent with each command
	Channel     string // Slack channel id
	ResponseURL string // response_url sent with each command
	Concurrency int    // workers, each with its own keep-alive connection
	Duration    time.Duration
	Warmup      time.Duration // requests in this leading window are not counted
	Timeout     time.Duration // per request
}

// Result summarises one level. Latencies are in microseconds.
type Result struct {
	Concurrency int     `json:"concurrency"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	FirstError  string  `json:"first_error,omitempty"`
	Seconds     float64 `json:"seconds"`
	ReqPerSec   float64 `json:"req_per_sec"`
	P50us       float64 `json:"p50_us"`
	P90us       float64 `json:"p90_us"`
	P99us       float64 `json:"p99_us"`
	MaxUs       float64 `json:"max_us"`
}

// NewClient returns a keep-alive client that holds one idle connection per
// worker, so no request pays for a new connection after warm-up.
func NewClient(conns int, timeout time.Duration) *http.Client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		MaxConnsPerHost:     0,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// Run drives cfg.Concurrency workers for cfg.Warmup+cfg.Duration. Each
// request carries a fresh timestamp and signature. A non-200 answer counts
// as an error and is not part of the latency figures.
func Run(ctx context.Context, cfg Config) Result {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.User == "" {
		cfg.User = "UBENCH"
	}
	if cfg.Channel == "" {
		cfg.Channel = "CBENCH"
	}
	if cfg.ResponseURL == "" {
		cfg.ResponseURL = "https://hooks.slack.invalid/commands/TBENCH/1/bench"
	}
	client := NewClient(cfg.Concurrency, cfg.Timeout)
	defer client.CloseIdleConnections()

	start := time.Now()
	measureFrom := start.Add(cfg.Warmup)
	stop := measureFrom.Add(cfg.Duration)
	var (
		mu       sync.Mutex
		all      []time.Duration
		errs     atomic.Int64
		firstErr atomic.Value
		seq      atomic.Int64
		wg       sync.WaitGroup
	)
	for w := 0; w < cfg.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(stop) {
					break
				}
				err := one(ctx, client, cfg, strconv.FormatInt(seq.Add(1), 10)+"."+strconv.FormatInt(t0.UnixNano(), 36))
				d := time.Since(t0)
				if t0.Before(measureFrom) {
					continue
				}
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				lat = append(lat, d)
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	// The window includes the tail of requests that started before stop.
	elapsed := time.Since(measureFrom)
	res := Result{Concurrency: cfg.Concurrency, Requests: len(all), Errors: int(errs.Load()), Seconds: elapsed.Seconds()}
	if v := firstErr.Load(); v != nil {
		res.FirstError = v.(string)
	}
	if res.Seconds > 0 {
		res.ReqPerSec = float64(res.Requests) / res.Seconds
	}
	slices.Sort(all)
	res.P50us = Percentile(all, 0.50)
	res.P90us = Percentile(all, 0.90)
	res.P99us = Percentile(all, 0.99)
	if len(all) > 0 {
		res.MaxUs = float64(all[len(all)-1].Nanoseconds()) / 1e3
	}
	return res
}

// Percentile is the nearest-rank q-quantile of sorted, in microseconds.
func Percentile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	i = min(max(i, 0), len(sorted)-1)
	return float64(sorted[i].Nanoseconds()) / 1e3
}

func one(ctx context.Context, client *http.Client, cfg Config, seq string) error {
	body := CommandBody(cfg.Text, cfg.User, cfg.Channel, cfg.ResponseURL, seq)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", Sign(cfg.Secret, ts, body))
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	// Drain so the connection goes back to the pool.
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}
