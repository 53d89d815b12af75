package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/lxcbot/lxcbot/examples/templates"
	"github.com/lxcbot/lxcbot/internal/adapters/console"
	"github.com/lxcbot/lxcbot/internal/app"
	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/internal/demo"
)

func demoCommand() Command {
	var (
		script string
		fast   bool
		user   string
	)
	return Command{
		Name: "demo",
		Summary: "Run the bot on its embedded default: a console chat against a simulated two-node Proxmox VE cluster, " +
			"with a throwaway Postgres, an embedded Redis and the bundled example templates. You are an admin.",
		Usage: "[--script FILE] [--fast] [--user NAME]",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&script, "script", "", "read console input from FILE, one line per input, and exit when it ends")
			fs.BoolVar(&fast, "fast", false, "make Proxmox tasks and container sleeps instant (implied by --script)")
			fs.StringVar(&user, "user", "", "your user name in the console chat (default: your login name)")
		},
		Run: func(ctx context.Context, env *Env, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unexpected argument %q", args[0])
			}
			in := env.Stdin
			if script != "" {
				f, err := os.Open(script)
				if err != nil {
					return usageErrorf("--script: %v", err)
				}
				defer f.Close()
				in = f
				fast = true
			}
			return runDemo(ctx, env, in, script != "", fast, user)
		},
	}
}

func runDemo(ctx context.Context, env *Env, in io.Reader, scripted, fast bool, user string) error {
	// The console owns the terminal: logs go to a file.
	logFile, err := os.CreateTemp("", "lxcbot-demo-*.log")
	if err != nil {
		return fmt.Errorf("creating the demo log file: %w", err)
	}
	defer logFile.Close()
	log := env.Config.Logger(logFile)
	principal := console.DefaultPrincipal()
	if user != "" {
		principal.UserID, principal.Name = user, user
	}

	if !scripted {
		fmt.Fprintln(env.Stdout, "lxcbot demo: starting a throwaway Postgres, an embedded Redis and a two-node Proxmox VE simulator...")
	}
	denv, err := demo.Start(ctx, env.Config, demo.Options{Fast: fast, Logger: log, Principal: principal})
	if err != nil {
		if errors.Is(err, demo.ErrNoPostgres) {
			return err
		}
		return fmt.Errorf("starting the demo environment: %w", err)
	}
	defer denv.Close()

	a, err := app.New(ctx, app.Options{Config: denv.Config, Logger: log, TemplatesFS: templates.FS, Fast: fast})
	if err != nil {
		return fmt.Errorf("starting the bot: %w", err)
	}
	defer a.Close()

	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := a.RunWorker(bg, 4); err != nil {
			log.Error("worker stopped", "err", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := a.RunReconciler(bg, 30*time.Second); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("reconciler stopped", "err", err)
		}
	}()
	defer func() {
		stop()
		wg.Wait()
	}()

	if denv.Config.SlackEnabled() || denv.Config.DiscordEnabled() {
		addr, err := serveChat(ctx, bg, &wg, a, denv.Config, log)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "Serving Slack/Discord on %s as well (HTTP endpoints and/or Socket Mode, gateway).\n", addr)
	}

	if !scripted {
		fmt.Fprintf(env.Stdout, "Ready. You are %s (admin). Logs: %s\n", principal.UserID, logFile.Name())
		fmt.Fprintln(env.Stdout, "Try: /lxc help, /lxc templates, /lxc create, /lxc list. Ctrl-D or Ctrl-C quits.")
	}
	err = console.Run(ctx, console.Config{In: in, Out: env.Stdout, Router: a.Router(), Principal: principal,
		Script: scripted, Log: log})
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// serveChat serves the configured chat platforms from the demo too, so a
// real Slack workspace or Discord server can drive the simulated cluster.
func serveChat(ctx, bg context.Context, wg *sync.WaitGroup, a *app.App, cfg *config.Config, log *slog.Logger) (string, error) {
	routes := app.NewRoutes(a.ReadinessChecks(), a.Metrics().Handler())
	chat, err := app.MountChat(ctx, a, routes, cfg, log)
	if err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return "", fmt.Errorf("listening on %s (LXCBOT_HTTP_ADDR): %w", cfg.HTTPAddr, err)
	}
	srv := &http.Server{Handler: routes, ReadHeaderTimeout: 5 * time.Second}
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", "err", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := chat.Run(bg); err != nil {
			log.Error("chat adapters stopped", "err", err)
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(bg), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		chat.Drain(sctx)
	}()
	return ln.Addr().String(), nil
}
