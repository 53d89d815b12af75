package proxmox

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/lxcbot/lxcbot/internal/metrics"
)

// metricsTransport records each request's latency and, for failures, its
// class, under the route template of its path. It sits below
// statusTransport, so it sees raw status codes.
type metricsTransport struct {
	base http.RoundTripper
	m    *metrics.Metrics
}

func (t *metricsTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.m == nil {
		return t.base.RoundTrip(req)
	}
	endpoint := req.Method + " " + RouteTemplate(req.URL.EscapedPath())
	start := time.Now()
	res, err := t.base.RoundTrip(req)
	t.m.ProxmoxLatency.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
	if class := errorClass(res, err); class != "" {
		t.m.ProxmoxErrors.WithLabelValues(endpoint, class).Inc()
	}
	return res, err
}

// errorClass names a failed request's kind ("" for success): transport
// failures, the caller giving up, or the status class.
func errorClass(res *http.Response, err error) string {
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return "cancelled"
	case err != nil:
		return "transport"
	case res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden:
		return "auth"
	case res.StatusCode >= 500:
		return "server"
	case res.StatusCode >= 400:
		return "client"
	}
	return ""
}

// routeParams maps a path segment to the name of the parameter that follows
// it in PVE's API routes.
var routeParams = map[string]string{
	"nodes":   "{node}",
	"lxc":     "{vmid}",
	"qemu":    "{vmid}",
	"tasks":   "{upid}",
	"storage": "{storage}",
	"content": "{volume}",
}

// RouteTemplate turns an escaped request path into PVE's route template, e.g.
// /api2/json/nodes/pve1/lxc/101/status/start into
// /nodes/{node}/lxc/{vmid}/status/start, so metric labels stay bounded.
func RouteTemplate(path string) string {
	if i := strings.Index(path, "/api2/json"); i >= 0 {
		path = path[i+len("/api2/json"):]
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i := 1; i < len(segs); i++ {
		if p, ok := routeParams[segs[i-1]]; ok {
			segs[i] = p
		}
	}
	return "/" + strings.Join(segs, "/")
}
