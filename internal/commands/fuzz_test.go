package commands_test

import (
	"errors"
	"testing"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/commands/commandstest"
)

// FuzzParse: any line either parses into a known command with its required
// arguments, or fails with a UsageError that has a message. Never a panic,
// never silence.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "help", "create nginx web1 --cores=2", "list --mine --page 2", `logs web1 "nginx" --lines 5`} {
		f.Add(s)
	}
	r := commands.New(commands.Deps{Backend: commandstest.NewMem()})
	f.Fuzz(func(t *testing.T, line string) {
		inv, err := r.Table().Parse(line)
		if err != nil {
			var ue *commands.UsageError
			if !errors.As(err, &ue) || ue.Msg == "" {
				t.Fatalf("%q: error without a usage message: %v", line, err)
			}
			return
		}
		if inv.Command == nil || r.Table().Lookup(inv.Command.Name) != inv.Command {
			t.Fatalf("%q: parsed into an unknown command", line)
		}
		for _, a := range inv.Command.Args {
			if a.Required && inv.Arg(a.Name) == "" {
				t.Fatalf("%q: required <%s> missing but accepted", line, a.Name)
			}
		}
	})
}
