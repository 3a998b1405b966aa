package bindtest

import (
	"math"
	"math/rand"
	"testing"

	"dapo/server/compute"
)

// HeadShapes are the fused-head shapes HeadMatchesCPU runs: odd sizes,
// a 1×1 grid, and one layer at the default geometry (37×37 → 518×518,
// 21 classes, E 768).
var HeadShapes = []compute.HeadSpec{
	{Batch: 3, Grid: 5, Size: 23, Classes: 7, Embed: 33, Layers: 2, Temperature: 0.07, Local: 4, Image: 1},
	{Batch: 1, Grid: 1, Size: 5, Classes: 2, Embed: 17, Layers: 1, Temperature: 0.07, Local: 4, Image: 1},
	{Batch: 2, Grid: 4, Size: 4, Classes: 3, Embed: 8, Layers: 3, Temperature: 0.5, Local: 2, Image: 0.5},
	{Batch: 2, Grid: 37, Size: 518, Classes: 21, Embed: 768, Layers: 1, Temperature: 0.07, Local: 4, Image: 1},
}

// RandomHead is a random head problem: features, raw text and global
// features, labels and a random rectangle mask of a random class per
// anomalous image.
func RandomHead(r *rand.Rand, h compute.HeadSpec) (feats [][]float32, text, global []float32, tg compute.HeadTargets) {
	n := func(k int) []float32 {
		x := make([]float32, k)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		return x
	}
	for l := 0; l < h.Layers; l++ {
		feats = append(feats, n(h.Rows()*h.Embed))
	}
	text, global = n(h.Classes*h.Embed), n(h.Batch*h.Embed)
	s := h.Size
	for b := 0; b < h.Batch; b++ {
		y := r.Intn(2)
		tg.Label = append(tg.Label, y)
		cls := int32(1 + r.Intn(h.Classes-1))
		x0, y0, w := r.Intn(s), r.Intn(s), 1+r.Intn(s)
		for py := 0; py < s; py++ {
			for px := 0; px < s; px++ {
				if y == 1 && px >= x0 && px < x0+w && py >= y0 && py < y0+w {
					tg.ClassID, tg.Binary = append(tg.ClassID, cls), append(tg.Binary, 1)
				} else {
					tg.ClassID, tg.Binary = append(tg.ClassID, 0), append(tg.Binary, 0)
				}
			}
		}
	}
	return feats, text, global, tg
}

// HeadMatchesCPU runs the fused head (forward, then backward with a
// random upstream gradient) on be and on compute.CPU for every HeadShapes
// entry, and compares losses (|Δ| ≤ lossTol·max(1,|want|)) and gradients
// (Close with atol 0, rtol gradTol).
func HeadMatchesCPU(t *testing.T, be compute.Backend, lossTol, gradTol float64) {
	r := rand.New(rand.NewSource(11))
	cpuBe := &compute.CPU{}
	for _, h := range HeadShapes {
		feats, text, global, tg := RandomHead(r, h)
		dTotal := float32(0.5 + r.Float64())
		run := func(b compute.Backend) (compute.HeadLosses, [][]float32, []float32, []float32) {
			var ft, dft []compute.Tensor
			for _, f := range feats {
				ft, dft = append(ft, b.Upload(append([]float32(nil), f...))), append(dft, b.Zeros(len(f)))
			}
			loss, st, err := b.HeadForward(h, ft, b.Upload(append([]float32(nil), text...)), b.Upload(append([]float32(nil), global...)), tg)
			if err != nil {
				t.Fatal(err)
			}
			dText, dGlobal := b.Zeros(len(text)), b.Zeros(len(global))
			if err := b.HeadBackward(st, dTotal, dft, dText, dGlobal); err != nil {
				t.Fatal(err)
			}
			var df [][]float32
			for _, d := range dft {
				v := make([]float32, d.Len())
				b.Download(v, d)
				df = append(df, v)
			}
			dt, dg := make([]float32, len(text)), make([]float32, len(global))
			b.Download(dt, dText)
			b.Download(dg, dGlobal)
			if err := b.Err(); err != nil {
				t.Fatal(err)
			}
			return loss, df, dt, dg
		}
		got, gdf, gdt, gdg := run(be)
		want, wdf, wdt, wdg := run(cpuBe)
		t.Logf("shape %+v", h)
		losses := func(l compute.HeadLosses) []float32 {
			out := []float32{l.ImageCE, l.LocalUnweighted, l.Local, l.Total}
			out = append(out, l.Focal...)
			out = append(out, l.DiceNormal...)
			out = append(out, l.DiceAnomaly...)
			return append(out, l.ImageLogits...)
		}
		gl, wl := losses(got), losses(want)
		maxD := 0.0
		for i := range wl {
			d := math.Abs(float64(gl[i]) - float64(wl[i]))
			if math.IsNaN(d) || d > lossTol*math.Max(1, math.Abs(float64(wl[i]))) {
				t.Errorf("loss value %d: %g, CPU %g", i, gl[i], wl[i])
			}
			maxD = math.Max(maxD, d)
		}
		t.Logf("losses: max |got−want| %.3g", maxD)
		for l := range wdf {
			Close(t, "dFeats", gdf[l], wdf[l], 0, gradTol)
		}
		Close(t, "dText", gdt, wdt, 0, gradTol)
		Close(t, "dGlobal", gdg, wdg, 0, gradTol)
	}
}
