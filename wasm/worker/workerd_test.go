//go:build !js

package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"dapo/shared/bundle"
	"dapo/shared/bundle/bundletest"
	"dapo/shared/safetensors"
	"dapo/wasm/edgeapi"
	"dapo/wasm/scoreapi"
)

// maxGzipBytes is Cloudflare's free-plan Worker size limit (3 MB, taken
// as decimal to be safe) for the gzipped script and wasm.
const maxGzipBytes = 3_000_000

// TestWorkerd builds the Worker with scripts/build-worker.sh, runs it under
// workerd from npm exactly as configured for local runs (assets router in
// front, ASSETS binding) and checks its answers against scoreapi natively.
func TestWorkerd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the Worker test builds js/wasm and starts workerd")
	}
	start := time.Now()
	bin := ensureWorkerd(t)
	out := buildWorker(t)
	t.Logf("ready to serve after %v", time.Since(start).Round(time.Millisecond))
	checkSize(t, out)
	base := startWorkerd(t, bin, out)

	t.Run("health and info", func(t *testing.T) {
		if code, body, _ := get(t, base+"/healthz"); code != 200 || body != "ok\n" {
			t.Errorf("GET /healthz: %d %q", code, body)
		}
		code, body, _ := get(t, base+"/v1/info")
		var info edgeapi.Info
		// Not scoreapi.Version() itself: its toolchain part names GOEXPERIMENTs,
		// which the test binary may have and the Worker's build clears.
		if err := json.Unmarshal([]byte(body), &info); err != nil || code != 200 ||
			!strings.HasPrefix(info.Version, "dapo-wasm ") || !strings.Contains(info.Version, "bundle "+bundle.Version) ||
			info.BundleVersion != bundle.Version || info.MaxBodyBytes != edgeapi.DefaultMaxBody {
			t.Errorf("GET /v1/info: %d %q (%v)", code, body, err)
		}
	})
	t.Run("golden bundle", func(t *testing.T) {
		g := bundletest.LoadGolden(t, 0)
		want, err := scoreapi.Score(g.Bundle, scoreapi.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := postScore(t, base+"/v1/score", g.Bundle)
		sameResult(t, got, want)
		t.Logf("golden image 0 under workerd: score %.6f (%s), top defect %q", got.Score, got.Verdict, got.TopDefect)
	})
	t.Run("maps", func(t *testing.T) { checkMaps(t, base) })
	t.Run("uploads", func(t *testing.T) { checkUploads(t, base) })
	t.Run("ViT-L/14@518 bundle", func(t *testing.T) {
		data, err := bundletest.RandomBundle(1, bundletest.ViTL518)
		if err != nil {
			t.Fatal(err)
		}
		want, err := scoreapi.Score(data, scoreapi.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		got := postScore(t, base+"/v1/score", data)
		t.Logf("%.1f MB bundle scored by the Worker in %v", float64(len(data))/1e6, time.Since(t0).Round(time.Millisecond))
		sameResult(t, got, want)
	})
	t.Run("errors", func(t *testing.T) { checkErrors(t, base) })
	t.Run("assets", func(t *testing.T) {
		code, body, h := get(t, base+"/")
		if code != 200 || !strings.Contains(body, "<title>dapo test app</title>") || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			t.Errorf("GET /: %d %q %q", code, h.Get("Content-Type"), body)
		}
		code, body, h = get(t, base+"/app.js")
		if code != 200 || body != "console.log('dapo');\n" || !strings.Contains(h.Get("Content-Type"), "javascript") {
			t.Errorf("GET /app.js: %d %q %q", code, h.Get("Content-Type"), body)
		}
		// No file: the router hands it to the Worker, which asks ASSETS.
		code, body, h = get(t, base+"/no-such-file.txt")
		if code != 404 || h.Get(edgeapi.ServedByHeader) != edgeapi.ServedBy || strings.Contains(body, `"code"`) {
			t.Errorf("GET /no-such-file.txt: %d, %s %q, body %q; want the ASSETS binding's 404 through the Worker",
				code, edgeapi.ServedByHeader, h.Get(edgeapi.ServedByHeader), body)
		}
	})
}

// buildWorker runs scripts/build-worker.sh into a temporary folder with a
// small app as the static assets.
func buildWorker(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	assets := filepath.Join(dir, "app")
	if err := os.MkdirAll(assets, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"index.html": "<!doctype html><title>dapo test app</title>\n",
		"app.js":     "console.log('dapo');\n",
	} {
		if err := os.WriteFile(filepath.Join(assets, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "worker")
	t0 := time.Now()
	cmd := exec.Command("../../scripts/build-worker.sh", out, assets)
	log, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("build-worker.sh: %v\n%s", err, log)
	}
	t.Logf("build-worker.sh (%v):\n%s", time.Since(t0).Round(time.Millisecond), log)
	return out
}

// checkSize measures what Cloudflare counts against the limit: the
// gzipped script and wasm, not the static assets.
func checkSize(t *testing.T, dir string) {
	t.Helper()
	var raw, gz int64
	for _, name := range []string{"worker.mjs", "runtime.mjs", "wasm_exec.js", "app.wasm"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(b)
		zw.Close()
		raw += int64(len(b))
		gz += int64(buf.Len())
	}
	t.Logf("Worker size: %d bytes raw, %d gzipped (limit %d)", raw, gz, maxGzipBytes)
	if gz >= maxGzipBytes {
		t.Errorf("gzipped Worker is %d bytes, over the %d-byte limit", gz, maxGzipBytes)
	}
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b), res.Header
}

func do(t *testing.T, method, url, contentType string, body []byte) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, b, res.Header
}

func postScore(t *testing.T, url string, data []byte) edgeapi.ScoreResponse {
	t.Helper()
	code, body, _ := do(t, "POST", url, "application/octet-stream", data)
	if code != 200 {
		t.Fatalf("POST %s: %d %s", url, code, body)
	}
	got := edgeapi.ScoreResponse{Result: &scoreapi.Result{}}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("POST %s: %q: %v", url, body, err)
	}
	return got
}

// sameResult compares the JSON fields with the native result: the same Go
// code on the same bytes, so equal to the last bit.
func sameResult(t *testing.T, got edgeapi.ScoreResponse, want *scoreapi.Result) {
	t.Helper()
	g := *got.Result
	if g.Score != want.Score || g.Verdict != want.Verdict || g.TopDefect != want.TopDefect ||
		g.TopDefectInMask != want.TopDefectInMask || !reflect.DeepEqual(g.DefectTypes, want.DefectTypes) ||
		!reflect.DeepEqual(g.Classes, want.Classes) || g.Size != want.Size || g.Width != want.Width ||
		g.Height != want.Height || g.PixelThreshold != want.PixelThreshold {
		t.Errorf("Worker result differs from native scoreapi.Score:\n got %+v\nwant %+v", g, *want)
	}
}

// checkMaps scores a bundle with a JPEG thumbnail with ?maps=1 and options,
// and decodes the three PNGs.
func checkMaps(t *testing.T, base string) {
	sh := bundletest.Shape{Grid: 7, Size: 56, E: 16, Classes: 5, Layers: 3, Width: 80, Height: 60}
	data, err := bundletest.RandomBundle(3, sh)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	var thumb bytes.Buffer
	if err := jpeg.Encode(&thumb, image.NewGray(image.Rect(0, 0, 40, 30)), nil); err != nil {
		t.Fatal(err)
	}
	b.JPEG = thumb.Bytes()
	if data, err = bundle.Encode(b, safetensors.F16); err != nil {
		t.Fatal(err)
	}
	alpha := 0.4
	want, err := scoreapi.Score(data, scoreapi.Options{Subset: []string{"defect2", "defect4"}, Colormap: "inferno", Alpha: &alpha})
	if err != nil {
		t.Fatal(err)
	}
	got := postScore(t, base+"/v1/score?maps=1&subset=defect2,defect4&colormap=inferno&alpha=0.4", data)
	sameResult(t, got, want)
	for _, p := range []struct {
		name      string
		got, want []byte
		w, h      int
	}{
		{"heatmap", got.HeatmapPNG, want.HeatmapPNG, sh.Width, sh.Height},
		{"mask", got.MaskPNG, want.MaskPNG, sh.Size, sh.Size},
		{"overlay", got.OverlayPNG, want.OverlayPNG, 40, 30},
	} {
		img, err := png.Decode(bytes.NewReader(p.got))
		if err != nil {
			t.Errorf("%s PNG (%d bytes): %v", p.name, len(p.got), err)
			continue
		}
		if r := img.Bounds(); r.Dx() != p.w || r.Dy() != p.h {
			t.Errorf("%s PNG is %dx%d, want %dx%d", p.name, r.Dx(), r.Dy(), p.w, p.h)
		}
		if !bytes.Equal(p.got, p.want) {
			t.Errorf("%s PNG differs from the native one", p.name)
		}
	}
}

// checkErrors sends bad requests; each must be a JSON error with its code.
func checkErrors(t *testing.T, base string) {
	good, err := bundletest.RandomBundle(5, bundletest.Shape{Grid: 4, Size: 16, E: 8, Classes: 3, Layers: 2, Width: 16, Height: 16})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, method, path, contentType string
		body                            []byte
		status                          int
		code                            string
	}{
		{"corrupt bundle", "POST", "/v1/score", "application/octet-stream", bytes.Repeat([]byte{0x5a, 0x13, 0xc7}, 300), 422, edgeapi.CodeInvalidBundle},
		{"truncated bundle", "POST", "/v1/score", "application/octet-stream", good[:len(good)-100], 422, edgeapi.CodeInvalidBundle},
		{"empty body", "POST", "/v1/score", "application/octet-stream", nil, 400, edgeapi.CodeMissingBundle},
		{"unknown subset", "POST", "/v1/score?subset=rust", "application/octet-stream", good, 400, edgeapi.CodeUnknownSubset},
		{"NaN threshold", "POST", "/v1/score?image_threshold=NaN", "application/octet-stream", good, 400, edgeapi.CodeBadQuery},
		{"wrong content type", "POST", "/v1/score", "text/plain", good, 415, edgeapi.CodeUnsupportedMedia},
		{"GET score", "GET", "/v1/score", "", nil, 405, edgeapi.CodeMethodNotAllowed},
		{"unknown endpoint", "GET", "/v1/nope", "", nil, 404, edgeapi.CodeNotFound},
	}
	for _, c := range cases {
		code, body, h := do(t, c.method, base+c.path, c.contentType, c.body)
		var e struct{ Error, Code string }
		if err := json.Unmarshal(body, &e); err != nil || code != c.status || e.Code != c.code || e.Error == "" ||
			h.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %q %q, want %d JSON with code %q", c.name, code, h.Get("Content-Type"), body, c.status, c.code)
		}
	}
	checkTooLarge(t, base)
	// The Worker still answers after the errors.
	if got := postScore(t, base+"/v1/score", good); got.Verdict == "" {
		t.Errorf("no verdict after the errors: %+v", got)
	}
}

// checkUploads sends a bundle as multipart and as a stream of unknown
// length (chunked): the Worker reads bodies with a known length in one
// piece and streams the others.
func checkUploads(t *testing.T, base string) {
	data, err := bundletest.RandomBundle(4, bundletest.Shape{Grid: 5, Size: 20, E: 8, Classes: 4, Layers: 2, Width: 30, Height: 20})
	if err != nil {
		t.Fatal(err)
	}
	want, err := scoreapi.Score(data, scoreapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	mw.WriteField("note", "ignored")
	fw, _ := mw.CreateFormFile("bundle", "part.bundle.safetensors")
	fw.Write(data)
	mw.Close()
	for _, c := range []struct {
		name, contentType string
		body              io.Reader
	}{
		{"multipart", mw.FormDataContentType(), &form},
		{"chunked", "application/octet-stream", io.MultiReader(bytes.NewReader(data))},
	} {
		res, err := http.Post(base+"/v1/score", c.contentType, c.body)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 {
			t.Errorf("%s upload: %d %s (%v)", c.name, res.StatusCode, body, err)
			continue
		}
		got := edgeapi.ScoreResponse{Result: &scoreapi.Result{}}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("%s upload: %q: %v", c.name, body, err)
		}
		sameResult(t, got, want)
	}
}

// checkTooLarge announces a body over the cap and sends only its start: the
// Worker must refuse it from Content-Length, before reading. (Sending it
// all races the early answer: the client may see a broken pipe first.)
func checkTooLarge(t *testing.T, base string) {
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(conn, "POST /v1/score HTTP/1.1\r\nHost: dapo\r\nContent-Type: application/octet-stream\r\n"+
		"Content-Length: %d\r\nConnection: close\r\n\r\n", edgeapi.DefaultMaxBody+1)
	conn.Write(make([]byte, 64<<10))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("too large: %v", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var e struct{ Error, Code string }
	if json.Unmarshal(body, &e) != nil || res.StatusCode != 413 || e.Code != edgeapi.CodeBodyTooLarge {
		t.Errorf("too large: %d %q, want 413 JSON with code %q", res.StatusCode, body, edgeapi.CodeBodyTooLarge)
	}
}
