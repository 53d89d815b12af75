package cli

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/lxcbot/lxcbot/internal/pvesim"
	"github.com/lxcbot/lxcbot/internal/pvesim/simenv"
)

func pvesimCommand() Command {
	var (
		nodes     int
		httpAddr  string
		sshAddr   string
		latency   time.Duration
		taskTime  time.Duration
		sleep     float64
		configOut string
	)
	return Command{
		Name:     "pvesim",
		Summary:  "Run the Proxmox VE simulator (HTTPS API and one SSH server per node speaking pct) until interrupted.",
		Usage:    "[--nodes N] [--http ADDR] [--ssh ADDR] [--latency DUR] [--task-duration DUR] [--config-out FILE]",
		NoConfig: true,
		Flags: func(fs *flag.FlagSet) {
			fs.IntVar(&nodes, "nodes", 2, "number of nodes (pve1, pve2, ...)")
			fs.StringVar(&httpAddr, "http", "127.0.0.1:8006", "listen address of the HTTPS API")
			fs.StringVar(&sshAddr, "ssh", "127.0.0.1:2222", "SSH listen address of the first node; node N listens on the port N-1 above it (port 0: free ports)")
			fs.DurationVar(&latency, "latency", 0, "latency added to every API response")
			fs.DurationVar(&taskTime, "task-duration", 2*time.Second, "how long each Proxmox task runs (0: instant)")
			fs.Float64Var(&sleep, "sleep-scale", 1, "multiplier for `sleep` inside containers (0: no real sleeping)")
			fs.StringVar(&configOut, "config-out", "", "write the nodes: configuration snippet to this file instead of stdout")
		},
		Run: func(ctx context.Context, env *Env, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unexpected argument %q", args[0])
			}
			if nodes < 1 || nodes > 64 {
				return usageErrorf("--nodes must be between 1 and 64")
			}
			host, portStr, err := net.SplitHostPort(sshAddr)
			if err != nil {
				return usageErrorf("--ssh: %v", err)
			}
			port, err := strconv.Atoi(portStr)
			if err != nil {
				return usageErrorf("--ssh: bad port %q", portStr)
			}
			var sshAddrs []string
			for i := 0; i < nodes; i++ {
				p := 0
				if port != 0 {
					p = port + i
				}
				sshAddrs = append(sshAddrs, net.JoinHostPort(host, strconv.Itoa(p)))
			}
			sim, err := simenv.Start(ctx, simenv.Options{Nodes: nodes, APIAddr: httpAddr, SSHAddrs: sshAddrs,
				Latency: latency, TaskDuration: taskTime, SleepScale: sleep, Logger: env.Logger})
			if err != nil {
				return err
			}
			defer sim.Close()
			fmt.Fprintf(env.Stderr, "pvesim: %d nodes; API %s (TLS fingerprint %s)\n", nodes, sim.APIURL(), sim.API.Fingerprint())
			for _, n := range sim.Cluster.NodeNames() {
				fmt.Fprintf(env.Stderr, "pvesim: %s SSH %s (host key %s)\n", n, sim.SSHAddr[n], sim.SSH[n].HostKeyFingerprint())
			}
			out := env.Stdout
			if configOut != "" {
				f, err := os.OpenFile(configOut, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
				if err != nil {
					return fmt.Errorf("writing --config-out: %w", err)
				}
				defer f.Close()
				out = f
			}
			if err := pvesim.WriteNodesConfig(out, sim.NodeConfigs()); err != nil {
				return fmt.Errorf("writing the nodes configuration: %w", err)
			}
			if configOut != "" {
				fmt.Fprintf(env.Stderr, "pvesim: nodes configuration written to %s\n", configOut)
			}
			<-ctx.Done()
			return nil
		},
	}
}
