package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// report is the Markdown results file.
type report struct {
	started  time.Time
	quick    bool
	machine  machine
	sections []section
	memory   []memRow // gathered by the pipeline section for the memory section
}

// section is one benchmark's part of the report.
type section struct {
	title   string
	body    strings.Builder // Markdown: tables and findings
	notes   []string        // skipped parts, unmet targets, caveats
	elapsed time.Duration
}

func (s *section) printf(format string, args ...any) { fmt.Fprintf(&s.body, format, args...) }

func (s *section) note(format string, args ...any) {
	n := strings.Join(strings.Fields(fmt.Sprintf(format, args...)), " ")
	logf("%s: %s", s.title, n)
	s.notes = append(s.notes, n)
}

func (r *report) write(path string) error {
	var b strings.Builder
	mode := "full"
	if r.quick {
		mode = "quick (QUICK=1: short levels, figures are indicative only)"
	}
	fmt.Fprintf(&b, "# lxcbot benchmark results\n\n")
	fmt.Fprintf(&b, "Written by `make bench` (`go run ./bench/cmd/benchrun`); how to read it: [docs/benchmarks.md](../../docs/benchmarks.md).\n\n")
	m := r.machine
	fmt.Fprintf(&b, "| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| run | %s, %s mode |\n", r.started.UTC().Format("2006-01-02 15:04 MST"), mode)
	fmt.Fprintf(&b, "| commit | %s |\n", orUnknown(m.Commit))
	fmt.Fprintf(&b, "| CPU | %s, %d cores |\n", m.CPU, m.Cores)
	fmt.Fprintf(&b, "| memory | %s |\n", m.MemTotal)
	fmt.Fprintf(&b, "| kernel | Linux %s |\n", m.Kernel)
	fmt.Fprintf(&b, "| Go | %s |\n", m.GoVersion)
	fmt.Fprintf(&b, "| Node.js | %s |\n", orUnknown(m.Node))
	pin := "no (taskset missing or fewer than 2 cores): server and generator share the cores"
	if m.Pinning {
		pin = "server under test on core " + serverCore + ", load generator on core " + generatorCore + " (taskset)"
	}
	fmt.Fprintf(&b, "| pinning | %s |\n", pin)
	end := m.LoadEnd
	if end == "" {
		end = "(run in progress)"
	}
	fmt.Fprintf(&b, "| load average (1/5/15 min) | at start %s; at end %s |\n\n", m.LoadStart, end)
	fmt.Fprintf(&b, "Load averages above about 0.5 mean other work shared the machine: treat the figures as noisy and compare ratios, which are measured in the same run, rather than absolute numbers.\n")
	for _, s := range r.sections {
		fmt.Fprintf(&b, "\n## %s\n\n", s.title)
		b.WriteString(s.body.String())
		if len(s.notes) > 0 {
			b.WriteString("\nNotes:\n\n")
			for _, n := range s.notes {
				fmt.Fprintf(&b, "- %s\n", n)
			}
		}
		fmt.Fprintf(&b, "\n_(section took %s)_\n", s.elapsed.Round(time.Second))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// ratio formats a/b as "0.52×", or "–" when b is zero.
func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// ms formats microseconds as milliseconds.
func ms(us float64) string { return fmt.Sprintf("%.2f", us/1000) }
