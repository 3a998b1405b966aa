package imaging

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refResize is an independent float64 antialiased resampler written from
// the textbook definition: for output sample i, the source samples j are
// weighted by K((j + 0.5 - c) / s) with c = (i + 0.5) * in/out and
// s = max(in/out, 1), normalised to sum 1; rows first, clamped to 0..255
// in between like an 8-bit intermediate image, no fixed point, no rounding.
func refResize(src []float64, w, h, nc, ow, oh int, k func(float64) float64, support float64) []float64 {
	axis := func(in, out int) [][]float64 {
		scale := float64(in) / float64(out)
		s := math.Max(scale, 1)
		ws := make([][]float64, out)
		for i := range ws {
			c := (float64(i) + 0.5) * scale
			row := make([]float64, in)
			sum := 0.0
			for j := 0; j < in; j++ {
				if x := (float64(j) + 0.5 - c) / s; math.Abs(x) < support {
					row[j] = k(x)
					sum += row[j]
				}
			}
			for j := range row {
				row[j] /= sum
			}
			ws[i] = row
		}
		return ws
	}
	wx, wy := axis(w, ow), axis(h, oh)
	mid := make([]float64, ow*h*nc)
	for y := 0; y < h; y++ {
		for x := 0; x < ow; x++ {
			for c := 0; c < nc; c++ {
				v := 0.0
				for j, wt := range wx[x] {
					v += wt * src[(y*w+j)*nc+c]
				}
				if ow != w {
					v = math.Min(math.Max(v, 0), 255)
				} else {
					v = src[(y*w+x)*nc+c]
				}
				mid[(y*ow+x)*nc+c] = v
			}
		}
	}
	if oh == h {
		return mid
	}
	out := make([]float64, ow*oh*nc)
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			for c := 0; c < nc; c++ {
				v := 0.0
				for j, wt := range wy[y] {
					v += wt * mid[(j*ow+x)*nc+c]
				}
				out[(y*ow+x)*nc+c] = math.Min(math.Max(v, 0), 255)
			}
		}
	}
	return out
}

func keys(x float64) float64 { // Keys' cubic, a = -0.5
	x = math.Abs(x)
	switch {
	case x < 1:
		return 1.5*x*x*x - 2.5*x*x + 1
	case x < 2:
		return -0.5*x*x*x + 2.5*x*x - 4*x + 2
	}
	return 0
}

func triangle(x float64) float64 { return math.Max(0, 1-math.Abs(x)) }

// TestResizeAgainstReference checks random sizes (up, down, mixed) against
// the float reference: the 8-bit two-pass result may differ by the
// intermediate and final roundings only.
func TestResizeAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	worstC, worstL := 0.0, 0.0
	for n := 0; n < 150; n++ {
		w, h := 1+rng.IntN(40), 1+rng.IntN(40)
		ow, oh := 1+rng.IntN(60), 1+rng.IntN(60)
		img := &RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
		src := make([]float64, len(img.Pix))
		for i := range img.Pix {
			img.Pix[i] = uint8(rng.IntN(256))
			src[i] = float64(img.Pix[i])
		}
		got := ResizeBicubic(img, ow, oh)
		if got.W != ow || got.H != oh || len(got.Pix) != ow*oh*3 {
			t.Fatalf("%dx%d -> %dx%d: got %dx%d", w, h, ow, oh, got.W, got.H)
		}
		want := refResize(src, w, h, 3, ow, oh, keys, 2)
		for i, v := range want {
			worstC = math.Max(worstC, math.Abs(float64(got.Pix[i])-v))
		}
		g := &Gray{W: w, H: h, Pix: img.Pix[:w*h]}
		gl := ResizeBilinearGray(g, ow, oh)
		wantL := refResize(src[:w*h], w, h, 1, ow, oh, triangle, 1)
		for i, v := range wantL {
			worstL = math.Max(worstL, math.Abs(float64(gl.Pix[i])-v))
		}
	}
	t.Logf("max |8-bit - float reference|: bicubic %.3f, bilinear %.3f", worstC, worstL)
	// 0.5 final rounding + 0.5 intermediate rounding times the kernel's
	// L1 norm (< 1.3 for Keys' cubic) + fixed-point slack.
	if worstC > 1.25 || worstL > 1.05 {
		t.Errorf("resize too far from the float reference: bicubic %.3f, bilinear %.3f", worstC, worstL)
	}
}

func TestResizeIdentityAndConstant(t *testing.T) {
	img := &RGB{W: 5, H: 3, Pix: make([]uint8, 45)}
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 5)
	}
	same := ResizeBicubic(img, 5, 3)
	if string(same.Pix) != string(img.Pix) {
		t.Error("same-size resize changed the image")
	}
	same.Pix[0] = 1
	if img.Pix[0] != 0 {
		t.Error("same-size resize aliases its input")
	}
	for _, c := range []uint8{0, 1, 128, 254, 255} {
		flat := &RGB{W: 7, H: 9, Pix: make([]uint8, 7*9*3)}
		for i := range flat.Pix {
			flat.Pix[i] = c
		}
		for _, sz := range [][2]int{{1, 1}, {3, 20}, {50, 2}, {518, 518}} {
			out := ResizeBicubic(flat, sz[0], sz[1])
			for i, v := range out.Pix {
				if v != c {
					t.Fatalf("constant %d -> %v: value %d at %d", c, sz, v, i)
				}
			}
		}
	}
}
