package slack

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/lxcbot/lxcbot/internal/metrics"
)

func TestMetricsCountDeliveriesAndRateLimits(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	b := setup(t, func(o *setupOpts) { o.metrics = m })

	resp, _ := b.slash(t, slackOperator, "help", "trig-m1")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = b.slash(t, slackOperator, "help", "trig-m1") // Slack's redelivery
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, 1.0, testutil.ToFloat64(m.Inbound.WithLabelValues("slack", "command", "ok")))
	require.Equal(t, 1.0, testutil.ToFloat64(m.Inbound.WithLabelValues("slack", "command", "duplicate")))
	require.Equal(t, 1, testutil.CollectAndCount(m.AckLatency, "lxcbot_ack_latency_seconds"))

	// Two messages to one channel within the fake's window: the second is
	// answered 429 at least once, then retried until it passes.
	b.fake.SetRateLimit(300 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := b.adapter.post(ctx, "CMETRICS", "", "one", nil)
	require.NoError(t, err)
	_, err = b.adapter.post(ctx, "CMETRICS", "", "two", nil)
	require.NoError(t, err)

	limited := testutil.ToFloat64(m.ChatRateLimited.WithLabelValues("slack", "chat.postMessage"))
	require.GreaterOrEqual(t, limited, 1.0)
	require.Equal(t, limited, testutil.ToFloat64(m.ChatRetries.WithLabelValues("slack", "chat.postMessage")),
		"each 429 was retried")
	require.GreaterOrEqual(t, testutil.ToFloat64(m.ChatCalls.WithLabelValues("slack", "chat.postMessage")), 2+limited)
}
