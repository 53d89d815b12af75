package commands_test

import (
	"context"
	"testing"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/commands/commandstest"
	"github.com/lxcbot/lxcbot/internal/provision"
)

// FuzzFormSubmission: a form submission is whatever the client sent — form
// id, state and values. Whoever sends it and whatever it holds, the router
// answers with a valid response that is never an internal error (a panic
// or an unhandled case), and a viewer never gets one through.
func FuzzFormSubmission(f *testing.F) {
	f.Add(0, "create", "", "nginx", "web9", "2", "pve1")
	f.Add(1, "create", "", "nginx", "web1", "-1", "pve2")
	f.Add(1, "delete", "web2", "web2", "", "", "")
	f.Add(2, "delete", "ct-web1", "WEB1 ", "", "", "")
	f.Add(1, "delete", "web1 --force", "web1", "", "", "")
	f.Add(0, "create", "x\x00y", "../../etc", "a b", "99999999999999999999", "")
	f.Add(1, "nope", "", "", "", "", "")
	people := []provision.Principal{commandstest.Admin, commandstest.Operator, commandstest.Viewer,
		{Platform: provision.PlatformConsole, UserID: "nobody"}}
	f.Fuzz(func(t *testing.T, who int, formID, state, v1, v2, v3, v4 string) {
		if who < 0 {
			who = -who
		}
		p := people[who%len(people)]
		r := commands.New(commands.Deps{Backend: commandstest.NewMem(), Clock: commandstest.FixedClock{T: commandstest.Epoch},
			NewRef: func() string { return "ref" }})
		values := map[string]string{"template": v1, "hostname": v2, "cores": v3, "node": v4}
		if formID == "delete" {
			values = map[string]string{"hostname": v1}
		}
		resp := r.Handle(context.Background(), commands.Request{Principal: p, Platform: p.Platform, Workspace: "console",
			Channel: "general", Kind: commands.KindFormSubmit, DeliveryID: "d1",
			Form: commands.FormSubmission{FormID: formID, State: state, Values: values}})
		if err := commands.Validate(resp); err != nil {
			t.Fatalf("invalid response: %v", err)
		}
		if resp.Outcome == commands.OutcomeError {
			t.Fatalf("internal error for form %q state %q values %q: %+v", formID, state, values, resp.Blocks)
		}
		if p.UserID == commandstest.Viewer.UserID || p.UserID == "nobody" {
			if resp.Outcome == commands.OutcomeOK && resp.FormErrors == nil && resp.Form == nil {
				t.Fatalf("%s got form %q through: %+v", p.UserID, formID, resp.Blocks)
			}
		}
	})
}
