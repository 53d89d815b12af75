package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set at link time: go build -ldflags "-X github.com/lxcbot/lxcbot/internal/cli.version=v1.2.3
// -X github.com/lxcbot/lxcbot/internal/cli.commit=abc1234". They are written
// only by the linker.
var (
	version = "dev"
	commit  = ""
)

// BuildInfo identifies the running binary.
type BuildInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"go_version"`
}

// Build returns the binary's version, commit and Go version. Without a commit
// from the linker it takes the VCS revision that go build records, marked
// "-dirty" when the tree had uncommitted changes.
func Build() BuildInfo {
	b := BuildInfo{Version: version, Commit: commit, GoVersion: runtime.Version()}
	if b.Commit != "" {
		return b
	}
	b.Commit = "unknown"
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	var rev string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if dirty {
			rev += "-dirty"
		}
		b.Commit = rev
	}
	if b.Version == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		b.Version = info.Main.Version
	}
	return b
}

func versionCommand() Command {
	return Command{
		Name:     "version",
		Summary:  "Print the version, commit and Go version.",
		NoConfig: true,
		Run: func(_ context.Context, env *Env, args []string) error {
			if len(args) > 0 {
				return usageErrorf("version takes no arguments")
			}
			b := Build()
			fmt.Fprintf(env.Stdout, "version: %s\ncommit:  %s\ngo:      %s\n", b.Version, b.Commit, b.GoVersion)
			return nil
		},
	}
}
