package edgeapi

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"dapo/shared/bundle"
	"dapo/shared/bundle/bundletest"
	"dapo/shared/safetensors"
	"dapo/wasm/scoreapi"
)

// small is a bundle shape that scores in milliseconds.
var small = bundletest.Shape{Grid: 4, Size: 16, E: 8, Classes: 4, Layers: 2, Width: 24, Height: 20}

func randomBundle(t *testing.T) []byte {
	t.Helper()
	b, err := bundletest.RandomBundle(7, small)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withJPEG re-encodes data with a w×h JPEG thumbnail, for the overlay.
func withJPEG(t *testing.T, data []byte, w, h int) []byte {
	t.Helper()
	b, err := bundle.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	b.JPEG = buf.Bytes()
	out, err := bundle.Encode(b, safetensors.F32)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// withNaN returns a copy of data with the first value of layer.0 set to NaN.
func withNaN(t *testing.T, data []byte) []byte {
	t.Helper()
	f, err := safetensors.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	info, ok := f.Info(bundle.LayerName(0))
	if !ok || info.DType != safetensors.F32 {
		t.Fatalf("layer.0: %+v", info)
	}
	out := append([]byte{}, data...)
	off := 8 + int64(binary.LittleEndian.Uint64(data[:8])) + info.Begin
	binary.LittleEndian.PutUint32(out[off:], math.Float32bits(float32(math.NaN())))
	return out
}

type call struct {
	method, target, contentType string
	body                        []byte
}

func serve(t *testing.T, h http.Handler, c call) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(c.method, c.target, bytes.NewReader(c.body))
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func post(target string, body []byte) call {
	return call{"POST", target, "application/octet-stream", body}
}

// multipartBody puts data in field name, after an unrelated field.
func multipartBody(t *testing.T, name string, data []byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.WriteField("note", "ignored"); err != nil {
		t.Fatal(err)
	}
	fw, err := mw.CreateFormFile(name, "part.bundle.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), buf.Bytes()
}

func decodeScore(t *testing.T, rec *httptest.ResponseRecorder) ScoreResponse {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	got := ScoreResponse{Result: &scoreapi.Result{}}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("response %q: %v", rec.Body, err)
	}
	return got
}

// sameScore compares the JSON fields of got with want, exactly: the same
// code ran on the same bytes.
func sameScore(t *testing.T, got ScoreResponse, want *scoreapi.Result) {
	t.Helper()
	g, w := *got.Result, *want
	g.AnomalyMap, g.Mask, g.PixelClass, g.HeatmapPNG, g.MaskPNG, g.OverlayPNG = nil, nil, nil, nil, nil, nil
	w.AnomalyMap, w.Mask, w.PixelClass, w.HeatmapPNG, w.MaskPNG, w.OverlayPNG = nil, nil, nil, nil, nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Errorf("result differs from scoreapi.Score:\n got %+v\nwant %+v", g, w)
	}
}

func TestScoreGolden(t *testing.T) {
	g := bundletest.LoadGolden(t, 0)
	want, err := scoreapi.Score(g.Bundle, scoreapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := New(Config{})
	got := decodeScore(t, serve(t, h, post("/v1/score", g.Bundle)))
	sameScore(t, got, want)
	if got.ImageThreshold != 0.5 || got.HeatmapPNG != nil || got.MaskPNG != nil || got.OverlayPNG != nil {
		t.Errorf("defaults: image threshold %v, PNGs without maps=1: %d %d %d bytes",
			got.ImageThreshold, len(got.HeatmapPNG), len(got.MaskPNG), len(got.OverlayPNG))
	}
	if got.PixelThreshold != float64(g.Layers)/2 || got.Size != g.Size {
		t.Errorf("pixel threshold %v, size %d; golden has %d layers, size %d", got.PixelThreshold, got.Size, g.Layers, g.Size)
	}

	ct, body := multipartBody(t, "bundle", g.Bundle)
	sameScore(t, decodeScore(t, serve(t, h, call{"POST", "/v1/score", ct, body})), want)
}

func TestScoreOptionsAndMaps(t *testing.T) {
	data := withJPEG(t, randomBundle(t), 40, 30)
	pt, it, alpha := 0.75, 0.25, 0.3
	want, err := scoreapi.Score(data, scoreapi.Options{
		PixelThreshold: &pt, ImageThreshold: &it, Alpha: &alpha,
		Subset: []string{"defect3", "defect1"}, Colormap: "viridis",
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := serve(t, New(Config{}), post("/v1/score?pixel_threshold=0.75&image_threshold=0.25&alpha=0.3"+
		"&subset=defect3,+defect1,&colormap=viridis&maps=1&unknown=ignored", data))
	got := decodeScore(t, rec)
	sameScore(t, got, want)
	if got.ImageThreshold != it || len(got.DefectTypes) != 2 {
		t.Errorf("image threshold %v, defect types %v", got.ImageThreshold, got.DefectTypes)
	}
	for _, p := range []struct {
		name      string
		got, want []byte
		w, h      int
	}{
		{"heatmap", got.HeatmapPNG, want.HeatmapPNG, small.Width, small.Height},
		{"mask", got.MaskPNG, want.MaskPNG, small.Size, small.Size},
		{"overlay", got.OverlayPNG, want.OverlayPNG, 40, 30},
	} {
		if !bytes.Equal(p.got, p.want) {
			t.Errorf("%s PNG differs from scoreapi's (%d vs %d bytes)", p.name, len(p.got), len(p.want))
		}
		img, err := png.Decode(bytes.NewReader(p.got))
		if err != nil {
			t.Errorf("%s PNG: %v", p.name, err)
			continue
		}
		if b := img.Bounds(); b.Dx() != p.w || b.Dy() != p.h {
			t.Errorf("%s PNG is %dx%d, want %dx%d", p.name, b.Dx(), b.Dy(), p.w, p.h)
		}
	}
}

func TestInfoHealthAssets(t *testing.T) {
	fs := http.FileServerFS(fstest.MapFS{"index.html": {Data: []byte("<title>app</title>")}})
	h := New(Config{Assets: fs, MaxBody: 1234})

	rec := serve(t, h, call{method: "GET", target: "/v1/info"})
	var info Info
	if err := json.Unmarshal(rec.Body.Bytes(), &info); err != nil || rec.Code != 200 {
		t.Fatalf("info: %d %q %v", rec.Code, rec.Body, err)
	}
	want := Info{Version: scoreapi.Version(), BundleVersion: bundle.Version, MaxBodyBytes: 1234,
		Colormaps: []string{"jet", "viridis", "inferno", "gray"}}
	if !reflect.DeepEqual(info, want) {
		t.Errorf("info %+v, want %+v", info, want)
	}
	for _, m := range []string{"GET", "HEAD"} {
		rec = serve(t, h, call{method: m, target: "/healthz"})
		if rec.Code != 200 || (m == "GET" && rec.Body.String() != "ok\n") {
			t.Errorf("%s /healthz: %d %q", m, rec.Code, rec.Body)
		}
	}
	rec = serve(t, h, call{method: "GET", target: "/"})
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "<title>app</title>") {
		t.Errorf("GET /: %d %q", rec.Code, rec.Body)
	}
	if rec.Header().Get(ServedByHeader) != ServedBy {
		t.Errorf("GET /: %s %q", ServedByHeader, rec.Header().Get(ServedByHeader))
	}
	rec = serve(t, h, call{method: "GET", target: "/missing.js"})
	if rec.Code != 404 {
		t.Errorf("GET /missing.js: %d", rec.Code)
	}
	wantError(t, "no assets", serve(t, New(Config{}), call{method: "GET", target: "/"}), 404, CodeNotFound)
	wantError(t, "POST /", serve(t, h, call{method: "POST", target: "/"}), 405, CodeMethodNotAllowed)
}

func wantError(t *testing.T, name string, rec *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Errorf("%s: body %q is not a JSON error: %v", name, rec.Body, err)
		return
	}
	t.Logf("%s: %d %s: %s", name, rec.Code, e.Code, e.Error)
	if rec.Code != status || e.Code != code || e.Error == "" {
		t.Errorf("%s: %d %+v, want %d %q", name, rec.Code, e, status, code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type %q", name, ct)
	}
}

func TestErrors(t *testing.T) {
	good := randomBundle(t)
	h := New(Config{MaxBody: int64(len(good)) + 1024})
	mpCT, mpNoBundle := multipartBody(t, "file", good)
	_, mpHuge := multipartBody(t, "bundle", make([]byte, len(good)+2048))
	var notDapo bytes.Buffer
	if err := safetensors.Write(&notDapo, []safetensors.Tensor{safetensors.FromFloat32("x", []int{1}, []float32{1}, safetensors.F32)}, nil); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		c      call
		status int
		code   string
	}{
		{"random bytes", post("/v1/score", bytes.Repeat([]byte{0x5a, 0x13, 0xc7}, 300)), 422, CodeInvalidBundle},
		{"truncated", post("/v1/score", good[:len(good)/2]), 422, CodeInvalidBundle},
		{"short", post("/v1/score", good[:5]), 422, CodeInvalidBundle},
		{"NaN in a layer", post("/v1/score", withNaN(t, good)), 422, CodeInvalidBundle},
		{"not a dapo bundle", post("/v1/score", notDapo.Bytes()), 422, CodeInvalidBundle},
		{"empty body", post("/v1/score", nil), 400, CodeMissingBundle},
		{"wrong content type", call{"POST", "/v1/score", "text/plain", good}, 415, CodeUnsupportedMedia},
		{"no content type", call{"POST", "/v1/score", "", good}, 415, CodeUnsupportedMedia},
		{"oversized body", post("/v1/score", make([]byte, len(good)+2048)), 413, CodeBodyTooLarge},
		{"oversized multipart", call{"POST", "/v1/score", mpCT, mpHuge}, 413, CodeBodyTooLarge},
		{"multipart without bundle", call{"POST", "/v1/score", mpCT, mpNoBundle}, 400, CodeMissingBundle},
		{"multipart without boundary", call{"POST", "/v1/score", "multipart/form-data", mpNoBundle}, 400, CodeBadRequest},
		{"bad maps", post("/v1/score?maps=perhaps", good), 400, CodeBadQuery},
		{"threshold not a number", post("/v1/score?image_threshold=abc", good), 400, CodeBadQuery},
		{"threshold out of range", post("/v1/score?image_threshold=1.5", good), 400, CodeBadQuery},
		{"pixel threshold NaN", post("/v1/score?pixel_threshold=NaN", good), 400, CodeBadQuery},
		{"pixel threshold zero", post("/v1/score?pixel_threshold=0", good), 400, CodeBadQuery},
		{"pixel threshold Inf", post("/v1/score?pixel_threshold=Inf", good), 400, CodeBadQuery},
		{"pixel threshold above layers", post("/v1/score?pixel_threshold=2.5", good), 400, CodeBadQuery},
		{"alpha out of range", post("/v1/score?alpha=-0.1", good), 400, CodeBadQuery},
		{"bad colormap", post("/v1/score?colormap=rainbow", good), 400, CodeBadQuery},
		{"unknown subset", post("/v1/score?subset=defect1,rust", good), 400, CodeUnknownSubset},
		{"repeated subset", post("/v1/score?subset=defect1,defect1", good), 400, CodeBadQuery},
		{"subset without defects", post("/v1/score?subset=normal", good), 400, CodeBadQuery},
		{"GET score", call{method: "GET", target: "/v1/score"}, 405, CodeMethodNotAllowed},
		{"POST info", call{method: "POST", target: "/v1/info"}, 405, CodeMethodNotAllowed},
		{"DELETE healthz", call{method: "DELETE", target: "/healthz"}, 405, CodeMethodNotAllowed},
		{"unknown endpoint", call{method: "GET", target: "/v1/nope"}, 404, CodeNotFound},
	}
	for _, c := range cases {
		rec := serve(t, h, c.c)
		wantError(t, c.name, rec, c.status, c.code)
		if c.status == 405 && rec.Header().Get("Allow") == "" {
			t.Errorf("%s: no Allow header", c.name)
		}
	}

	// Without Content-Length (a streamed upload) the cap applies while reading.
	req := httptest.NewRequest("POST", "/v1/score", io.MultiReader(bytes.NewReader(make([]byte, len(good)+2048))))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/octet-stream")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	wantError(t, "oversized stream", rec, 413, CodeBodyTooLarge)

	// The good bundle passes the same handler, so the cases above fail for
	// the reason they name.
	if rec := serve(t, h, post("/v1/score?subset=defect2", good)); rec.Code != 200 {
		t.Errorf("good bundle: %d %s", rec.Code, rec.Body)
	}
}

func TestPanicIsInternalError(t *testing.T) {
	h := New(Config{Assets: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("secret detail") })})
	rec := serve(t, h, call{method: "GET", target: "/"})
	wantError(t, "panic", rec, 500, CodeInternal)
	if strings.Contains(rec.Body.String(), "secret") {
		t.Errorf("internal detail leaked: %s", rec.Body)
	}
}

// The pixels of a JPEG-less bundle's heatmap are what scoreapi renders; a
// plain colour check guards against an empty image.
func TestHeatmapNotBlank(t *testing.T) {
	rec := serve(t, New(Config{}), post("/v1/score?maps=true", randomBundle(t)))
	got := decodeScore(t, rec)
	img, err := png.Decode(bytes.NewReader(got.HeatmapPNG))
	if err != nil {
		t.Fatal(err)
	}
	colours := map[color.Color]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			colours[img.At(x, y)] = true
		}
	}
	if len(colours) < 2 || got.OverlayPNG != nil {
		t.Errorf("heatmap has %d colours; overlay %d bytes without a thumbnail", len(colours), len(got.OverlayPNG))
	}
}
