package ssh

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/metrics"
)

func TestCommandsAreTimedAndFailuresCountedByKind(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	node := newPctNode()
	b := setup(t, node.handle(t), func(c *Config) { c.Metrics = m })
	ctx := t.Context()

	require.NoError(t, b.runner.Push(ctx, 104, []byte("x"), "/etc/x", 0o600, "", ""))
	require.Error(t, b.runner.Push(ctx, 999, []byte("x"), "/etc/x", 0o600, "", ""))
	_, err := b.runner.Status(ctx, 104)
	require.NoError(t, err)
	_, err = b.runner.Exec(ctx, 104, []string{"false"}, ExecOptions{})
	require.NoError(t, err, "a non-zero exit is a result, not a failure to run")

	require.Equal(t, 3, testutil.CollectAndCount(m.SSHDuration), "exec, push and status")
	require.Equal(t, 1.0, testutil.ToFloat64(m.SSHFailures.WithLabelValues("push")))
	require.Equal(t, 0.0, testutil.ToFloat64(m.SSHFailures.WithLabelValues("status")))
	require.Equal(t, 0.0, testutil.ToFloat64(m.SSHFailures.WithLabelValues("exec")))
}
