package commands_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/commands/commandstest"
	"github.com/lxcbot/lxcbot/internal/provision"
)

func cmdReq(p provision.Principal, text string) commands.Request {
	return commands.Request{Principal: p, Platform: p.Platform, Workspace: "console", Channel: "general", Kind: commands.KindCommand, Text: text, DeliveryID: text}
}

func allText(resp commands.Response) string {
	var b strings.Builder
	for _, bl := range resp.Blocks {
		b.WriteString(bl.Text + "\n")
		for _, f := range bl.Fields {
			b.WriteString(f.Label + " " + f.Value + "\n")
		}
	}
	return b.String()
}

func TestAuditEveryRequestWithSecretsRedacted(t *testing.T) {
	r, m := newRouter(t)
	ctx := context.Background()
	r.Handle(ctx, cmdReq(commandstest.Admin, "node add pve3 --api-url https://h:8006/api2/json --token-id a@pve!b --token-secret TOPSECRET --ssh h:22 --ssh-password PW123"))
	r.Handle(ctx, cmdReq(commandstest.Viewer, "stop web1"))
	r.Handle(ctx, cmdReq(commandstest.Operator, "creds web1"))
	r.Handle(ctx, cmdReq(commandstest.Operator, "bogus"))
	es := m.AuditEntries()
	require.Len(t, es, 4)
	require.Equal(t, "node add", es[0].Command)
	require.Equal(t, "ok", es[0].Outcome)
	require.NotContains(t, es[0].Args, "TOPSECRET")
	require.NotContains(t, es[0].Args, "PW123")
	require.Contains(t, es[0].Args, "--token-secret=<secret>")
	require.Equal(t, "stop", es[1].Command)
	require.Equal(t, "denied", es[1].Outcome)
	require.Equal(t, "creds", es[2].Command)
	require.Equal(t, "web1", es[2].Target)
	require.Equal(t, "ok", es[2].Outcome)
	require.Equal(t, "user_error", es[3].Outcome)
	for _, e := range es {
		require.Equal(t, "general", e.ChannelID)
		require.Equal(t, commandstest.Epoch, e.At)
	}
}

func TestCredentialsOnlyEphemeral(t *testing.T) {
	r, _ := newRouter(t)
	resp := r.Handle(context.Background(), cmdReq(commandstest.Operator, "creds web1"))
	require.Equal(t, commands.Ephemeral, resp.Visibility)
	require.Contains(t, allText(resp), "s3cret-pa55")
	require.Equal(t, "Reveal again", resp.Blocks[len(resp.Blocks)-1].Buttons[0].Label)
	// No other reply carries the secret.
	for _, text := range []string{"show web1", "services web1", "events web1", "list"} {
		require.NotContains(t, allText(r.Handle(context.Background(), cmdReq(commandstest.Admin, text))), "s3cret")
	}
}

func TestDeniedRepliesNameTheRole(t *testing.T) {
	r, _ := newRouter(t)
	resp := r.Handle(context.Background(), cmdReq(commandstest.Viewer, "create nginx x1"))
	require.Contains(t, allText(resp), "you need the operator role")
	resp = r.Handle(context.Background(), cmdReq(commandstest.Operator, "stop web2"))
	require.Contains(t, allText(resp), "web2 belongs to bob")
	require.Contains(t, allText(resp), "admin role")
	resp = r.Handle(context.Background(), cmdReq(commandstest.Stranger, "list"))
	require.Contains(t, allText(resp), "you need the viewer role to run /lxc list (you have no role)")
}

func TestGroupRolesCount(t *testing.T) {
	r, m := newRouter(t)
	m.SetGroupRole("S-ops", provision.RoleOperator)
	req := cmdReq(commandstest.Stranger, "create nginx new1")
	req.Groups = []string{"S-ops"}
	require.Equal(t, commands.OutcomeOK, r.Handle(context.Background(), req).Outcome)
}

func TestChannelBinding(t *testing.T) {
	r, m := newRouter(t)
	m.BindChannel(provision.PlatformConsole, "general", "list", "show")
	resp := r.Handle(context.Background(), cmdReq(commandstest.Admin, "stop web1"))
	require.Equal(t, commands.OutcomeDenied, resp.Outcome)
	require.Contains(t, allText(resp), "this channel accepts only /lxc list, /lxc show")
	require.Equal(t, commands.OutcomeOK, r.Handle(context.Background(), cmdReq(commandstest.Admin, "list")).Outcome)
}

func TestLockedContainerSaysWhoHoldsIt(t *testing.T) {
	r, m := newRouter(t)
	m.Lock("ct-web1", provision.LockHolder{Who: "slack:U0BOB", Action: "restart", Since: commandstest.Epoch.Add(-2 * time.Minute)})
	resp := r.Handle(context.Background(), commands.Request{Principal: commandstest.Operator, Platform: "console", Kind: commands.KindAction,
		Action: commands.ActionPayload{ID: commands.ActStop, Value: "ct-web1"}})
	require.Equal(t, commands.OutcomeUserError, resp.Outcome)
	require.Contains(t, allText(resp), "CT web1 is busy: slack:U0BOB is restarting it since 11:58 UTC")
}

type failingBackend struct{ *commandstest.Mem }

func (failingBackend) Nodes(context.Context) ([]commands.NodeStatus, error) {
	return nil, errors.New("pq: connection reset with password=hunter2")
}

func (failingBackend) Templates(context.Context, string) ([]provision.Template, error) {
	return nil, provision.ErrUnavailable
}

func TestInternalErrorsShowARefAndLogIt(t *testing.T) {
	var logs bytes.Buffer
	r := commands.New(commands.Deps{Backend: failingBackend{commandstest.NewMem()}, Log: slog.New(slog.NewTextHandler(&logs, nil)),
		Clock: commandstest.FixedClock{T: commandstest.Epoch}, NewRef: func() string { return "abc123" }})
	resp := r.Handle(context.Background(), cmdReq(commandstest.Admin, "nodes"))
	require.Equal(t, commands.OutcomeError, resp.Outcome)
	require.Contains(t, allText(resp), "internal error (ref abc123)")
	require.NotContains(t, allText(resp), "hunter2")
	require.Contains(t, logs.String(), "ref=abc123")
	require.Contains(t, logs.String(), "connection reset")

	resp = r.Handle(context.Background(), cmdReq(commandstest.Admin, "templates"))
	require.Equal(t, commands.OutcomeUserError, resp.Outcome)
	require.Contains(t, allText(resp), "temporarily unavailable, try again in a minute")
}

func TestNotFoundSuggestsList(t *testing.T) {
	r, _ := newRouter(t)
	resp := r.Handle(context.Background(), cmdReq(commandstest.Admin, "show nosuch"))
	require.Equal(t, commands.OutcomeUserError, resp.Outcome)
	require.Contains(t, allText(resp), "/lxc list")
}

// Create: arguments give a plan; its Create button creates once even when
// pressed twice; the reply is a job card to watch.
func TestCreatePlanThenConfirmOnce(t *testing.T) {
	r, m := newRouter(t)
	ctx := context.Background()
	plan := r.Handle(ctx, cmdReq(commandstest.Operator, "create nginx new1 --cores 2"))
	require.Equal(t, commands.OutcomeOK, plan.Outcome)
	var create commands.Button
	for _, b := range plan.Blocks {
		for _, btn := range b.Buttons {
			if btn.ActionID == commands.ActCreateConfirm {
				create = btn
			}
		}
	}
	require.NotEmpty(t, create.Value)
	press := func(delivery string) commands.Response {
		return r.Handle(ctx, commands.Request{Principal: commandstest.Operator, Platform: "console", Kind: commands.KindAction,
			DeliveryID: delivery, Action: commands.ActionPayload{ID: create.ActionID, Value: create.Value}})
	}
	first, second := press("d1"), press("d2")
	require.Equal(t, commands.OutcomeOK, first.Outcome, allText(first))
	require.Equal(t, commands.OutcomeOK, second.Outcome, allText(second))
	require.NotNil(t, first.Watch)
	// One job card: the second press is told where the first one is.
	require.Nil(t, second.Watch, "a second press must not post a second job card")
	require.Contains(t, allText(second), "already being created")
	cts, err := m.Containers(ctx, commands.ContainerFilter{State: provision.StatePending})
	require.NoError(t, err)
	require.Len(t, cts, 1)
	require.Equal(t, 2, cts[0].Request.Cores)

	// Watching the job ends with the ready card.
	updates, err := r.Watch(ctx, first.Watch.ContainerID)
	require.NoError(t, err)
	var last commands.JobUpdate
	for u := range updates {
		last = u
	}
	require.True(t, last.Done)
	require.Contains(t, allText(last.Card), "new1 is ready")
}

func TestCreateFormErrorsByField(t *testing.T) {
	r, _ := newRouter(t)
	open := r.Handle(context.Background(), cmdReq(commandstest.Operator, "create nginx"))
	require.NotNil(t, open.Form)
	require.Equal(t, "nginx", open.Form.FormField("template").Default)
	require.NoError(t, commands.Validate(open))
	resp := r.Handle(context.Background(), commands.Request{Principal: commandstest.Operator, Platform: "console", Kind: commands.KindFormSubmit,
		Form: commands.FormSubmission{FormID: "create", Values: map[string]string{"template": "nginx", "hostname": "Bad Host", "cores": "0", "ip": "10.1.1.1"}}})
	require.Equal(t, commands.OutcomeUserError, resp.Outcome)
	require.Contains(t, resp.FormErrors["hostname"], "not a valid hostname")
	require.Contains(t, resp.FormErrors, "cores")
	require.Contains(t, resp.FormErrors, "ip")
	opts, err := r.Options(context.Background(), commands.Request{Principal: commandstest.Operator}, "create", "os_template", map[string]string{"node": "pve2"})
	require.NoError(t, err)
	require.Len(t, opts, 3)
}

func TestLongLogsBecomeAFile(t *testing.T) {
	r, _ := newRouter(t)
	resp := r.Handle(context.Background(), cmdReq(commandstest.Operator, "logs web1 nginx --lines 500"))
	require.Equal(t, commands.OutcomeOK, resp.Outcome)
	require.Len(t, resp.Files, 1)
	require.Equal(t, 500, strings.Count(string(resp.Files[0].Content), "\n")+1)
	short := r.Handle(context.Background(), cmdReq(commandstest.Operator, "logs web1 nginx --lines 5"))
	require.Empty(t, short.Files)
	require.Equal(t, commands.BlockCode, short.Blocks[1].Kind)
}

func TestListPaginates(t *testing.T) {
	m := commandstest.NewMem()
	r := commands.New(commands.Deps{Backend: m, PageSize: 2})
	resp := r.Handle(context.Background(), cmdReq(commandstest.Viewer, "list"))
	require.Equal(t, &commands.Page{Number: 1, Total: 2}, resp.Page)
	next := resp.Blocks[len(resp.Blocks)-1].Buttons[0]
	require.Equal(t, commands.ActListPage, next.ActionID)
	page2 := r.Handle(context.Background(), commands.Request{Principal: commandstest.Viewer, Platform: "console", Kind: commands.KindAction, Action: commands.ActionPayload{ID: next.ActionID, Value: next.Value}})
	require.Equal(t, &commands.Page{Number: 2, Total: 2}, page2.Page)
	require.True(t, page2.Replace)
}

func TestLongTextIsSplitNotTruncated(t *testing.T) {
	long := strings.Repeat("line of text\n", 600)
	blocks := commands.TextBlocks(long)
	require.Greater(t, len(blocks), 1)
	var joined []string
	for _, b := range blocks {
		require.LessOrEqual(t, len([]rune(b.Text)), commands.MaxSectionText)
		joined = append(joined, b.Text)
	}
	require.Equal(t, strings.TrimSuffix(long, "\n"), strings.TrimSuffix(strings.Join(joined, "\n"), "\n"))
}
