// Command lxcbot is the ChatOps bot for Proxmox VE LXC containers. Everything
// it does is in internal/cli, so that tests can run the whole binary
// in-process; main only connects it to the process.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/lxcbot/lxcbot/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}
