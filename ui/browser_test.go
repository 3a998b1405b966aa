//go:build !js

package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"dapo/shared/bundle"
	"dapo/shared/bundle/bundletest"
	"dapo/shared/safetensors"
	"dapo/ui/inspect"
	"dapo/ui/internal/headless"
)

// demoShape is small enough to score instantly, large enough for a varied
// map: 4 layers (maps in [0, 4]), 64×64 maps, a 96×64 original.
var demoShape = bundletest.Shape{Grid: 8, Size: 64, E: 32, Classes: 5, Layers: 4, Width: 96, Height: 64}

// browser starts headless Chromium, or skips (fails with
// DAPO_REQUIRE_BROWSER=1) when there is none.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := headless.ExecPath()
	if err != nil {
		if os.Getenv("DAPO_REQUIRE_BROWSER") == "1" {
			t.Fatalf("DAPO_REQUIRE_BROWSER=1: %v", err)
		}
		t.Skipf("skipping the browser test: %v", err)
	}
	ctx, cancel := headless.NewContext(context.Background(), path, t.TempDir(), 1280, 900)
	t.Cleanup(cancel)
	return ctx
}

// buildSite builds the app with scripts/build-ui.sh into a temporary folder.
func buildSite(t *testing.T) string {
	t.Helper()
	site := filepath.Join(t.TempDir(), "site")
	cmd := exec.Command("../scripts/build-ui.sh", site)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("build-ui.sh: %v\n%s", err, out)
	}
	t.Logf("%s", bytes.TrimSpace(out))
	return site
}

// demoBundle is a random bundle with a flat grey JPEG thumbnail (at half
// the original size), so that the canvas shows heatmap colours over grey.
func demoBundle(t *testing.T, seed int64) []byte {
	t.Helper()
	data, err := bundletest.RandomBundle(seed, demoShape)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, 48, 32))
	for i := range img.Pix {
		img.Pix[i] = 128
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

// gtMask is a 128×128 PNG (twice the map) with the block x∈[32,96),
// y∈[16,64) white: 32×24 = 768 pixels at 64×64.
func gtMask(t *testing.T) []byte {
	img := image.NewGray(image.Rect(0, 0, 128, 128))
	for y := 16; y < 64; y++ {
		for x := 32; x < 96; x++ {
			img.SetGray(x, y, color.Gray{Y: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const wantGTPixels = 768

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// native scores a bundle with the app's options, natively.
func native(t *testing.T, name string, data []byte, s inspect.Settings) *inspect.Item {
	t.Helper()
	it, err := inspect.NewItem(name, name, data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Score(it); err != nil {
		t.Fatal(err)
	}
	return it
}

func run[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// wait polls a JavaScript condition, failing with what the page shows.
func wait(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(90*time.Second))); err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("waiting for %s (%s): %v\npage text:\n%s", what, cond, err, page)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return run(t, ctx, "read "+sel, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).textContent.trim()`, sel)))
}

func attr(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	return run(t, ctx, "read "+sel, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).getAttribute(%q) || ""`, sel, name)))
}

// canvas reads the canvas pixels (RGBA, row-major) and its size.
func canvas(t *testing.T, ctx context.Context) (w, h int, pix []byte) {
	t.Helper()
	var c struct {
		W, H int
		Pix  []byte // base64 in JSON
	}
	raw := run(t, ctx, "read the canvas", chromedp.Evaluate[[]byte](`(() => {
		const cv = document.getElementById("canvas");
		const d = cv.getContext("2d").getImageData(0, 0, cv.width, cv.height).data;
		let s = ""; for (let i = 0; i < d.length; i++) s += String.fromCharCode(d[i]);
		return {W: cv.width, H: cv.height, Pix: btoa(s)};
	})()`))
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c.W, c.H, c.Pix
}

// compareCanvas checks the canvas against the view composed natively.
func compareCanvas(t *testing.T, ctx context.Context, it *inspect.Item, what string) {
	t.Helper()
	want, err := inspect.Compose(it, inspect.View{Colormap: "jet", Alpha: 0.5, MaxSide: 720, ShowPred: true, ShowGT: true})
	if err != nil {
		t.Fatal(err)
	}
	w, h, pix := canvas(t, ctx)
	if w != want.Rect.Dx() || h != want.Rect.Dy() || len(pix) != len(want.Pix) {
		t.Fatalf("%s: canvas %d×%d (%d bytes), want %v", what, w, h, len(pix), want.Rect)
	}
	colours := map[[3]byte]bool{}
	grey := 0
	diff := 0
	for i := 0; i < len(pix); i += 4 {
		colours[[3]byte{pix[i], pix[i+1], pix[i+2]}] = true
		if pix[i] == pix[i+1] && pix[i+1] == pix[i+2] {
			grey++
		}
		if !bytes.Equal(pix[i:i+4], want.Pix[i:i+4]) {
			diff++
		}
	}
	// The thumbnail is flat grey: colours show the heatmap is drawn.
	if len(colours) < 100 || grey > len(pix)/4/2 {
		t.Errorf("%s: canvas has %d colours, %d of %d pixels grey: heatmap not drawn", what, len(colours), grey, len(pix)/4)
	}
	if diff > 0 {
		t.Errorf("%s: %d of %d canvas pixels differ from the natively composed view", what, diff, len(pix)/4)
	}
}

func TestBrowserApp(t *testing.T) {
	ctx := browser(t)
	site := buildSite(t)

	// Three gallery items, the first with a ground-truth mask; a fourth
	// bundle and an image are opened through the file input later.
	names := []string{"pcb/test/hole/000.png", "pcb/test/good/001.png", "washer/test/crack/002.png"}
	var bundles [][]byte
	type entry struct {
		Name   string `json:"name"`
		Bundle string `json:"bundle"`
		Mask   string `json:"mask,omitempty"`
	}
	var entries []entry
	for i, n := range names {
		b := demoBundle(t, int64(100+i))
		bundles = append(bundles, b)
		e := entry{Name: n, Bundle: fmt.Sprintf("item%d%s", i, inspect.BundleSuffix)}
		if i == 0 {
			e.Mask = "masks/item0.mask.png"
			write(t, filepath.Join(site, "gallery", e.Mask), gtMask(t))
		}
		write(t, filepath.Join(site, "gallery", e.Bundle), b)
		entries = append(entries, e)
	}
	index, err := json.Marshal(map[string]any{"version": 1, "items": entries})
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(site, "gallery", "index.json"), index)
	ts := httptest.NewServer(http.FileServer(http.Dir(site)))
	defer ts.Close()

	settings := inspect.DefaultSettings()
	first := native(t, names[0], bundles[0], settings)
	if err := first.SetGT("item0.mask.png", gtMask(t)); err != nil {
		t.Fatal(err)
	}

	// ?nosw: no service worker, so every request reaches the test server.
	run(t, ctx, "open the app", chromedp.Navigate(ts.URL+"/index.html?nosw"))
	wait(t, ctx, "the gallery and the first frame",
		`document.querySelectorAll("#gallery li").length === 3 && document.getElementById("canvas")?.dataset.drawn !== undefined`)

	// Score and verdict of the selected (first) item, as natively.
	if got, want := text(t, ctx, "#score"), inspect.FormatScore(first.Result.Score); got != want {
		t.Errorf("#score %q, native %q", got, want)
	}
	if got := text(t, ctx, "#verdict"); got != first.Result.Verdict {
		t.Errorf("#verdict %q, native %q", got, first.Result.Verdict)
	}
	// Gallery sorted by score, as natively.
	var all []*inspect.Item
	for i, n := range names {
		all = append(all, native(t, n, bundles[i], settings))
	}
	var wantOrder []string
	for _, it := range inspect.Sorted(all) {
		wantOrder = append(wantOrder, it.Name)
	}
	gotOrder := run(t, ctx, "gallery order", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("#gallery li")].map(li => li.dataset.name)`))
	if !slices.Equal(gotOrder, wantOrder) {
		t.Errorf("gallery order %v, native %v", gotOrder, wantOrder)
	}
	// Ground truth from the index, scaled to the map.
	if got := attr(t, ctx, "#gt-pixels", "data-count"); got != strconv.Itoa(wantGTPixels) {
		t.Errorf("#gt-pixels data-count %q, want %d", got, wantGTPixels)
	}
	compareCanvas(t, ctx, first, "first frame")

	// Threshold: pick the map's median so that about half the pixels are
	// in the mask, a count that differs from the default threshold's.
	before := attr(t, ctx, "#mask-pixels", "data-count")
	m := slices.Clone(first.Result.AnomalyMap)
	slices.Sort(m)
	thr := strconv.FormatFloat(float64(m[len(m)/2]), 'f', 2, 64)
	s2 := settings
	s2.PixelThreshold, _ = strconv.ParseFloat(thr, 64)
	if _, err := s2.Score(first); err != nil {
		t.Fatal(err)
	}
	want := strconv.Itoa(inspect.Count(first.Result.Mask))
	if want == before {
		t.Fatalf("threshold %s gives the default's %s mask pixels: pick another", thr, want)
	}
	drawn := attr(t, ctx, "#canvas", "data-drawn")
	run(t, ctx, "move the threshold", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const el = document.getElementById("threshold");
		el.value = %q;
		el.dispatchEvent(new Event("input", {bubbles: true}));
		el.dispatchEvent(new Event("change", {bubbles: true}));
	})()`, thr)))
	wait(t, ctx, "the mask at threshold "+thr, fmt.Sprintf(
		`document.getElementById("mask-pixels").dataset.count === %q && document.getElementById("canvas").dataset.drawn !== %q`, want, drawn))
	if got := text(t, ctx, "#threshold-value"); got != thr {
		t.Errorf("#threshold-value %q, want %q", got, thr)
	}
	compareCanvas(t, ctx, first, "threshold "+thr)
	t.Logf("threshold %s: mask %s -> %s pixels", thr, before, want)

	// Switch the most probable defect type off: the legend marks it off and
	// the rest shows the subset's probabilities, as natively.
	top := first.Result.DefectTypes[0].Name
	run(t, ctx, "switch off "+top, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`document.querySelector('#legend li[data-type=%q] input').click()`, top)))
	wait(t, ctx, top+" off", fmt.Sprintf(`document.querySelector('#legend li[data-type=%q]')?.classList.contains("off")`, top))
	s3 := s2
	s3.Disabled = map[string]bool{top: true}
	if _, err := s3.Score(first); err != nil {
		t.Fatal(err)
	}
	for _, d := range first.Result.DefectTypes {
		sel := fmt.Sprintf(`#legend li[data-type=%q] .prob`, d.Name)
		if got, want := text(t, ctx, sel), inspect.FormatPercent(d.Probability); got != want {
			t.Errorf("legend %s: %q, native with %s off %q", d.Name, got, top, want)
		}
	}
	if got, want := text(t, ctx, `#legend li[data-type="`+top+`"] .prob`), "off"; got != want {
		t.Errorf("legend %s: %q, want %q", top, got, want)
	}
	if got, want := text(t, ctx, "#score"), inspect.FormatScore(first.Result.Score); got != want {
		t.Errorf("#score with %s off %q, native %q", top, got, want)
	}

	// Open files: a fourth bundle is scored in the page; a plain image needs
	// the server, which this static host is not, and says so.
	dir := t.TempDir()
	extra := filepath.Join(dir, "extra.bundle.safetensors")
	write(t, extra, demoBundle(t, 200))
	photo := filepath.Join(dir, "photo.png")
	write(t, photo, gtMask(t))
	run(t, ctx, "open files", chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{extra, photo}))
	wait(t, ctx, "the opened bundle and the server message",
		`document.querySelectorAll("#gallery li").length === 4 && document.getElementById("message")?.textContent.includes("dapo serve")`)
}
