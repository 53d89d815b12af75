package provision_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/secret"
)

func (b *simBundle) monitor() *provision.Monitor {
	return provision.NewMonitor(provision.MonitorDeps{Store: b.db, Containers: containerLister(b.db), Nodes: b.pool})
}

func TestMonitorShowAndList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newSimBundle(t)
	m := b.monitor()
	b.readyContainer(t, "pve1", 301, "alpha")
	b.readyContainer(t, "pve2", 302, "beta")

	v, err := m.Show(ctx, "alpha")
	require.NoError(t, err)
	require.Equal(t, provision.StatusRunning, v.Live.Status)
	require.NotZero(t, v.Live.MemTotal)
	require.NotZero(t, v.Live.DiskTotal)
	require.NotEmpty(t, v.Live.IP)
	require.Empty(t, v.Problem)

	page, err := m.List(ctx, provision.ListFilter{})
	require.NoError(t, err)
	require.Len(t, page.Items, 2)
	for _, it := range page.Items {
		require.Equal(t, provision.StatusRunning, it.Live.Status, it.Container.Hostname)
	}

	// One node offline: its containers are unknown, the others still list.
	require.NoError(t, b.sim.SetNodeOnline("pve2", false))
	page, err = m.List(ctx, provision.ListFilter{})
	require.NoError(t, err)
	require.Len(t, page.Items, 2)
	require.Equal(t, []string{"pve2"}, page.Unreachable)
	for _, it := range page.Items {
		switch it.Container.Hostname {
		case "alpha":
			require.Equal(t, provision.StatusRunning, it.Live.Status)
		case "beta":
			require.Equal(t, provision.StatusUnknown, it.Live.Status)
			require.Equal(t, provision.ProblemNodeUnreachable, it.Problem)
		}
	}
	v, err = m.Show(ctx, "beta")
	require.NoError(t, err, "an unreachable node is not an error")
	require.Equal(t, provision.ProblemNodeUnreachable, v.Problem)
	require.Equal(t, "beta", v.Container.Hostname)

	// Paging and owner filter.
	page, err = m.List(ctx, provision.ListFilter{PageSize: 1})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	require.True(t, page.More)
	page, err = m.List(ctx, provision.ListFilter{Owner: &bob})
	require.NoError(t, err)
	require.Empty(t, page.Items)
}

func TestMonitorLogsAndServices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newSimBundle(t)
	m := b.monitor()
	b.readyContainer(t, "pve2", 303, "svc")

	_, err := m.Logs(ctx, "svc", "ssh.service", 0)
	require.NoError(t, err)
	var ue *provision.UserError
	for _, bad := range []string{"-f", "a;b", "$(id)", "", "x y", "--since=now"} {
		_, err = m.Logs(ctx, "svc", bad, 10)
		require.ErrorAs(t, err, &ue, bad)
	}
	_, err = m.Logs(ctx, "svc", "ssh", 501)
	require.ErrorAs(t, err, &ue)

	svcs, err := m.Services(ctx, "svc", true)
	require.NoError(t, err)
	seenSystem := false
	for _, s := range svcs {
		if s.Kind == provision.ServiceSystem {
			seenSystem = true
		} else {
			require.False(t, seenSystem, "application services come first")
		}
	}
	// The record is what was asked of the SSH server of pve2, the node
	// hosting the container.
	var onPve2 bool
	for _, r := range b.sshd["pve2"].Records() {
		if strings.Contains(r.Command, "journalctl") {
			onPve2 = true
		}
	}
	require.True(t, onPve2)
	for _, r := range b.sshd["pve1"].Records() {
		require.NotContains(t, r.Command, "303")
	}
}

func TestMonitorCredentialsStayOutOfEventsAndErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newSimBundle(t)
	m := b.monitor()
	lc := b.lifecycle(0)
	c := b.readyContainer(t, "pve1", 304, "vault")
	const pw = "s3cr3t-Value-42"
	require.NoError(t, b.db.ReplaceCredentials(ctx, c.ID, []provision.Credential{
		{ContainerID: c.ID, Service: "db", Key: "PASSWORD", Value: secret.String(pw)}}))

	creds, err := m.Credentials(ctx, "vault", "db")
	require.NoError(t, err)
	require.Len(t, creds, 1)
	require.Equal(t, pw, creds[0].Value.Reveal())

	_, err = lc.Do(ctx, bob, "vault", provision.ActionRestart)
	require.NoError(t, err)
	_, err = lc.Do(ctx, bob, "vault", provision.ActionDelete)
	require.NoError(t, err)
	_, err = lc.Do(ctx, bob, c.ID, provision.ActionStart)
	require.Error(t, err)
	require.NotContains(t, err.Error(), pw)
	evs, err := m.Events(ctx, c.ID, nil, 0)
	require.NoError(t, err)
	require.NotEmpty(t, evs)
	for _, e := range evs {
		require.NotContains(t, e.Message, pw)
		for _, v := range e.Data {
			require.NotContains(t, toString(v), pw)
		}
	}
	for _, n := range b.notes.all() {
		require.NotContains(t, n.Text, pw)
	}
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}
