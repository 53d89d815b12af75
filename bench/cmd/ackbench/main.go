// Command ackbench sends correctly signed Slack slash-command requests, with
// a fresh timestamp and signature each, at one or more concurrency levels over
// keep-alive connections, and prints one JSON result per level: requests per
// second and p50/p90/p99 latency. It never fails on timing.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/lxcbot/lxcbot/bench/internal/load"
)

func main() {
	var (
		url         = flag.String("url", "http://127.0.0.1:8080/slack/commands", "slash-command endpoint")
		text        = flag.String("text", "help", "command text after /lxc")
		levels      = flag.String("c", "1,16,64", "comma-separated concurrency levels")
		duration    = flag.Duration("d", 5*time.Second, "measured duration per level")
		warmup      = flag.Duration("warmup", time.Second, "unmeasured warm-up per level")
		user        = flag.String("user", "UBENCH", "Slack user id")
		channel     = flag.String("channel", "CBENCH", "Slack channel id")
		responseURL = flag.String("response-url", "", "response_url sent with each command")
	)
	flag.Parse()
	secret := os.Getenv("SLACK_SIGNING_SECRET")
	if secret == "" {
		fmt.Fprintln(os.Stderr, "ackbench: SLACK_SIGNING_SECRET must be set")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	enc := json.NewEncoder(os.Stdout)
	for _, l := range strings.Split(*levels, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(l))
		if err != nil || c < 1 {
			fmt.Fprintf(os.Stderr, "ackbench: -c: bad level %q\n", l)
			os.Exit(2)
		}
		res := load.Run(ctx, load.Config{URL: *url, Secret: []byte(secret), Text: *text, User: *user,
			Channel: *channel, ResponseURL: *responseURL, Concurrency: c, Duration: *duration, Warmup: *warmup})
		if err := enc.Encode(res); err != nil {
			fmt.Fprintln(os.Stderr, "ackbench:", err)
			os.Exit(1)
		}
	}
}
