package compute

import (
	"math"
	"math/rand"
	"testing"
)

// randomHead builds a random head problem (features, text, global,
// targets with masks of random classes) for tests.
func randomHead(r *rand.Rand, h HeadSpec) (feats [][]float32, text, global []float32, tg HeadTargets) {
	n := func(k int, scale float64) []float32 {
		x := make([]float32, k)
		for i := range x {
			x[i] = float32(r.NormFloat64() * scale)
		}
		return x
	}
	for l := 0; l < h.Layers; l++ {
		feats = append(feats, n(h.Rows()*h.Embed, 1))
	}
	text, global = n(h.Classes*h.Embed, 1), n(h.Batch*h.Embed, 1)
	s := h.Size
	for b := 0; b < h.Batch; b++ {
		y := r.Intn(2)
		tg.Label = append(tg.Label, y)
		cls := int32(1 + r.Intn(h.Classes-1))
		x0, y0, w := r.Intn(s), r.Intn(s), 1+r.Intn(s)
		for py := 0; py < s; py++ {
			for px := 0; px < s; px++ {
				in := y == 1 && px >= x0 && px < x0+w && py >= y0 && py < y0+w
				if in {
					tg.ClassID, tg.Binary = append(tg.ClassID, cls), append(tg.Binary, 1)
				} else {
					tg.ClassID, tg.Binary = append(tg.ClassID, 0), append(tg.Binary, 0)
				}
			}
		}
	}
	return feats, text, global, tg
}

// TestHeadFiniteDifferences checks the CPU head's backward against
// central differences of its float64 total loss, on random shapes with odd
// sizes; the inputs are float64-exact perturbations of float32 values.
func TestHeadFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for _, h := range []HeadSpec{
		{Batch: 2, Grid: 3, Size: 7, Classes: 4, Embed: 5, Layers: 2, Temperature: 0.07, Local: 4, Image: 1},
		{Batch: 3, Grid: 5, Size: 11, Classes: 6, Embed: 9, Layers: 1, Temperature: 0.5, Local: 4, Image: 1},
		{Batch: 1, Grid: 1, Size: 3, Classes: 2, Embed: 4, Layers: 1, Temperature: 0.2, Local: 2, Image: 0.5},
	} {
		feats, text, global, tg := randomHead(r, h)
		c := &CPU{}
		total := func() float64 {
			var ft []Tensor
			for _, f := range feats {
				ft = append(ft, Host(f))
			}
			loss, _, err := c.HeadForward(h, ft, Host(text), Host(global), tg)
			if err != nil {
				t.Fatal(err)
			}
			return loss.total
		}
		var ft, dft []Tensor
		for _, f := range feats {
			ft, dft = append(ft, Host(f)), append(dft, Host(make([]float32, len(f))))
		}
		_, st, err := c.HeadForward(h, ft, Host(text), Host(global), tg)
		if err != nil {
			t.Fatal(err)
		}
		dText, dGlobal := make([]float32, len(text)), make([]float32, len(global))
		if err := c.HeadBackward(st, 1, dft, Host(dText), Host(dGlobal)); err != nil {
			t.Fatal(err)
		}
		check := func(name string, x, grad []float32) {
			maxG, maxErr := 0.0, 0.0
			for _, g := range grad {
				maxG = math.Max(maxG, math.Abs(float64(g)))
			}
			for k := 0; k < 12; k++ {
				i := r.Intn(len(x))
				old := x[i]
				eps := float32(1e-2) * float32(math.Max(1, math.Abs(float64(old))))
				x[i] = old + eps
				up := total()
				x[i] = old - eps
				down := total()
				x[i] = old
				fd := (up - down) / float64((old+eps)-(old-eps))
				maxErr = math.Max(maxErr, math.Abs(fd-float64(grad[i])))
			}
			if maxErr > 1e-2*maxG+1e-6 {
				t.Errorf("%+v %s: finite differences differ by %.3g (max |grad| %.3g)", h, name, maxErr, maxG)
			} else {
				t.Logf("%s: max |fd − grad| %.3g (max |grad| %.3g)", name, maxErr, maxG)
			}
		}
		for l := range feats {
			check("feats", feats[l], dft[l].(Host))
		}
		check("text", text, dText)
		check("global", global, dGlobal)
	}
}
