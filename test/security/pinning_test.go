package security_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/examples/templates"
	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/internal/provision"
)

// wrongFingerprint has the shape of a SHA-256 certificate fingerprint and
// matches no certificate.
func wrongFingerprint(real string) string {
	return regexp.MustCompile(`[0-9A-Fa-f]`).ReplaceAllStringFunc(real, func(c string) string {
		if strings.EqualFold(c, "a") {
			return "B"
		}
		return "A"
	})
}

// TestPinMismatchesAreRefusedClearly: pve1 is configured with a TLS
// fingerprint the simulator's certificate does not have, pve2 with the SSH
// host key of another host (pve1's). /lxc node test names the mismatch, a
// creation on either node fails at its first contact with the node with an
// error that names it, and no secret is in any of it.
func TestPinMismatchesAreRefusedClearly(t *testing.T) {
	var realTLS, realHostKey string
	b := setup(t, options{templates: templates.FS, nodes: func(ns []config.Node) []config.Node {
		pve1 := ns[0]
		realTLS = pve1.TLSFingerprint
		pve1.TLSFingerprint = wrongFingerprint(pve1.TLSFingerprint)
		return []config.Node{pve1}
	}})
	ctx := context.Background()
	pve1, pve2 := b.sim.Nodes()[0], b.sim.Nodes()[1]
	realHostKey = pve2.SSHHostKey
	require.NotEqual(t, pve1.SSHHostKey, pve2.SSHHostKey)
	// pve2 recorded with the wrong host key, as if pinned from another host.
	pve2.SSHHostKey = pve1.SSHHostKey
	pve2.IsDefault = false
	require.NoError(t, b.app.Store().UpsertNode(ctx, &pve2))

	secrets := []string{b.sim.Cluster.Options().TokenSecret, sshPassword, b.keyHex, slackBotToken, slackSigningSecret, discordBotToken}
	noSecrets := func(where, text string) {
		t.Helper()
		for _, s := range secrets {
			require.NotContains(t, text, s, "a secret in %s", where)
		}
	}

	tlsTest := b.coreCommand(t, slackAdmin, "node test pve1")
	text := responseText(tlsTest)
	// The test itself runs (outcome ok) and reports the failed check.
	require.Regexp(t, `❌ API: .*certificate.* pinned`, text, "the TLS mismatch is named")
	require.Contains(t, text, realTLS, "the certificate actually presented is shown, for an admin to compare")
	noSecrets("node test pve1", text)

	sshTest := b.coreCommand(t, slackAdmin, "node test pve2")
	text = responseText(sshTest)
	require.Regexp(t, `❌ SSH: .*(?i)host key`, text, "the SSH mismatch is named")
	require.Contains(t, text, realHostKey, "the host key actually presented is shown, for an admin to compare")
	noSecrets("node test pve2", text)

	// A creation on pve1 fails at its first API call (planning reads the
	// node's templates and storages); one on pve2 passes planning and fails
	// at its first SSH contact, in the pipeline.
	plan := b.coreCommand(t, slackOperator, "create nginx-web pin1 --node pve1")
	text = responseText(plan)
	require.NotEqual(t, commands.OutcomeOK, plan.Outcome, text)
	noSecrets("the refused plan", text)
	// The reply names the node and what an admin can do, not an internal
	// error; the log names the mismatch for the admin.
	require.NotContains(t, text, "internal error", text)
	require.Contains(t, text, "node pve1's TLS certificate does not match the pinned fingerprint", text)
	require.Contains(t, text, "/lxc node test pve1", text)
	require.Regexp(t, `(?i)node identity refused.*certificate.*does not match`, b.logs.String(), "the log names the TLS mismatch")
	require.Empty(t, b.sim.Cluster.Containers("pve1"), "nothing was created on pve1")

	// A mismatch is permanent: the job fails at once, well inside the
	// filesystem wait (10 s in Fast mode) it used to retry through, and is
	// not handed back to the queue.
	start := time.Now()
	ct := b.createAs(t, slackOperator, "nginx-web", "pin2", "pve2", provision.StateFailed)
	require.Less(t, time.Since(start), 8*time.Second, "a host key mismatch fails fast")
	require.Regexp(t, `(?i)host key`, ct.LastError, "the SSH mismatch is named: %s", ct.LastError)
	require.NotContains(t, ct.LastError, "not ready within", "the mismatch was not waited out")
	noSecrets("the failure of pin2", ct.LastError)
	events, err := b.app.Store().ListEvents(ctx, ct.ID, nil, 500)
	require.NoError(t, err)
	deployRuns := 0
	for _, e := range events {
		noSecrets("an event of pin2", fmt.Sprint(e.Message, e.Data))
		if e.Type == provision.EventPhaseStarted && e.Phase == provision.PhaseDeploy {
			deployRuns++
		}
	}
	require.Equal(t, 1, deployRuns, "the job ran deploy once, not again from the queue")
	// The container made through the API stays, failed, for the owner to
	// retry or delete, like any failed creation.
	require.Equal(t, provision.PhaseDeploy, ct.FailedPhase, "the first SSH contact is the deploy phase")
	noSecrets("the logs", b.logs.String())
}

// coreCommand runs a command through the router as who.
func (b *bundle) coreCommand(t *testing.T, who provision.Principal, text string) commands.Response {
	t.Helper()
	return b.app.Router().Handle(context.Background(), commands.Request{Principal: who, Platform: who.Platform,
		Workspace: team, Channel: channel, Kind: commands.KindCommand, Text: text,
		DeliveryID: fmt.Sprintf("core-%d", b.next())})
}

func responseText(r commands.Response) string {
	var sb strings.Builder
	for _, bl := range r.Blocks {
		sb.WriteString(bl.Text + "\n")
		for _, f := range bl.Fields {
			sb.WriteString(f.Label + ": " + f.Value + "\n")
		}
	}
	return sb.String()
}
