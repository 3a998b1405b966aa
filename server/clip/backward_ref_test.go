package clip

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Float64 references and finite-difference helpers for the backward tests:
// the float32 analytic gradients are compared with central differences of
// a plain float64 forward, so the check is not limited by float32 noise.

const fdStep = 1e-5

// randVec returns n float32 values uniform in [center−scale, center+scale).
func randVec(rng *rand.Rand, n int, center, scale float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = center + (2*rng.Float32()-1)*scale
	}
	return v
}

func to64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

// randLinear is a Linear with weights scaled by 1/√in, so activations stay
// of order one through a few blocks.
func randLinear(rng *rand.Rand, out, in int) Linear {
	s := float32(1 / math.Sqrt(float64(in)))
	return Linear{Weight: randVec(rng, out*in, 0, s), Bias: randVec(rng, out, 0, 0.1), Out: out, In: in}
}

func randBlock(rng *rand.Rand, w, mlp int) Block {
	ln := func() LayerNorm { return LayerNorm{Weight: randVec(rng, w, 1, 0.3), Bias: randVec(rng, w, 0, 0.1)} }
	return Block{
		LN1: ln(), LN2: ln(),
		InProj: randLinear(rng, 3*w, w), OutProj: randLinear(rng, w, w),
		FC: randLinear(rng, mlp, w), Proj: randLinear(rng, w, mlp),
	}
}

func randTower(seed uint64, layers, w, heads int, quick, causal bool) *Transformer {
	rng := rand.New(rand.NewPCG(seed, 1))
	t := &Transformer{Heads: heads, QuickGELU: quick, Causal: causal}
	for range layers {
		t.Blocks = append(t.Blocks, randBlock(rng, w, 4*w))
	}
	return t
}

// fdGrad is the central-difference gradient of f at x.
func fdGrad(f func(x []float64) float64, x []float64) []float64 {
	g := make([]float64, len(x))
	for i := range x {
		old := x[i]
		x[i] = old + fdStep
		up := f(x)
		x[i] = old - fdStep
		down := f(x)
		x[i] = old
		g[i] = (up - down) / (2 * fdStep)
	}
	return g
}

// dot64 is Σ r⊙y: a loss whose gradient with respect to y is r.
func dot64(r []float32, y []float64) float64 {
	var s float64
	for i, v := range y {
		s += float64(r[i]) * v
	}
	return s
}

// dotF32 is Σ a⊙b in float32.
func dotF32(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// bitEqual reports whether a and b hold the same float32 bit patterns.
func bitEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// relErr is ‖got − want‖₂ / ‖want‖₂.
func relErr(got []float32, want []float64) float64 {
	var num, den float64
	for i, w := range want {
		d := float64(got[i]) - w
		num += d * d
		den += w * w
	}
	return math.Sqrt(num / den)
}

func checkGrad(t *testing.T, name string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d gradient values, want %d", name, len(got), len(want))
	}
	e := relErr(got, want)
	t.Logf("%s: relative L2 error vs float64 finite differences %.2e", name, e)
	if !(e <= tol) {
		t.Errorf("%s: relative error %.3g > %.3g", name, e, tol)
	}
}

func layerNorm64(x []float64, rows, width int, ln LayerNorm) []float64 {
	y := make([]float64, len(x))
	for r := 0; r < rows; r++ {
		in := x[r*width : (r+1)*width]
		var mean, sq float64
		for _, v := range in {
			mean += v
		}
		mean /= float64(width)
		for _, v := range in {
			sq += (v - mean) * (v - mean)
		}
		rstd := 1 / math.Sqrt(sq/float64(width)+1e-5)
		for j, v := range in {
			y[r*width+j] = (v-mean)*rstd*float64(ln.Weight[j]) + float64(ln.Bias[j])
		}
	}
	return y
}

// linear64 is y = x·Wᵀ + b with W [out,in] (PyTorch's layout).
func linear64(x []float64, rows int, l Linear) []float64 {
	y := make([]float64, rows*l.Out)
	for r := 0; r < rows; r++ {
		for o := 0; o < l.Out; o++ {
			s := float64(l.Bias[o])
			for i := 0; i < l.In; i++ {
				s += x[r*l.In+i] * float64(l.Weight[o*l.In+i])
			}
			y[r*l.Out+o] = s
		}
	}
	return y
}

// matMul64 is y = x·W with W [in,out] (open_clip's projections).
func matMul64(x []float64, rows, in, out int, w []float32) []float64 {
	y := make([]float64, rows*out)
	for r := 0; r < rows; r++ {
		for o := 0; o < out; o++ {
			var s float64
			for i := 0; i < in; i++ {
				s += x[r*in+i] * float64(w[i*out+o])
			}
			y[r*out+o] = s
		}
	}
	return y
}

func attention64(qkv []float64, batch, seq, width, heads int, causal bool) []float64 {
	hd := width / heads
	scale := 1 / math.Sqrt(float64(hd))
	out := make([]float64, batch*seq*width)
	p := make([]float64, seq)
	for b := 0; b < batch; b++ {
		at := func(i, part, d int) float64 { return qkv[(b*seq+i)*3*width+part*width+d] }
		for h := 0; h < heads; h++ {
			for i := 0; i < seq; i++ {
				n := seq
				if causal {
					n = i + 1
				}
				m := math.Inf(-1)
				for j := 0; j < n; j++ {
					var s float64
					for d := h * hd; d < (h+1)*hd; d++ {
						s += at(i, 0, d) * at(j, 1, d)
					}
					p[j] = s * scale
					m = max(m, p[j])
				}
				var sum float64
				for j := 0; j < n; j++ {
					p[j] = math.Exp(p[j] - m)
					sum += p[j]
				}
				for d := h * hd; d < (h+1)*hd; d++ {
					var s float64
					for j := 0; j < n; j++ {
						s += p[j] / sum * at(j, 2, d)
					}
					out[(b*seq+i)*width+d] = s
				}
			}
		}
	}
	return out
}

// block64 is one pre-LN block in float64, written from the definition.
func block64(t *Transformer, i int, x []float64, b, l, w int) []float64 {
	blk := &t.Blocks[i]
	n := b * l
	qkv := linear64(layerNorm64(x, n, w, blk.LN1), n, blk.InProj)
	attn := linear64(attention64(qkv, b, l, w, t.Heads, t.Causal), n, blk.OutProj)
	y := make([]float64, len(x))
	for j := range y {
		y[j] = x[j] + attn[j]
	}
	hidden := linear64(layerNorm64(y, n, w, blk.LN2), n, blk.FC)
	for j, v := range hidden {
		if t.QuickGELU {
			hidden[j] = v / (1 + math.Exp(-1.702*v))
		} else {
			hidden[j] = 0.5 * v * (1 + math.Erf(v/math.Sqrt2))
		}
	}
	mlp := linear64(hidden, n, blk.Proj)
	for j := range y {
		y[j] += mlp[j]
	}
	return y
}

// The prompt hooks of the tests, generic so that the float32 tower and the
// float64 reference share them.
type float interface{ ~float32 | ~float64 }

// insertRows returns [b, l+n, w]: p [n,w] inserted after row 0 of each
// sequence of x [b,l,w] (deep-prompt insertion).
func insertRows[T float](x, p []T, b, l, n, w int) []T {
	out := make([]T, 0, b*(l+n)*w)
	for s := 0; s < b; s++ {
		seq := x[s*l*w : (s+1)*l*w]
		out = append(out, seq[:w]...)
		out = append(out, p...)
		out = append(out, seq[w:]...)
	}
	return out
}

// blendRows sets rows 1..n of each sequence to α·x + (1−α)·p in place.
func blendRows[T float](x, p []T, b, l, n, w int, alpha T) {
	for s := 0; s < b; s++ {
		rows := x[(s*l+1)*w : (s*l+1+n)*w]
		for j := range rows {
			rows[j] = alpha*rows[j] + (1-alpha)*p[j]
		}
	}
}
