package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds every metric the bot exports. Labels never carry secrets,
// user input beyond enumerations, or unbounded values.
type Metrics struct {
	Registry *prometheus.Registry

	// Inbound deliveries by platform (slack, discord, console), kind
	// (command, action, form, event, autocomplete) and outcome (ok,
	// duplicate, rejected, error).
	Inbound *prometheus.CounterVec
	// AckLatency is the time from receiving a delivery to acknowledging it.
	AckLatency *prometheus.HistogramVec
	// PhaseDuration and PhaseOutcomes describe pipeline phases.
	PhaseDuration *prometheus.HistogramVec
	PhaseOutcomes *prometheus.CounterVec
	// JobOutcomes counts finished creation jobs (ready, failed, cancelled).
	JobOutcomes *prometheus.CounterVec
	// QueueDepth is the number of tasks per queue state, sampled.
	QueueDepth *prometheus.GaugeVec
	// ProxmoxLatency and ProxmoxErrors by endpoint (a route template, not a URL).
	ProxmoxLatency *prometheus.HistogramVec
	ProxmoxErrors  *prometheus.CounterVec
	// SSHDuration and SSHFailures by command kind (exec, push, status).
	SSHDuration *prometheus.HistogramVec
	SSHFailures *prometheus.CounterVec
	// ChatCalls, ChatRetries and ChatRateLimited by platform and API method.
	ChatCalls       *prometheus.CounterVec
	ChatRetries     *prometheus.CounterVec
	ChatRateLimited *prometheus.CounterVec
	// LockContention counts refused lock acquisitions by action.
	LockContention *prometheus.CounterVec
	// ReconcilerFindings by kind (stuck, gone, drift, node_down, node_up).
	ReconcilerFindings *prometheus.CounterVec
}

// New registers every metric, plus Go runtime and process collectors, on a
// fresh registry.
func New() *Metrics {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := func(c prometheus.Collector) { r.MustRegister(c) }
	fast := []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}
	slow := []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800}
	m := &Metrics{
		Registry: r,
		Inbound: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lxcbot_inbound_deliveries_total", Help: "Inbound chat deliveries by platform, kind and outcome.",
		}, []string{"platform", "kind", "outcome"}),
		AckLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lxcbot_ack_latency_seconds", Help: "Time from receiving a delivery to acknowledging it.", Buckets: fast,
		}, []string{"platform", "kind"}),
		PhaseDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lxcbot_job_phase_duration_seconds", Help: "Duration of creation pipeline phases.", Buckets: slow,
		}, []string{"phase"}),
		PhaseOutcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lxcbot_job_phase_outcomes_total", Help: "Creation pipeline phase outcomes.",
		}, []string{"phase", "outcome"}),
		JobOutcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lxcbot_jobs_total", Help: "Finished creation jobs by outcome.",
		}, []string{"outcome"}),
		QueueDepth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lxcbot_queue_depth", Help: "Tasks in the work queue by queue and state.",
		}, []string{"queue", "state"}),
		ProxmoxLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lxcbot_proxmox_request_duration_seconds", Help: "Proxmox API request latency by endpoint.", Buckets: fast,
		}, []string{"endpoint"}),
		ProxmoxErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lxcbot_proxmox_errors_total", Help: "Proxmox API errors by endpoint and class.",
		}, []string{"endpoint", "class"}),
		SSHDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lxcbot_ssh_command_duration_seconds", Help: "SSH command durations by kind.", Buckets: slow,
		}, []string{"kind"}),
		SSHFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lxcbot_ssh_failures_total", Help: "SSH commands that could not run, by kind.",
		}, []string{"kind"}),
		ChatCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lxcbot_chat_api_calls_total", Help: "Slack and Discord API calls by platform and method.",
		}, []string{"platform", "method"}),
		ChatRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lxcbot_chat_api_retries_total", Help: "Retried Slack and Discord API calls.",
		}, []string{"platform", "method"}),
		ChatRateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lxcbot_chat_api_rate_limited_total", Help: "Slack and Discord 429 answers.",
		}, []string{"platform", "method"}),
		LockContention: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lxcbot_lock_contention_total", Help: "Refused container lock acquisitions by action.",
		}, []string{"action"}),
		ReconcilerFindings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lxcbot_reconciler_findings_total", Help: "Reconciler findings by kind.",
		}, []string{"kind"}),
	}
	for _, c := range []prometheus.Collector{m.Inbound, m.AckLatency, m.PhaseDuration, m.PhaseOutcomes, m.JobOutcomes,
		m.QueueDepth, m.ProxmoxLatency, m.ProxmoxErrors, m.SSHDuration, m.SSHFailures, m.ChatCalls, m.ChatRetries,
		m.ChatRateLimited, m.LockContention, m.ReconcilerFindings} {
		f(c)
	}
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// ObserveAck records one acknowledged delivery.
func (m *Metrics) ObserveAck(platform, kind, outcome string, since time.Time) {
	if m == nil {
		return
	}
	m.Inbound.WithLabelValues(platform, kind, outcome).Inc()
	m.AckLatency.WithLabelValues(platform, kind).Observe(time.Since(since).Seconds())
}
