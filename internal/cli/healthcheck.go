package cli

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"
)

func healthcheckCommand() Command {
	var url string
	return Command{
		Name:    "healthcheck",
		Summary: "GET /healthz of a running lxcbot and exit 0 when it answers 200 (for container HEALTHCHECKs).",
		Usage:   "[--url URL]",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&url, "url", "", "the URL to check (default: /healthz on LXCBOT_HTTP_ADDR, loopback)")
		},
		Run: func(ctx context.Context, env *Env, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unexpected argument %q", args[0])
			}
			if url == "" {
				host, port, err := net.SplitHostPort(env.Config.HTTPAddr)
				if err != nil {
					return fmt.Errorf("reading LXCBOT_HTTP_ADDR %q: %w", env.Config.HTTPAddr, err)
				}
				if host == "" || host == "0.0.0.0" || host == "::" {
					host = "127.0.0.1"
				}
				url = "http://" + net.JoinHostPort(host, port) + "/healthz"
			}
			ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return usageErrorf("--url: %v", err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return fmt.Errorf("checking %s: %w", url, err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("checking %s: %s", url, resp.Status)
			}
			fmt.Fprintln(env.Stdout, "ok")
			return nil
		},
	}
}
