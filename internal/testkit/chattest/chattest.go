package chattest

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/provision"
)

// User sends requests to a router the way a chat adapter does for one
// person: each with a delivery id of its own, in the console workspace's
// general channel. Every reply is checked with commands.Validate.
type User struct {
	Router *commands.Router
	Who    provision.Principal
	// StampIDs puts the time in every delivery id as well, so that ids
	// stay distinct across users and bots that share one database and Redis.
	StampIDs bool

	n atomic.Int64
}

// Request is the next request of kind from this user, not yet sent: for a
// test that sends it itself.
func (u *User) Request(kind commands.RequestKind) commands.Request {
	n := u.n.Add(1)
	id := fmt.Sprintf("d%d", n)
	if u.StampIDs {
		id = fmt.Sprintf("d%d-%d", time.Now().UnixNano(), n)
	}
	return commands.Request{Principal: u.Who, Platform: u.Who.Platform, Workspace: "console", Channel: "general",
		Kind: kind, DeliveryID: id, ReceivedAt: time.Now()}
}

func (u *User) handle(t testing.TB, rq commands.Request) commands.Response {
	t.Helper()
	resp := u.Router.Handle(context.Background(), rq)
	require.NoError(t, commands.Validate(resp))
	return resp
}

// Command sends the command text, as typed after /lxc.
func (u *User) Command(t testing.TB, text string) commands.Response {
	t.Helper()
	rq := u.Request(commands.KindCommand)
	rq.Text = text
	return u.handle(t, rq)
}

// Press presses b: its action id with its value.
func (u *User) Press(t testing.TB, b commands.Button) commands.Response {
	t.Helper()
	rq := u.Request(commands.KindAction)
	rq.Action = commands.ActionPayload{ID: b.ActionID, Value: b.Value}
	return u.handle(t, rq)
}

// Submit submits form f with values.
func (u *User) Submit(t testing.TB, f *commands.Form, values map[string]string) commands.Response {
	t.Helper()
	rq := u.Request(commands.KindFormSubmit)
	rq.Form = commands.FormSubmission{FormID: f.ID, State: f.State, Values: values}
	return u.handle(t, rq)
}

// RequireOK requires r to be a success, showing its text otherwise.
func RequireOK(t testing.TB, r commands.Response) {
	t.Helper()
	require.Equal(t, commands.OutcomeOK, r.Outcome, AllText(r))
}

// AllText joins every text a response shows: block texts, fields, button
// labels and the names of attached files.
func AllText(r commands.Response) string {
	var b strings.Builder
	for _, bl := range r.Blocks {
		b.WriteString(bl.Text)
		b.WriteString("\n")
		for _, f := range bl.Fields {
			b.WriteString(f.Label + ": " + f.Value + "\n")
		}
		for _, btn := range bl.Buttons {
			b.WriteString("[" + btn.Label + "]\n")
		}
	}
	for _, f := range r.Files {
		b.WriteString("file " + f.Name + "\n")
	}
	return b.String()
}

// Button finds the button with actionID in r, failing the test now when
// there is none.
func Button(t testing.TB, r commands.Response, actionID string) commands.Button {
	t.Helper()
	for _, bl := range r.Blocks {
		for _, btn := range bl.Buttons {
			if btn.ActionID == actionID {
				return btn
			}
		}
	}
	require.FailNow(t, "no button "+actionID, "reply: %s", AllText(r))
	return commands.Button{}
}
