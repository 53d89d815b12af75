package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/examples/templates"
	"github.com/lxcbot/lxcbot/internal/adapters/console"
	"github.com/lxcbot/lxcbot/internal/commands"
	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/internal/provision"
	"github.com/lxcbot/lxcbot/internal/testkit/chattest"
)

// TestMetricsEndpointExposesEverySeries runs a small session (a container
// created and managed, a console command, a refused lock, a node going
// down, a queue sample) and reads /metrics as Prometheus would.
func TestMetricsEndpointExposesEverySeries(t *testing.T) {
	sim := startSim(t)
	a := newApp(t, appOptions{templates: templates.FS, nodes: sim.Nodes(),
		roles: config.Roles{Operators: []provision.Principal{alice}}})
	runWorker(t, a)
	ctx := context.Background()
	u := &chattest.User{Router: a.Router(), Who: alice}

	plan := u.Command(t, "create nginx-web web1 --node pve1")
	chattest.RequireOK(t, plan)
	created := u.Press(t, chattest.Button(t, plan, commands.ActCreateConfirm))
	chattest.RequireOK(t, created)
	updates, err := a.Router().Watch(ctx, created.Watch.ContainerID)
	require.NoError(t, err)
	var last commands.JobUpdate
	for up := range updates {
		last = up
	}
	require.Equal(t, provision.ProgressReady, last.Event.Type, "%+v", last.Event)

	// A lifecycle action while someone else holds the container's lock.
	lock, err := a.locker.Acquire(ctx, provision.ContainerLockKey(created.Watch.ContainerID),
		provision.LockHolder{Who: "test", Action: "maintenance"}, time.Minute)
	require.NoError(t, err)
	refused := a.Router().Handle(ctx, func() commands.Request {
		r := u.Request(commands.KindCommand)
		r.Text = "start web1"
		return r
	}())
	require.NotEqual(t, commands.OutcomeOK, refused.Outcome, chattest.AllText(refused))
	require.NoError(t, lock.Release(ctx))

	// The node goes down: reading the container's status fails.
	require.NoError(t, sim.Cluster.SetNodeOnline("pve1", false))
	u.Command(t, "show web1")
	require.NoError(t, sim.Cluster.SetNodeOnline("pve1", true))

	require.NoError(t, console.Run(ctx, console.Config{In: strings.NewReader("/lxc list\n"), Out: io.Discard,
		Router: a.Router(), Principal: alice, Script: true, Metrics: a.Metrics()}))
	require.NoError(t, a.SampleQueue(ctx))

	srv := httptest.NewServer(NewRoutes(nil, a.Metrics().Handler()))
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	text := string(body)

	var missing []string
	for _, series := range []string{
		`lxcbot_inbound_deliveries_total{kind="command",outcome="ok",platform="console"}`,
		`lxcbot_ack_latency_seconds_count{kind="command",platform="console"}`,
		`lxcbot_job_phase_duration_seconds_count{phase="create"}`,
		`lxcbot_job_phase_outcomes_total{outcome="ok",phase="ready"}`,
		`lxcbot_jobs_total{outcome="ready"} 1`,
		`lxcbot_queue_depth{queue="create",state="pending"}`,
		`lxcbot_proxmox_request_duration_seconds_count{endpoint="POST /nodes/{node}/lxc"}`,
		`lxcbot_proxmox_errors_total{class="server",endpoint="GET /nodes/{node}/lxc/{vmid}/status/current"}`,
		`lxcbot_ssh_command_duration_seconds_count{kind="exec"}`,
		`lxcbot_ssh_failures_total{kind="push"}`,
		`lxcbot_lock_contention_total{action="start"} 1`,
		`lxcbot_reconciler_findings_total{kind="drift"}`,
	} {
		if !strings.Contains(text, series) {
			missing = append(missing, series)
		}
	}
	require.Empty(t, missing, "series missing from /metrics")
	// The chat API series (lxcbot_chat_api_*) appear once a Slack or
	// Discord adapter calls its API; their adapters' tests cover them.
}
