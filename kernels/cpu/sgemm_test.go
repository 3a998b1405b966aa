package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// namedKernel is a kernel under test; every build tests the portable one,
// SIMD builds add theirs (sgemm_simd_test.go).
type namedKernel struct {
	name string
	kern gemmKernel
}

func testKernels() []namedKernel {
	ks := append([]namedKernel{{"portable", portableKernel()}}, simdTestKernels()...)
	// Tiny blocks drive every loop of the driver (several kc, mc and nc
	// blocks, column groups) with matrices small enough for the reference.
	for _, k := range ks[:len(ks):len(ks)] {
		t := k.kern
		t.kc, t.mc, t.nc = 8, 2*t.mr, 2*t.nr
		ks = append(ks, namedKernel{k.name + "/tiny-blocks", t})
	}
	return ks
}

// gemmCase is one call's arguments, with stored matrices padded past their
// rows by extra leading dimension.
type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	lda, ldb, ldc  int
	a, b, c        []float32
	ab, mag        []float64 // reference(), computed once
}

func (g gemmCase) String() string {
	return fmt.Sprintf("tA=%v tB=%v m=%d n=%d k=%d α=%v β=%v lda=%d ldb=%d ldc=%d",
		g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.beta, g.lda, g.ldb, g.ldc)
}

func newCase(rng *rand.Rand, transA, transB bool, m, n, k int, alpha, beta float32) gemmCase {
	g := gemmCase{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	g.lda = max(ac, 1) + rng.IntN(4)
	g.ldb = max(bc, 1) + rng.IntN(4)
	g.ldc = max(n, 1) + rng.IntN(4)
	g.a = randSlice(rng, ar*g.lda)
	g.b = randSlice(rng, br*g.ldb)
	return g.withBeta(rng, beta)
}

// withReference returns the case with its reference product computed, to
// share between calls that differ only in beta or threads.
func (g gemmCase) withReference() gemmCase {
	g.ab, g.mag = g.reference()
	return g
}

// withBeta returns the case with another beta and a fresh C: NaN for beta
// 0, which must not read C.
func (g gemmCase) withBeta(rng *rand.Rand, beta float32) gemmCase {
	g.beta = beta
	g.c = randSlice(rng, g.m*g.ldc)
	if beta == 0 {
		for i := range g.c {
			g.c[i] = float32(math.NaN())
		}
	}
	return g
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

// reference returns op(A)·op(B) in float64 and, per element, Σ|a||b|, the
// scale the float32 rounding error is measured against.
func (g gemmCase) reference() (ab, mag []float64) {
	ab = make([]float64, g.m*g.n)
	mag = make([]float64, g.m*g.n)
	for i := 0; i < g.m; i++ {
		for j := 0; j < g.n; j++ {
			var s, t float64
			for p := 0; p < g.k; p++ {
				x, y := g.opA(i, p), g.opB(p, j)
				s += x * y
				t += math.Abs(x * y)
			}
			ab[i*g.n+j], mag[i*g.n+j] = s, t
		}
	}
	return ab, mag
}

func (g gemmCase) opA(i, p int) float64 {
	if g.transA {
		return float64(g.a[p*g.lda+i])
	}
	return float64(g.a[i*g.lda+p])
}

func (g gemmCase) opB(p, j int) float64 {
	if g.transB {
		return float64(g.b[j*g.ldb+p])
	}
	return float64(g.b[p*g.ldb+j])
}

// check runs f on a copy of C and compares with the reference: every
// element of the m×n window within 1e-5 of its scale, and the padding
// between rows untouched. It returns the largest error relative to scale.
func (g gemmCase) check(t *testing.T, name string, f func(c []float32)) float64 {
	t.Helper()
	c := append([]float32(nil), g.c...)
	f(c)
	if g.ab == nil {
		g = g.withReference()
	}
	ab, mag := g.ab, g.mag
	worst := 0.0
	for i := 0; i < g.m; i++ {
		for j := 0; j < g.ldc; j++ {
			got := float64(c[i*g.ldc+j])
			if j >= g.n {
				if math.Float32bits(c[i*g.ldc+j]) != math.Float32bits(g.c[i*g.ldc+j]) {
					t.Fatalf("%s %v: wrote padding C[%d,%d]", name, g, i, j)
				}
				continue
			}
			want, scale := 0.0, 1e-30
			if g.alpha != 0 { // alpha 0 leaves A and B unread, as in BLAS
				want = float64(g.alpha) * ab[i*g.n+j]
				scale += math.Abs(float64(g.alpha)) * mag[i*g.n+j]
			}
			if g.beta != 0 {
				old := float64(g.c[i*g.ldc+j])
				want += float64(g.beta) * old
				scale += math.Abs(float64(g.beta) * old)
			}
			d := math.Abs(got - want)
			if !(d <= 1e-5*scale) {
				t.Fatalf("%s %v: C[%d,%d] = %v, want %v (scale %g)", name, g, i, j, got, want, scale)
			}
			worst = max(worst, d/scale)
		}
	}
	return worst
}

var testSizes = []int{1, 2, 3, 4, 5, 7, 16, 17, 31, 32, 33, 65, 127, 257}

func TestSgemmKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	betas := []float32{0, 1, 0.5}
	alphas := []float32{1, -0.75, 2.5}
	for _, nk := range testKernels() {
		worst := 0.0
		cases := 0
		for tr := 0; tr < 4; tr++ {
			for i := 0; i < 12; i++ {
				m := testSizes[rng.IntN(len(testSizes))]
				n := testSizes[rng.IntN(len(testSizes))]
				k := testSizes[rng.IntN(len(testSizes))]
				if i%4 == 3 {
					m, n, k = 1+rng.IntN(90), 1+rng.IntN(90), 1+rng.IntN(300)
				}
				g := newCase(rng, tr&1 != 0, tr&2 != 0, m, n, k, alphas[i%3], betas[(i/3)%3]).withReference()
				for _, threads := range []int{1, 3} {
					worst = max(worst, g.check(t, nk.name, func(c []float32) {
						sgemmWith(nk.kern, threads, g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, c, g.ldc)
					}))
					cases++
				}
			}
		}
		t.Logf("%s: %d cases, max error %.2e of Σ|a||b|", nk.name, cases, worst)
	}
}

// TestSgemm exercises the exported entry point (whatever kernel this build
// and CPU pick), including the shapes large enough to split across
// goroutines.
func TestSgemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	shapes := [][3]int{{257, 129, 300}, {64, 577, 64}, {130, 70, 513}, {5, 300, 1000}, {300, 2, 40}, {1, 768, 1024}, {3, 300, 200}, {2, 1000, 17}}
	worst := 0.0
	for _, s := range shapes {
		for tr := 0; tr < 4; tr++ {
			g0 := newCase(rng, tr&1 != 0, tr&2 != 0, s[0], s[1], s[2], 0.5, 0).withReference()
			for _, beta := range []float32{0, 1, 0.5} {
				g := g0.withBeta(rng, beta)
				worst = max(worst, g.check(t, "Sgemm", func(c []float32) {
					Sgemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, c, g.ldc)
				}))
			}
		}
	}
	t.Logf("max error %.2e of Σ|a||b|", worst)
}

func TestSgemmDegenerate(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, s := range [][3]int{{0, 5, 7}, {5, 0, 7}, {5, 7, 0}, {0, 0, 0}, {40, 40, 0}} {
		for _, beta := range []float32{0, 1, 0.5} {
			g := newCase(rng, false, true, s[0], s[1], s[2], 1, beta)
			g.check(t, "Sgemm", func(c []float32) {
				Sgemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, c, g.ldc)
			})
		}
	}
	// alpha 0 leaves A and B unread, as in BLAS: NaN there must not leak.
	g := newCase(rng, false, false, 20, 30, 40, 0, 0.5)
	g.a[0], g.b[0] = float32(math.NaN()), float32(math.Inf(1))
	g.check(t, "Sgemm α=0", func(c []float32) {
		Sgemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, c, g.ldc)
	})
}

// TestSgemmPortableMatchesAuto compares the portable kernel with the one
// Sgemm picks (the SIMD kernel where compiled in and supported) on random
// shapes.
func TestSgemmPortableMatchesAuto(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	worst := 0.0
	for i := 0; i < 40; i++ {
		m, n, k := 1+rng.IntN(200), 1+rng.IntN(200), 1+rng.IntN(600)
		g := newCase(rng, rng.IntN(2) == 0, rng.IntN(2) == 0, m, n, k, 1.5, 0.5)
		p := append([]float32(nil), g.c...)
		sgemmPortable(g.transA, g.transB, m, n, k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, p, g.ldc)
		q := append([]float32(nil), g.c...)
		Sgemm(g.transA, g.transB, m, n, k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, q, g.ldc)
		for r := 0; r < m; r++ {
			for j := 0; j < n; j++ {
				x, y := float64(p[r*g.ldc+j]), float64(q[r*g.ldc+j])
				// Both round within 1e-5·Σ|a||b|; Σ|a||b| ≈ k/4 for these inputs.
				d := math.Abs(x-y) / (float64(k)/4 + math.Abs(y))
				if d > 2e-5 {
					t.Fatalf("%v: portable %v, auto %v at [%d,%d]", g, x, y, r, j)
				}
				worst = max(worst, d)
			}
		}
	}
	t.Logf("max portable/auto difference %.2e (relative)", worst)
}

func TestSgemmPanics(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	a, b, c := make([]float32, 12), make([]float32, 12), make([]float32, 9)
	mustPanic("short lda", func() { Sgemm(false, false, 3, 3, 4, 1, a, 3, b, 3, 0, c, 3) })
	mustPanic("short C", func() { Sgemm(false, false, 3, 3, 4, 1, a, 4, b, 3, 0, c[:8], 3) })
	mustPanic("negative", func() { Sgemm(false, false, -1, 3, 4, 1, a, 4, b, 3, 0, c, 3) })
}

// TestPackPanels checks packing, zero padding included, over panels that
// start full of garbage (pooled buffers do).
func TestPackPanels(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const ld = 80
	x := randSlice(rng, 70*ld)
	for _, w := range []int{2, 3, 4, 16, 32} {
		for _, gather := range []bool{false, true} {
			for nl := 1; nl <= 2*w+1; nl++ {
				for _, kb := range []int{1, 5, 16, 17} {
					kbPad := roundUp(kb, kStep)
					panels := ceilDiv(nl, w)
					dst := randSlice(rng, panels*kbPad*w)
					packPanels(nil, dst, x, ld, gather, 3, nl, 2, kb, kbPad, w)
					for q := 0; q < panels; q++ {
						for p := 0; p < kbPad; p++ {
							for i := 0; i < w; i++ {
								lane := q*w + i
								var want float32
								if lane < nl && p < kb {
									if gather {
										want = x[(3+lane)*ld+2+p]
									} else {
										want = x[(2+p)*ld+3+lane]
									}
								}
								if got := dst[(q*kbPad+p)*w+i]; got != want {
									t.Fatalf("w=%d gather=%v nl=%d kb=%d: panel %d [%d,%d] = %v, want %v", w, gather, nl, kb, q, p, i, got, want)
								}
							}
						}
					}
				}
			}
		}
	}
}
