package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image/png"
	"io"
	"math"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"dapo/server/dapo/dapotest"
	"dapo/server/inference"
	"dapo/shared/bundle"
	"dapo/shared/golden"
	"dapo/shared/imaging"
)

// detector loads the golden checkpoint once per test binary: the
// reference's learned parameters on the golden backbone.
var detector = sync.OnceValues(func() (*inference.Detector, error) {
	set, err := golden.DefaultDir()
	if err != nil {
		return nil, err
	}
	g, err := golden.Open(set)
	if err != nil {
		return nil, err
	}
	ck, err := dapotest.Checkpoint(g)
	if err != nil {
		return nil, err
	}
	return inference.New(context.Background(), g.Dir, ck, inference.Options{Limits: imaging.Limits{MaxPixels: 1 << 22}})
})

// newTestServer serves the golden detector on loopback.
func newTestServer(t testing.TB, opts Options) (*httptest.Server, *golden.Set) {
	t.Helper()
	set := golden.Load(t)
	det, err := detector()
	if err != nil {
		t.Fatalf("golden detector: %v", err)
	}
	opts.CheckpointName = "golden.safetensors"
	s, err := New(det, opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts, set
}

func goldenImage(t testing.TB, set *golden.Set, i int) []byte {
	t.Helper()
	b, err := os.ReadFile(set.Path("image_" + string(rune('0'+i)) + ".png"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func do(t testing.TB, method, url, ctype string, body []byte, hdr ...string) result {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return result{resp.StatusCode, resp.Header, b}
}

// wantError checks a JSON error response's status and code.
func wantError(t *testing.T, name string, r result, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d (%s)", name, r.status, status, r.body)
		return
	}
	var e errorBody
	if err := json.Unmarshal(r.body, &e); err != nil || e.Code != code || e.Error == "" {
		t.Errorf("%s: body %s, want code %q", name, r.body, code)
	}
}

func TestDetectGolden(t *testing.T) {
	ts, set := newTestServer(t, Options{})
	var scores []float32
	for i := range 2 {
		r := do(t, "POST", ts.URL+"/v1/detect", "image/png", goldenImage(t, set, i))
		if r.status != 200 {
			t.Fatalf("detect: %d %s", r.status, r.body)
		}
		var v inference.Verdict
		if err := json.Unmarshal(r.body, &v); err != nil {
			t.Fatal(err)
		}
		scores = append(scores, float32(v.Score))
	}
	set.CompareFloat32(t, "dapo_forward", "image.score", scores)

	// Multipart upload, maps, a subset and thresholds.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("note", "ignored")
	fw, _ := mw.CreateFormFile("image", "part.png")
	fw.Write(goldenImage(t, set, 0))
	mw.Close()
	r := do(t, "POST", ts.URL+"/v1/detect?maps=1&subset=scratch,hole&image_threshold=0.3&pixel_threshold=1.5", mw.FormDataContentType(), buf.Bytes())
	if r.status != 200 {
		t.Fatalf("multipart detect: %d %s", r.status, r.body)
	}
	var resp struct {
		inference.Verdict
		Map     string `json:"anomaly_map_png"`
		Overlay string `json:"overlay_png"`
		Mask    string `json:"mask_png"`
	}
	if err := json.Unmarshal(r.body, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Image != "part.png" || resp.ImageThreshold != 0.3 || resp.PixelThreshold != 1.5 || len(resp.DefectTypes) != 2 {
		t.Errorf("verdict ignores the query: %+v", resp.Verdict)
	}
	src, _ := png.DecodeConfig(bytes.NewReader(goldenImage(t, set, 0)))
	for name, s := range map[string]string{"map": resp.Map, "overlay": resp.Overlay, "mask": resp.Mask} {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c, err := png.DecodeConfig(bytes.NewReader(b))
		if err != nil || c.Width != src.Width || c.Height != src.Height {
			t.Errorf("%s png: %v %dx%d, want %dx%d", name, err, c.Width, c.Height, src.Width, src.Height)
		}
	}
}

func TestFeaturesBundle(t *testing.T) {
	ts, set := newTestServer(t, Options{})
	for _, q := range []string{"", "?f16=1"} {
		r := do(t, "POST", ts.URL+"/v1/features"+q, "image/png", goldenImage(t, set, 1))
		if r.status != 200 || r.header.Get("Content-Type") != "application/octet-stream" {
			t.Fatalf("features%s: %d %s %.200s", q, r.status, r.header.Get("Content-Type"), r.body)
		}
		b, err := bundle.Decode(r.body)
		if err != nil {
			t.Fatalf("features%s: bundle.Decode: %v", q, err)
		}
		if b.Meta.Checkpoint.Name != "golden.safetensors" || len(b.JPEG) == 0 || len(b.Text) != 6 {
			t.Errorf("features%s: meta %+v, %d text rows", q, b.Meta, len(b.Text))
		}
	}
}

func TestText(t *testing.T) {
	ts, _ := newTestServer(t, Options{})
	r := do(t, "POST", ts.URL+"/v1/text", "application/json", []byte(`["crack", "rust"]`))
	if r.status != 200 {
		t.Fatalf("text: %d %s", r.status, r.body)
	}
	var resp textResponse
	if err := json.Unmarshal(r.body, &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Classes) != 3 || resp.Classes[1] != "crack" || resp.Classes[2] != "rust" || len(resp.TextFeatures) != 3 {
		t.Fatalf("text: classes %q, %d rows", resp.Classes, len(resp.TextFeatures))
	}
	for i, row := range resp.TextFeatures {
		var n float64
		for _, x := range row {
			n += float64(x) * float64(x)
		}
		if math.Abs(math.Sqrt(n)-1) > 1e-4 {
			t.Errorf("row %d has norm %g", i, math.Sqrt(n))
		}
	}
	for name, body := range map[string]string{"not json": `crack`, "empty list": `[]`, "empty word": `["", "x"]`, "object": `{"a":1}`} {
		wantError(t, name, do(t, "POST", ts.URL+"/v1/text", "application/json", []byte(body)), 400, CodeBadRequest)
	}
}

func TestInfoHealthMetrics(t *testing.T) {
	ts, _ := newTestServer(t, Options{Workers: 2, Queue: 3})
	r := do(t, "GET", ts.URL+"/v1/info", "", nil)
	var info Info
	if r.status != 200 || json.Unmarshal(r.body, &info) != nil {
		t.Fatalf("info: %d %s", r.status, r.body)
	}
	if info.ImageSize != 70 || len(info.Classes) != 6 || info.Classes[0] != "normal" || info.Workers != 2 || info.Device != "cpu" || info.Thresholds.Image != 0.5 || info.Backbone.ID == "" {
		t.Errorf("info: %+v", info)
	}
	if r := do(t, "GET", ts.URL+"/healthz", "", nil); r.status != 200 || strings.TrimSpace(string(r.body)) != "ok" {
		t.Errorf("healthz: %d %q", r.status, r.body)
	}
	if r := do(t, "GET", ts.URL+"/", "", nil); r.status != 200 || !strings.Contains(string(r.body), "/v1/detect") {
		t.Errorf("index: %d %q", r.status, r.body)
	}
	m := do(t, "GET", ts.URL+"/metrics", "", nil)
	for _, want := range []string{`dapo_http_requests_total{endpoint="/v1/info",code="200"} 1`, `dapo_http_requests_total{endpoint="/healthz",code="200"} 1`,
		"dapo_queue_rejections_total 0", `dapo_http_request_duration_seconds_count{endpoint="/v1/info"} 1`, "dapo_http_in_flight_requests 1"} {
		if !strings.Contains(string(m.body), want) {
			t.Errorf("metrics lack %q:\n%s", want, m.body)
		}
	}
	do(t, "GET", ts.URL+"/v1/info", "", nil)
	m = do(t, "GET", ts.URL+"/metrics", "", nil)
	if !strings.Contains(string(m.body), `dapo_http_requests_total{endpoint="/v1/info",code="200"} 2`) {
		t.Errorf("counter did not increase:\n%s", m.body)
	}
}

func TestStatic(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/index.html", []byte("<p>app</p>"), 0o644)
	ts, _ := newTestServer(t, Options{StaticDir: dir, Token: "secret"})
	if r := do(t, "GET", ts.URL+"/", "", nil); r.status != 200 || string(r.body) != "<p>app</p>" {
		t.Errorf("static: %d %q", r.status, r.body)
	}
}

func TestAuthAndCORS(t *testing.T) {
	ts, _ := newTestServer(t, Options{Token: "s3cret", CORSOrigin: "https://app.example"})
	r := do(t, "GET", ts.URL+"/v1/info", "", nil)
	wantError(t, "no token", r, 401, CodeUnauthorized)
	if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("401 without WWW-Authenticate: %v", r.header)
	}
	wantError(t, "wrong token", do(t, "GET", ts.URL+"/v1/info", "", nil, "Authorization", "Bearer nope"), 401, CodeUnauthorized)
	if r := do(t, "GET", ts.URL+"/v1/info", "", nil, "Authorization", "Bearer s3cret", "Origin", "https://app.example"); r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Errorf("with token: %d %v", r.status, r.header)
	}
	if r := do(t, "GET", ts.URL+"/healthz", "", nil); r.status != 200 {
		t.Errorf("healthz needs no token: %d", r.status)
	}
	pre := do(t, "OPTIONS", ts.URL+"/v1/detect", "", nil, "Origin", "https://app.example", "Access-Control-Request-Method", "POST")
	if pre.status != 204 || !strings.Contains(pre.header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %d %v", pre.status, pre.header)
	}
	if r := do(t, "GET", ts.URL+"/v1/info", "", nil, "Authorization", "Bearer s3cret", "Origin", "https://evil.example"); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("foreign origin allowed: %v", r.header)
	}
}

// pngHeader is a valid PNG signature and IHDR claiming w×h pixels.
func pngHeader(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	binary.Write(&b, binary.BigEndian, uint32(13))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestBadInput(t *testing.T) {
	ts, set := newTestServer(t, Options{MaxBody: 64 << 10})
	good := goldenImage(t, set, 0)
	var noImage bytes.Buffer
	mw := multipart.NewWriter(&noImage)
	mw.WriteField("picture", "x")
	mw.Close()
	cases := []struct {
		name, method, path, ctype string
		body                      []byte
		status                    int
		code                      string
	}{
		{"truncated png", "POST", "/v1/detect", "image/png", good[:len(good)/2], 422, CodeInvalidImage},
		{"random bytes", "POST", "/v1/detect", "image/png", bytes.Repeat([]byte{0x5a, 0x13, 0xc7}, 300), 422, CodeUnsupportedImage},
		{"empty body", "POST", "/v1/features", "image/jpeg", nil, 400, CodeMissingImage},
		{"wrong content type", "POST", "/v1/detect", "text/plain", good, 415, CodeUnsupportedMedia},
		{"no content type", "POST", "/v1/features", "", good, 415, CodeUnsupportedMedia},
		{"oversized body", "POST", "/v1/detect", "image/png", make([]byte, 65<<10), 413, CodeBodyTooLarge},
		{"oversized multipart", "POST", "/v1/features", "multipart/form-data; boundary=x", append([]byte("--x\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\n"), make([]byte, 65<<10)...), 413, CodeBodyTooLarge},
		{"pixel bomb", "POST", "/v1/detect", "image/png", pngHeader(100000, 100000), 413, CodeImageTooLarge},
		{"multipart without image", "POST", "/v1/detect", mw.FormDataContentType(), noImage.Bytes(), 400, CodeMissingImage},
		{"bad maps", "POST", "/v1/detect?maps=perhaps", "image/png", good, 400, CodeBadQuery},
		{"bad f16", "POST", "/v1/features?f16=2x", "image/png", good, 400, CodeBadQuery},
		{"threshold not a number", "POST", "/v1/detect?image_threshold=abc", "image/png", good, 400, CodeBadQuery},
		{"threshold out of range", "POST", "/v1/detect?image_threshold=1.5", "image/png", good, 400, CodeBadQuery},
		{"pixel threshold NaN", "POST", "/v1/detect?pixel_threshold=NaN", "image/png", good, 400, CodeBadQuery},
		{"unknown subset", "POST", "/v1/detect?subset=scratch,rust", "image/png", good, 400, CodeUnknownSubset},
		{"bad colormap", "POST", "/v1/detect?colormap=rainbow", "image/png", good, 400, CodeBadQuery},
		{"GET detect", "GET", "/v1/detect", "", nil, 405, CodeMethodNotAllowed},
		{"POST info", "POST", "/v1/info", "", nil, 405, CodeMethodNotAllowed},
		{"unknown endpoint", "GET", "/v1/nope", "", nil, 404, CodeNotFound},
		{"text wrong type", "POST", "/v1/text", "text/plain", []byte(`["a"]`), 415, CodeUnsupportedMedia},
	}
	for _, c := range cases {
		wantError(t, c.name, do(t, c.method, ts.URL+c.path, c.ctype, c.body), c.status, c.code)
	}
	// The server survived all of it.
	if r := do(t, "POST", ts.URL+"/v1/detect", "image/png", good); r.status != 200 {
		t.Errorf("after bad input: %d %s", r.status, r.body)
	}
}

func TestRecover(t *testing.T) {
	golden.Load(t)
	det, err := detector()
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(det, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := s.instrument("boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), CodeInternal) {
		t.Errorf("panic: %d %s", rec.Code, rec.Body)
	}
	var b bytes.Buffer
	s.metrics.write(&b)
	if !strings.Contains(b.String(), "dapo_panics_total 1") || !strings.Contains(b.String(), `endpoint="boom",code="500"`) {
		t.Errorf("panic not counted:\n%s", b.String())
	}
}

func TestTimeout(t *testing.T) {
	ts, set := newTestServer(t, Options{Timeout: time.Nanosecond})
	wantError(t, "timeout", do(t, "POST", ts.URL+"/v1/detect", "image/png", goldenImage(t, set, 0)), 504, CodeTimeout)
}

// TestOverload: with one worker and a queue of one, a burst gets fast
// 503s with Retry-After, never a 500, and the server recovers; no
// goroutines outlive the requests.
func TestOverload(t *testing.T) {
	before := runtime.NumGoroutine()
	ts, set := newTestServer(t, Options{Workers: 1, Queue: 1})
	img := goldenImage(t, set, 0)
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				r := do(t, "POST", ts.URL+"/v1/detect?maps=1", "image/png", img)
				if r.status == 503 && r.header.Get("Retry-After") == "" {
					t.Errorf("503 without Retry-After")
				}
				mu.Lock()
				counts[r.status]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Logf("status counts: %v", counts)
	if counts[503] == 0 || counts[200] == 0 || counts[200]+counts[503] != 60 {
		t.Errorf("want only 200s and some 503s, got %v", counts)
	}
	if r := do(t, "POST", ts.URL+"/v1/detect", "image/png", img); r.status != 200 {
		t.Errorf("after the burst: %d %s", r.status, r.body)
	}
	m := do(t, "GET", ts.URL+"/metrics", "", nil)
	if !strings.Contains(string(m.body), "dapo_queue_rejections_total ") || strings.Contains(string(m.body), "dapo_queue_rejections_total 0\n") {
		t.Errorf("rejections not counted:\n%s", m.body)
	}
	ts.Close()
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+3 {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines: %d before, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func TestServeShutdown(t *testing.T) {
	golden.Load(t)
	det, err := detector()
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(det, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	if r := do(t, "GET", "http://"+ln.Addr().String()+"/healthz", "", nil); r.status != 200 {
		t.Fatalf("healthz: %d", r.status)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}

func BenchmarkDetect(b *testing.B) {
	ts, set := newTestServer(b, Options{})
	img := goldenImage(b, set, 0)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if r := do(b, "POST", ts.URL+"/v1/detect", "image/png", img); r.status != 200 {
			b.Fatalf("%d %s", r.status, r.body)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}
