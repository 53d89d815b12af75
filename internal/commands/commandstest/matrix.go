package commandstest

import (
	"context"
	"testing"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/provision"
)

// AuthzCase is one row of the authorisation matrix: who does what, and
// whether the router must refuse it.
type AuthzCase struct {
	Name       string
	Who        provision.Principal
	Req        commands.Request
	WantDenied bool
}

// The fixture every backend run through the matrix must hold:
//
//   - Admin has the admin role, Operator and Other the operator role,
//     Viewer the viewer role, Stranger none;
//   - containers web1 (id ct-web1, owned by Operator, ready, running),
//     web2 (ct-web2, owned by Other, ready, running) and db1 (ct-db1,
//     owned by Operator, failed);
//   - templates nginx and postgres, bucket base, nodes pve1 (default) and pve2.
//
// NewMem builds exactly this.

type authzRow struct {
	name string
	kind commands.RequestKind
	text string // command text, or action value / form state
	id   string // action id or form id
	form map[string]string
	min  provision.Role
	// other: the target belongs to Other, so an operator is refused.
	other bool
}

func authzRows() []authzRow {
	cmd := func(text string, min provision.Role) authzRow {
		return authzRow{name: text, kind: commands.KindCommand, text: text, min: min}
	}
	others := func(text string) authzRow {
		r := cmd(text, provision.RoleOperator)
		r.other = true
		return r
	}
	act := func(id, value string, min provision.Role, other bool) authzRow {
		return authzRow{name: "button " + id + " " + value, kind: commands.KindAction, id: id, text: value, min: min, other: other}
	}
	v, o, a := provision.RoleViewer, provision.RoleOperator, provision.RoleAdmin
	return []authzRow{
		cmd("help", v), cmd("help create", v), cmd("list", v), cmd("list --mine", v), cmd("show web2", v),
		cmd("services web2", v), cmd("events web2", v), cmd("templates", v), cmd("template show nginx", v),
		cmd("buckets", v), cmd("buckets list", v), cmd("buckets show base", v), cmd("nodes", v),
		cmd("create", o), cmd("create nginx new1", o), cmd("create nginx new1 --cores 2 --ip 10.0.0.9/24", o),
		cmd("start web1", o), cmd("stop web1", o), cmd("shutdown web1", o), cmd("restart web1", o), cmd("delete web1", o),
		cmd("logs web1 nginx", o), cmd("creds web1", o), cmd("creds web1 nginx", o),
		others("start web2"), others("stop web2"), others("shutdown web2"), others("restart web2"), others("delete web2"),
		others("logs web2 nginx"), others("creds web2"),
		cmd("template edit nginx --cores 2", a), cmd("template sync", a), cmd("template export nginx", a),
		cmd("buckets add tools apt curl jq", a), cmd("buckets remove base", a),
		cmd("node add pve3 --api-url https://10.0.0.7:8006/api2/json --token-id a@pve!b --token-secret x --ssh 10.0.0.7:22", a),
		cmd("node edit pve1 --ssh-user root", a), cmd("node test pve1", a), cmd("node default pve2", a), cmd("node remove pve2", a),
		cmd("roles", a), cmd("role grant viewer someone", a), cmd("role revoke viewer vera", a),
		cmd("notify #ops created failed", a), cmd("audit", a), cmd("audit web1", a),
		cmd("channel", a), cmd("channel show", a), cmd("channel allow lifecycle create", a), cmd("channel open", a), cmd("channels", a),
		act(commands.ActShow, "ct-web2", v, false), act(commands.ActServices, "ct-web2", v, false), act(commands.ActEvents, "ct-web2", v, false),
		act(commands.ActListPage, "--page=1", v, false),
		act(commands.ActStop, "ct-web1", o, false), act(commands.ActShutdown, "ct-web1", o, false), act(commands.ActRestart, "ct-web1", o, false),
		act(commands.ActDelete, "ct-web1", o, false), act(commands.ActCreds, "ct-web1", o, false),
		// Forged or forwarded payloads naming someone else's container.
		act(commands.ActStop, "ct-web2", o, true), act(commands.ActRestart, "web2", o, true), act(commands.ActDelete, "ct-web2", o, true),
		act(commands.ActCreds, "ct-web2", o, true), act(commands.ActJobCancel, "ct-web2", o, true),
		act(commands.ActJobRetry, "ct-db1", o, false), act(commands.ActJobKeep, "ct-db1", o, false), act(commands.ActJobDelete, "ct-db1", o, false),
		act(commands.ActCreateStart, "nginx", o, false), act(commands.ActCreateConfirm, "p1 nginx new2", o, false),
		{name: "form delete web1", kind: commands.KindFormSubmit, id: "delete", text: "ct-web1", form: map[string]string{"hostname": "web1"}, min: o},
		{name: "form delete web2 (forged state)", kind: commands.KindFormSubmit, id: "delete", text: "ct-web2", form: map[string]string{"hostname": "web2"}, min: o, other: true},
		{name: "form create", kind: commands.KindFormSubmit, id: "create", form: map[string]string{"template": "nginx", "hostname": "new3", "node": "pve1"}, min: o},
	}
}

// AuthzCases expands the matrix: every command and action for a user
// without a role, a viewer, an operator and an admin.
func AuthzCases() []AuthzCase {
	people := []struct {
		p    provision.Principal
		role provision.Role
	}{{Stranger, provision.RoleNone}, {Viewer, provision.RoleViewer}, {Operator, provision.RoleOperator}, {Admin, provision.RoleAdmin}}
	var out []AuthzCase
	for _, row := range authzRows() {
		for _, who := range people {
			req := commands.Request{Principal: who.p, Platform: who.p.Platform, Workspace: "console", Channel: "general",
				Kind: row.kind, DeliveryID: "d-" + row.name, ReceivedAt: Epoch}
			switch row.kind {
			case commands.KindCommand:
				req.Text = row.text
			case commands.KindAction:
				req.Action = commands.ActionPayload{ID: row.id, Value: row.text}
			case commands.KindFormSubmit:
				req.Form = commands.FormSubmission{FormID: row.id, State: row.text, Values: row.form}
			}
			deny := who.role.Rank() < row.min.Rank() || row.other && who.role != provision.RoleAdmin
			out = append(out, AuthzCase{Name: row.name + " as " + who.p.UserID, Who: who.p, Req: req, WantDenied: deny})
		}
	}
	return out
}

// RunAuthzMatrix runs every AuthzCase against a fresh router from
// newRouter (its backend seeded with the fixture above) and checks that
// exactly the cases that must be refused are refused, with a reply naming
// the role needed, and that every reply respects the platform limits.
func RunAuthzMatrix(t *testing.T, newRouter func(t *testing.T) *commands.Router) {
	t.Helper()
	for _, tc := range AuthzCases() {
		t.Run(tc.Name, func(t *testing.T) {
			r := newRouter(t)
			resp := r.Handle(context.Background(), tc.Req)
			if err := commands.Validate(resp); err != nil {
				t.Errorf("reply breaks a platform limit: %v", err)
			}
			denied := resp.Outcome == commands.OutcomeDenied
			if denied != tc.WantDenied {
				t.Fatalf("outcome %s, want denied=%v; reply: %+v", resp.Outcome, tc.WantDenied, resp.Blocks)
			}
			if resp.Outcome == commands.OutcomeError {
				t.Fatalf("internal error: %+v", resp.Blocks)
			}
			if denied && len(resp.Blocks) == 0 {
				t.Fatal("a refusal must say which role is needed")
			}
		})
	}
}
