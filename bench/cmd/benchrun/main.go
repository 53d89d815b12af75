// Command benchrun runs lxcbot's benchmark suite and writes a Markdown report
// (bench/results/latest.md by default): machine facts, then every figure with
// its ratio to its peer measured in the same run. It reports numbers; it never
// fails because something was slow. `make bench` runs it, `make bench QUICK=1`
// runs a short version for smoke tests.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// options are the command line.
type options struct {
	out    string
	quick  bool
	lxcbot string // path of the lxcbot binary
	only   map[string]bool
	work   string // scratch directory for built tools and server files
	root   string // repository root, for bench/bolt and go build
}

func (o options) want(section string) bool { return len(o.only) == 0 || o.only[section] }

// sections in report order.
var sectionNames = []string{"ack", "pipeline", "list", "economy", "memory"}

func main() {
	var o options
	var only string
	flag.StringVar(&o.out, "out", "bench/results/latest.md", "where to write the report")
	flag.BoolVar(&o.quick, "quick", os.Getenv("QUICK") != "" && os.Getenv("QUICK") != "0", "short run for smoke tests (also QUICK=1)")
	flag.StringVar(&o.lxcbot, "lxcbot", "bin/lxcbot", "the lxcbot binary to measure")
	flag.StringVar(&only, "only", "", "comma-separated sections to run: "+strings.Join(sectionNames, ","))
	flag.Parse()
	if only != "" {
		o.only = map[string]bool{}
		for _, s := range strings.Split(only, ",") {
			s = strings.TrimSpace(s)
			if !slices.Contains(sectionNames, s) {
				fmt.Fprintf(os.Stderr, "benchrun: -only: unknown section %q (have %s)\n", s, strings.Join(sectionNames, ","))
				os.Exit(2)
			}
			o.only[s] = true
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	var err error
	if o.root, err = os.Getwd(); err != nil {
		return err
	}
	if o.work, err = os.MkdirTemp("", "lxcbot-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(o.work)
	if abs, err := filepath.Abs(o.lxcbot); err == nil {
		o.lxcbot = abs
	}

	rep := &report{started: time.Now(), quick: o.quick, machine: readMachine(o.root)}
	logf("machine: %s, %d cores, load %s", rep.machine.CPU, rep.machine.Cores, rep.machine.LoadStart)
	tl, err := buildTools(ctx, o)
	if err != nil {
		return err
	}
	sections := []struct {
		name string
		run  func(context.Context, options, tools, *report) section
	}{
		{"ack", runAck},
		{"pipeline", runPipeline},
		{"list", runList},
		{"economy", runEconomy},
		{"memory", runMemory},
	}
	for _, s := range sections {
		if !o.want(s.name) || ctx.Err() != nil {
			continue
		}
		logf("section %s", s.name)
		t0 := time.Now()
		sec := s.run(ctx, o, tl, rep)
		sec.elapsed = time.Since(t0)
		rep.sections = append(rep.sections, sec)
		if err := rep.write(o.out); err != nil { // a partial report survives an interrupted run
			return err
		}
	}
	rep.machine.LoadEnd = loadAvg()
	if err := rep.write(o.out); err != nil {
		return err
	}
	logf("report written to %s", o.out)
	return ctx.Err()
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}
