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

// latencyBuckets are the histogram's upper bounds in seconds: from a
// bundle re-score or health check (milliseconds) to a ViT-L encode on CPU
// (seconds to tens of seconds).
var latencyBuckets = [...]float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// latency is one endpoint's histogram: counts[i] holds observations in
// (bucket i-1, bucket i]; the last slot is above every bound.
type latency struct {
	sum    float64
	count  uint64
	counts [len(latencyBuckets) + 1]uint64
}

func (l *latency) add(seconds float64) {
	l.sum += seconds
	l.count++
	i := 0
	for i < len(latencyBuckets) && seconds > latencyBuckets[i] {
		i++
	}
	l.counts[i]++
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
	l.add(d.Seconds())
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
	p("# HELP dapo_http_request_duration_seconds Request latency by endpoint.\n# TYPE dapo_http_request_duration_seconds histogram\n")
	for i, e := range eps {
		var cum uint64
		for b, le := range latencyBuckets {
			cum += lats[i].counts[b]
			p("dapo_http_request_duration_seconds_bucket{endpoint=%q,le=\"%g\"} %d\n", e, le, cum)
		}
		p("dapo_http_request_duration_seconds_bucket{endpoint=%q,le=\"+Inf\"} %d\n", e, lats[i].count)
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
