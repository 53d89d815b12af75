package commands_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/commands/commandstest"
	"github.com/lxcbot/lxcbot/internal/provision"
)

// refusingNode is the in-memory backend whose node refuses the bot: every
// lifecycle action fails with err, as the adapters report it.
type refusingNode struct {
	*commandstest.Mem
	err error
}

func (b refusingNode) Lifecycle(context.Context, provision.Principal, string, commands.LifecycleAction) (string, error) {
	return "", b.err
}

// TestNodeProblemsAreToldToTheUser: a node that refuses the bot's
// credentials or does not match its pins is a node problem with a way
// forward, not an "internal error".
func TestNodeProblemsAreToldToTheUser(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&provision.NodeAccessError{Node: "pve1", What: provision.AccessSSHLogin, Err: errors.New("the node refused the SSH login of root")},
			"node pve1 refused the bot's SSH login; an admin can check the node's settings with /lxc node test pve1"},
		{&provision.NodeAccessError{Node: "pve1", What: provision.AccessAPIToken, Err: errors.New("401 Authentication failed!")},
			"node pve1 refused the bot's API token"},
		{&provision.NodeIdentityError{Node: "pve1", What: provision.IdentityTLS, Err: errors.New("mismatch")},
			"node pve1's TLS certificate does not match the pinned fingerprint"},
	} {
		r := commands.New(commands.Deps{Backend: refusingNode{Mem: commandstest.NewMem(), err: tc.err},
			Clock: commandstest.FixedClock{T: commandstest.Epoch}, NewRef: func() string { return "ref0001" }})
		resp := r.Handle(context.Background(), cmdReq(commandstest.Operator, "start web1"))
		require.Equal(t, commands.OutcomeUserError, resp.Outcome)
		require.Contains(t, allText(resp), tc.want)
		require.NotContains(t, allText(resp), "internal error")
	}
}
