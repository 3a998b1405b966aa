package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"dapo/shared/bundle/bundletest"
	"dapo/wasm/edgeapi"
)

// TestScoreBundleGolden: an image's bundle from /v1/features, re-scored by
// /v1/score, gives the reference's image score — the server's path to the
// Worker's answer — and bad bundles get the Worker's 4xx errors.
func TestScoreBundleGolden(t *testing.T) {
	ts, set := newTestServer(t, Options{Token: "T"})
	auth := []string{"Authorization", "Bearer T"}
	var scores []float32
	for i := range 2 {
		f := do(t, "POST", ts.URL+"/v1/features", "image/png", goldenImage(t, set, i), auth...)
		if f.status != 200 {
			t.Fatalf("features: %d %s", f.status, f.body)
		}
		r := do(t, "POST", ts.URL+"/v1/score?maps=1", "application/octet-stream", f.body, auth...)
		if r.status != 200 {
			t.Fatalf("score: %d %s", r.status, r.body)
		}
		var res edgeapi.ScoreResponse
		if err := json.Unmarshal(r.body, &res); err != nil {
			t.Fatal(err)
		}
		if len(res.HeatmapPNG) == 0 || len(res.MaskPNG) == 0 {
			t.Errorf("maps=1 without PNGs")
		}
		scores = append(scores, float32(res.Score))
	}
	set.CompareFloat32(t, "dapo_forward", "image.score", scores)

	wantError(t, "no token", do(t, "POST", ts.URL+"/v1/score", "application/octet-stream", []byte("x")), http.StatusUnauthorized, CodeUnauthorized)
	r := do(t, "POST", ts.URL+"/v1/score", "application/octet-stream", []byte("not a bundle"), auth...)
	if r.status != http.StatusUnprocessableEntity {
		t.Errorf("corrupt bundle: %d %s", r.status, r.body)
	}
	wantError(t, "GET", do(t, "GET", ts.URL+"/v1/score", "", nil, auth...), http.StatusMethodNotAllowed, CodeMethodNotAllowed)
}

// BenchmarkLoad measures throughput under concurrent clients on loopback:
// /v1/detect (decode, encode, score) and /v1/score (bundle re-scoring),
// with latency percentiles.
func BenchmarkLoad(b *testing.B) {
	ts, set := newTestServer(b, Options{Queue: 64})
	img := goldenImage(b, set, 0)
	f := do(b, "POST", ts.URL+"/v1/features", "image/png", img)
	if f.status != 200 {
		b.Fatalf("features: %d %s", f.status, f.body)
	}
	vitl, err := bundletest.RandomBundle(1, bundletest.ViTL518)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name, path, ctype string
		body              []byte
	}{
		{"detect", "/v1/detect", "image/png", img},
		{"score", "/v1/score", "application/octet-stream", f.body},
		{"score-ViT-L-14-518", "/v1/score", "application/octet-stream", vitl},
	} {
		b.Run(c.name, func(b *testing.B) {
			var mu sync.Mutex
			var lat []time.Duration
			b.SetParallelism(4) // 4×GOMAXPROCS clients
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					t0 := time.Now()
					if r := do(b, "POST", ts.URL+c.path, c.ctype, c.body); r.status != 200 {
						b.Errorf("%s: %d %s", c.path, r.status, r.body)
						return
					}
					d := time.Since(t0)
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
				}
			})
			b.ReportMetric(float64(len(lat))/time.Since(start).Seconds(), "req/s")
			slices.Sort(lat)
			if n := len(lat); n > 0 {
				b.ReportMetric(float64(lat[n/2].Microseconds())/1e3, "p50-ms")
				b.ReportMetric(float64(lat[n*99/100].Microseconds())/1e3, "p99-ms")
			}
		})
	}
}
