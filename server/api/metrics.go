package api

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// metrics is a tiny Prometheus-text registry owned by one Server (no
// package-level state, so tests and several servers do not interfere).
type metrics struct {
	mu        sync.Mutex
	requests  map[reqKey]uint64
	latency   map[string]*latency
	inFlight  atomic.Int64
	busy      atomic.Int64 // requests holding a worker
	rejected  atomic.Uint64
	timeouts  atomic.Uint64
	panics    atomic.Uint64
	startedAt time.Time
}

type reqKey struct {
	endpoint string
	code     int
}

type latency struct {
	sum   float64
	count uint64
}

func newMetrics() *metrics {
	return &metrics{requests: map[reqKey]uint64{}, latency: map[string]*latency{}, startedAt: time.Now()}
}

func (m *metrics) observe(endpoint string, code int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[reqKey{endpoint, code}]++
	l := m.latency[endpoint]
	if l == nil {
		l = &latency{}
		m.latency[endpoint] = l
	}
	l.sum += d.Seconds()
	l.count++
}

// write renders the registry in the Prometheus text exposition format,
// sorted so the output is stable.
func (m *metrics) write(w io.Writer) error {
	m.mu.Lock()
	keys := make([]reqKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b reqKey) int {
		if a.endpoint != b.endpoint {
			if a.endpoint < b.endpoint {
				return -1
			}
			return 1
		}
		return a.code - b.code
	})
	counts := make([]uint64, len(keys))
	for i, k := range keys {
		counts[i] = m.requests[k]
	}
	eps := make([]string, 0, len(m.latency))
	for e := range m.latency {
		eps = append(eps, e)
	}
	slices.Sort(eps)
	lats := make([]latency, len(eps))
	for i, e := range eps {
		lats[i] = *m.latency[e]
	}
	m.mu.Unlock()

	var err error
	p := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, args...)
		}
	}
	p("# HELP dapo_http_requests_total HTTP requests by endpoint and status code.\n# TYPE dapo_http_requests_total counter\n")
	for i, k := range keys {
		p("dapo_http_requests_total{endpoint=%q,code=\"%d\"} %d\n", k.endpoint, k.code, counts[i])
	}
	p("# HELP dapo_http_request_duration_seconds Request latency by endpoint.\n# TYPE dapo_http_request_duration_seconds summary\n")
	for i, e := range eps {
		p("dapo_http_request_duration_seconds_sum{endpoint=%q} %g\n", e, lats[i].sum)
		p("dapo_http_request_duration_seconds_count{endpoint=%q} %d\n", e, lats[i].count)
	}
	p("# HELP dapo_http_in_flight_requests Requests being served.\n# TYPE dapo_http_in_flight_requests gauge\ndapo_http_in_flight_requests %d\n", m.inFlight.Load())
	p("# HELP dapo_workers_busy Requests holding a model worker.\n# TYPE dapo_workers_busy gauge\ndapo_workers_busy %d\n", m.busy.Load())
	p("# HELP dapo_queue_rejections_total Requests refused with 503 because workers and queue were full.\n# TYPE dapo_queue_rejections_total counter\ndapo_queue_rejections_total %d\n", m.rejected.Load())
	p("# HELP dapo_timeouts_total Requests that hit the per-request timeout.\n# TYPE dapo_timeouts_total counter\ndapo_timeouts_total %d\n", m.timeouts.Load())
	p("# HELP dapo_panics_total Handler panics recovered as 500.\n# TYPE dapo_panics_total counter\ndapo_panics_total %d\n", m.panics.Load())
	p("# HELP dapo_uptime_seconds Seconds since the server started.\n# TYPE dapo_uptime_seconds gauge\ndapo_uptime_seconds %g\n", time.Since(m.startedAt).Seconds())
	return err
}
