package api

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// TestLatencyHistogram: every cumulative bucket line equals a brute-force
// count of the observations at or below its bound, including values on a
// bound (Prometheus buckets are "le").
func TestLatencyHistogram(t *testing.T) {
	m := newMetrics()
	rng := rand.New(rand.NewSource(1))
	var obs []float64
	for i := 0; i < 500; i++ {
		s := rng.ExpFloat64() * 0.5
		if i%50 == 0 {
			s = latencyBuckets[i%len(latencyBuckets)] // exactly on a bound
		}
		obs = append(obs, s)
		m.observe("/v1/detect", 200, time.Duration(s*float64(time.Second)))
	}
	var b strings.Builder
	if err := m.write(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, le := range latencyBuckets {
		n := 0
		for _, s := range obs {
			if time.Duration(s*float64(time.Second)).Seconds() <= le {
				n++
			}
		}
		want := fmt.Sprintf("dapo_http_request_duration_seconds_bucket{endpoint=\"/v1/detect\",le=\"%g\"} %d\n", le, n)
		if !strings.Contains(out, want) {
			t.Errorf("missing %q", want)
		}
	}
	for _, want := range []string{
		"# TYPE dapo_http_request_duration_seconds histogram",
		fmt.Sprintf("dapo_http_request_duration_seconds_bucket{endpoint=\"/v1/detect\",le=\"+Inf\"} %d\n", len(obs)),
		fmt.Sprintf("dapo_http_request_duration_seconds_count{endpoint=\"/v1/detect\"} %d\n", len(obs)),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}
