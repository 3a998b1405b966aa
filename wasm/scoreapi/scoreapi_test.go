package scoreapi

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"reflect"
	"strings"
	"testing"

	"dapo/shared/bundle"
	"dapo/shared/bundle/bundletest"
	"dapo/shared/safetensors"
)

func ptr(v float64) *float64 { return &v }

func TestGoldenAnomalyMap(t *testing.T) {
	g := bundletest.LoadGolden(t, 0)
	res, err := Score(g.Bundle, Options{})
	if err != nil {
		t.Fatal(err)
	}
	compareMap(t, g, res.AnomalyMap)
	s := g.Size
	if res.Size != s || len(res.Mask) != s*s || len(res.PixelClass) != s*s {
		t.Fatalf("size %d, mask %d, pixelClass %d", res.Size, len(res.Mask), len(res.PixelClass))
	}
	if res.PixelThreshold != float64(g.Layers)/2 {
		t.Errorf("default pixel threshold %g, want %g", res.PixelThreshold, float64(g.Layers)/2)
	}
	for p, v := range res.AnomalyMap {
		if want := v > float32(res.PixelThreshold); (res.Mask[p] == 1) != want {
			t.Fatalf("mask[%d] = %d, map %g, threshold %g", p, res.Mask[p], v, res.PixelThreshold)
		}
	}
	if (res.Verdict == "anomalous") != (res.Score >= 0.5) {
		t.Errorf("verdict %q for score %g", res.Verdict, res.Score)
	}
	checkDefectTypes(t, res, len(g.Classes)-1)
	if res.TopDefect != res.DefectTypes[0].Name {
		t.Errorf("topDefect %q, best defect type %q", res.TopDefect, res.DefectTypes[0].Name)
	}
	checkPNG(t, res.HeatmapPNG, res.Width, res.Height)
	checkPNG(t, res.MaskPNG, s, s)
	t.Logf("score %.4f %s, top defect %q, in mask %q", res.Score, res.Verdict, res.TopDefect, res.TopDefectInMask)
}

// compareMap checks a map against the golden image's with the set's
// anomaly_map tolerance.
func compareMap(t *testing.T, g *bundletest.Golden, got []float32) {
	t.Helper()
	if len(got) != len(g.AnomalyMap) {
		t.Fatalf("anomaly map: %d values, golden %d", len(got), len(g.AnomalyMap))
	}
	var maxAbs, maxDiff float64
	for i, x := range g.AnomalyMap {
		maxAbs = math.Max(maxAbs, math.Abs(float64(x)))
		maxDiff = math.Max(maxDiff, math.Abs(float64(got[i]-x)))
	}
	bound := g.Set.Tol(t, "dapo_forward/anomaly_map").Bound(maxAbs)
	if !(maxDiff <= bound) {
		t.Fatalf("anomaly map: max |diff| %.3g > %.3g", maxDiff, bound)
	}
	t.Logf("anomaly map max |diff| %.3g (bound %.3g)", maxDiff, bound)
}

func TestSubset(t *testing.T) {
	g := bundletest.LoadGolden(t, 0)
	sub := []string{g.Classes[len(g.Classes)-1], g.Classes[1]}
	res, err := Score(g.Bundle, Options{Subset: sub, PixelThreshold: ptr(0.01), ImageThreshold: ptr(0), Colormap: "viridis"})
	if err != nil {
		t.Fatal(err)
	}
	checkDefectTypes(t, res, 2)
	for _, d := range res.DefectTypes {
		if d.Name != sub[0] && d.Name != sub[1] {
			t.Errorf("defect type %q outside the subset %v", d.Name, sub)
		}
	}
	allowed := map[uint8]bool{0: true, 1: true, uint8(len(g.Classes) - 1): true}
	for p, k := range res.PixelClass {
		if !allowed[k] {
			t.Fatalf("pixelClass[%d] = %d outside the subset", p, k)
		}
	}
	if res.Verdict != "anomalous" {
		t.Errorf("verdict %q with imageThreshold 0", res.Verdict)
	}
	// "normal" may be named; it is implied anyway.
	if _, err := Score(g.Bundle, Options{Subset: append([]string{"normal"}, sub...)}); err != nil {
		t.Errorf("subset with normal: %v", err)
	}
}

func checkDefectTypes(t *testing.T, res *Result, n int) {
	t.Helper()
	if len(res.DefectTypes) != n {
		t.Fatalf("%d defect types, want %d", len(res.DefectTypes), n)
	}
	var sum float64
	for i, d := range res.DefectTypes {
		sum += d.Probability
		if i > 0 && d.Probability > res.DefectTypes[i-1].Probability {
			t.Errorf("defect types not sorted: %v", res.DefectTypes)
		}
	}
	if math.Abs(sum-1) > 1e-5 {
		t.Errorf("defect probabilities sum to %g", sum)
	}
}

func checkPNG(t *testing.T, data []byte, w, h int) {
	t.Helper()
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("PNG: %v", err)
	}
	if cfg.Width != w || cfg.Height != h {
		t.Errorf("PNG %d×%d, want %d×%d", cfg.Width, cfg.Height, w, h)
	}
}

func TestErrors(t *testing.T) {
	g := bundletest.LoadGolden(t, 0)
	trunc := g.Bundle[:len(g.Bundle)/2]
	flip := append([]byte(nil), g.Bundle...)
	flip[3] ^= 0x7f // header length
	cases := []struct {
		name string
		data []byte
		opts Options
		want string
	}{
		{"empty", nil, Options{}, "empty bundle"},
		{"garbage", []byte("not a bundle at all"), Options{}, "bundle"},
		{"truncated", trunc, Options{}, "bundle"},
		{"header", flip, Options{}, "bundle"},
		{"unknown subset", g.Bundle, Options{Subset: []string{"no-such-defect"}}, "unknown class"},
		{"repeated subset", g.Bundle, Options{Subset: []string{g.Classes[1], g.Classes[1]}}, "repeated"},
		{"only normal", g.Bundle, Options{Subset: []string{"normal"}}, "no defect"},
		{"threshold", g.Bundle, Options{PixelThreshold: ptr(0)}, "pixelthreshold"},
		{"alpha", g.Bundle, Options{Alpha: ptr(2)}, "alpha"},
		{"colormap", g.Bundle, Options{Colormap: "rainbow"}, "colormap"},
		{"image threshold", g.Bundle, Options{ImageThreshold: ptr(math.NaN())}, "imagethreshold"},
	}
	for _, c := range cases {
		res, err := Score(c.data, c.opts)
		if err == nil || res != nil {
			t.Errorf("%s: got no error", c.name)
			continue
		}
		if !strings.Contains(strings.ToLower(err.Error()), c.want) {
			t.Errorf("%s: error %q lacks %q", c.name, err, c.want)
		}
	}
}

func BenchmarkScoreViTL518(b *testing.B) {
	data, err := bundletest.RandomBundle(1, bundletest.ViTL518)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Score(data, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestOverlay(t *testing.T) {
	g := bundletest.LoadGolden(t, 0)
	b, err := bundle.Decode(g.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 40, 30)), nil); err != nil {
		t.Fatal(err)
	}
	b.JPEG = buf.Bytes()
	data, err := bundle.Encode(b, safetensors.F32)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Score(data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, res.OverlayPNG, 40, 30)
	if res, err = Score(data, Options{Alpha: ptr(0)}); err != nil || res.OverlayPNG != nil {
		t.Errorf("alpha 0: overlay %d bytes, err %v", len(res.OverlayPNG), err)
	}
	b.JPEG = []byte("\xff\xd8 not a JPEG after all")
	if data, err = bundle.Encode(b, safetensors.F32); err != nil {
		t.Fatal(err)
	}
	if _, err := Score(data, Options{}); err == nil || !strings.Contains(err.Error(), "JPEG") {
		t.Errorf("bad thumbnail: error %v", err)
	}
}

// TestNoImages: skipping the PNGs changes nothing else.
func TestNoImages(t *testing.T) {
	data, err := bundletest.RandomBundle(3, bundletest.Shape{Grid: 5, Size: 40, E: 16, Classes: 4, Layers: 2, Width: 64, Height: 48})
	if err != nil {
		t.Fatal(err)
	}
	thr := 1.0
	full, err := Score(data, Options{PixelThreshold: &thr})
	if err != nil {
		t.Fatal(err)
	}
	lean, err := Score(data, Options{PixelThreshold: &thr, NoImages: true})
	if err != nil {
		t.Fatal(err)
	}
	if lean.HeatmapPNG != nil || lean.MaskPNG != nil || lean.OverlayPNG != nil {
		t.Errorf("NoImages still encoded PNGs")
	}
	if len(full.HeatmapPNG) == 0 || len(full.MaskPNG) == 0 {
		t.Fatalf("default options encoded no PNGs")
	}
	full.HeatmapPNG, full.MaskPNG, full.OverlayPNG = nil, nil, nil
	if !reflect.DeepEqual(full, lean) {
		t.Errorf("NoImages changed the result:\n%+v\n%+v", full, lean)
	}
}
