package commands_test

import (
	"testing"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/commands/commandstest"
)

func newRouter(t *testing.T) (*commands.Router, *commandstest.Mem) {
	t.Helper()
	m := commandstest.NewMem()
	r := commands.New(commands.Deps{Backend: m, Clock: commandstest.FixedClock{T: commandstest.Epoch}, NewRef: func() string { return "ref0001" }})
	return r, m
}

func TestAuthorizationMatrix(t *testing.T) {
	commandstest.RunAuthzMatrix(t, func(t *testing.T) *commands.Router {
		r, _ := newRouter(t)
		return r
	})
}
