//go:build dapocuda

package cuda

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"testing"

	"dapo/kernels/cpu"
)

// openTest opens cuda:0 in the given precision. Without a GPU the test is
// skipped, unless DAPO_REQUIRE_GPU=1 (the GPU bundle sets it), when it
// fails.
func openTest(t testing.TB, prec Precision) *Device {
	t.Helper()
	d, err := Open(0, prec)
	if err != nil {
		if errors.Is(err, ErrNoGPU) && os.Getenv("DAPO_REQUIRE_GPU") == "" {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// both runs fn on the device with cuBLAS and with the own kernels.
func both(t *testing.T, prec Precision, fn func(t *testing.T, d *Device)) {
	d := openTest(t, prec)
	t.Run("blas", func(t *testing.T) {
		if d.blas == nil {
			t.Skip(d.GEMMBackend())
		}
		fn(t, d)
	})
	t.Run("own", func(t *testing.T) {
		d2 := openTest(t, prec)
		d2.DisableBLAS()
		fn(t, d2)
	})
}

func randSlice(r *rand.Rand, n int, scale float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = scale * float32(r.NormFloat64())
	}
	return x
}

// closeTo compares got with want: |got−want| ≤ atol + rtol·max|want|.
func closeTo(t testing.TB, name string, got, want []float32, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	var maxWant, maxDiff float64
	at := -1
	for i := range want {
		maxWant = math.Max(maxWant, math.Abs(float64(want[i])))
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if d > maxDiff || math.IsNaN(d) {
			maxDiff, at = d, i
		}
	}
	bound := atol + rtol*maxWant
	if !(maxDiff <= bound) {
		t.Errorf("%s: max |gpu−cpu| %.3g at %d (gpu %g, cpu %g) > %.3g", name, maxDiff, at, got[at], want[at], bound)
	} else {
		t.Logf("%s: max |gpu−cpu| %.3g (bound %.3g)", name, maxDiff, bound)
	}
}

// run executes fn inside d.Do and fails on any device error.
func run(t testing.TB, d *Device, fn func()) {
	t.Helper()
	if err := d.Do(func() error { fn(); d.Sync(); return nil }); err != nil {
		t.Fatal(err)
	}
}

// TestSgemmVsExact checks the GEMM (cuBLAS and the own kernels, F32 and
// TF32) against C = α·op(A)·op(B) + β·C in float64, element by element
// within the worst-case rounding bound of a float32 computation:
// γ_{k+3}·(Σ|α·a·b| + |β·c|) with γ_n = n·u/(1−n·u), u = 2⁻²⁴ (summation of
// k+1 terms and the α, β scalings, in any order), plus for TF32 the
// conversion of both factors to 10 mantissa bits (relative 2⁻¹⁰ each,
// truncated or rounded). The
// bound holds whatever order the kernel sums in, and an indexing mistake
// (a missing, repeated or misplaced term) breaks it by orders of
// magnitude. In the F32 mode the largest error must also stay below
// 1e-5·√k (inputs of unit scale; float32 summation measures about 1.3e-4
// at k = 1024, TF32 about 1e-2): the check that F32 does not run on
// tensor cores.
func TestSgemmVsExact(t *testing.T) {
	for _, prec := range []Precision{F32, TF32} {
		t.Run(prec.String(), func(t *testing.T) {
			both(t, prec, func(t *testing.T, d *Device) {
				r := rand.New(rand.NewSource(1))
				shapes := [][3]int{{1, 1, 1}, {3, 5, 7}, {64, 64, 64}, {65, 63, 17}, {129, 257, 33}, {200, 96, 1024}, {1, 1000, 64}}
				for _, s := range shapes {
					for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
						m, n, k := s[0], s[1], s[2]
						lda, ldb := k, n
						if tr[0] {
							lda = m
						}
						if tr[1] {
							ldb = k
						}
						a, b := randSlice(r, m*k, 1), randSlice(r, k*n, 1)
						c := randSlice(r, m*n, 1)
						var got []float32
						run(t, d, func() {
							da, db, dc := d.Upload(a), d.Upload(b), d.Upload(c)
							d.Sgemm(tr[0], tr[1], m, n, k, 0.7, da, lda, db, ldb, 0.3, dc, n)
							got = d.Download(dc)
							d.Free(da)
							d.Free(db)
							d.Free(dc)
						})
						checkGEMM(t, fmt.Sprintf("%dx%dx%d t%v", m, n, k, tr), got, prec, tr, m, n, k, 0.7, a, lda, b, ldb, 0.3, c)
					}
				}
			})
		})
	}
}

// checkGEMM compares got with the float64 product within the bound of
// TestSgemmVsExact.
func checkGEMM(t *testing.T, name string, got []float32, prec Precision, tr [2]bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32) {
	t.Helper()
	const u = 1.0 / (1 << 24)
	terms := float64(k + 3)
	gamma := terms * u / (1 - terms*u)
	if prec == TF32 {
		gamma += 2.0/(1<<10) + 1.0/(1<<20) // rounded or truncated to 10 bits
	}
	worst, at, maxErr := 0.0, -1, 0.0
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var exact, mag float64
			for p := 0; p < k; p++ {
				var ai, bj float32
				if tr[0] {
					ai = a[p*lda+i]
				} else {
					ai = a[i*lda+p]
				}
				if tr[1] {
					bj = b[j*ldb+p]
				} else {
					bj = b[p*ldb+j]
				}
				v := float64(alpha) * float64(ai) * float64(bj)
				exact += v
				mag += math.Abs(v)
			}
			exact += float64(beta) * float64(c[i*n+j])
			mag += math.Abs(float64(beta) * float64(c[i*n+j]))
			bound := gamma * mag
			e := math.Abs(float64(got[i*n+j]) - exact)
			maxErr = math.Max(maxErr, e)
			if !(e <= bound) {
				t.Errorf("%s: C[%d,%d] = %g, exact %g: |error| %.3g > bound %.3g", name, i, j, got[i*n+j], exact, e, bound)
				return
			} else if bound > 0 && e/bound > worst {
				worst, at = e/bound, i*n+j
			}
		}
	}
	if f32 := 1e-5 * math.Sqrt(float64(k)); prec == F32 && maxErr > f32 {
		t.Errorf("%s: max |error| %.3g > %.3g: not float32 accuracy", name, maxErr, f32)
	}
	t.Logf("%s: worst error %.3g of its bound (element %d), max |error| %.3g", name, worst, at, maxErr)
}

func TestElementwiseVsCPU(t *testing.T) {
	d := openTest(t, F32)
	r := rand.New(rand.NewSource(2))
	for _, n := range []int{1, 31, 1000, 100003} {
		x := randSlice(r, n, 3)
		dy := randSlice(r, n, 1)
		dx0 := randSlice(r, n, 1)
		var gq, gg, gqb, ggb []float32
		run(t, d, func() {
			b := d.Upload(x)
			d.QuickGELU(b, n)
			gq = d.Download(b)
			d.CopyIn(b, x)
			d.GELU(b, n)
			gg = d.Download(b)
			px, pdy, pdx := d.Upload(x), d.Upload(dy), d.Upload(dx0)
			d.QuickGELUBackward(pdx, pdy, px, n)
			gqb = d.Download(pdx)
			d.CopyIn(pdx, dx0)
			d.GELUBackward(pdx, pdy, px, n)
			ggb = d.Download(pdx)
		})
		wq := append([]float32(nil), x...)
		cpu.QuickGELU(wq)
		wg := append([]float32(nil), x...)
		cpu.GELU(wg)
		wqb := append([]float32(nil), dx0...)
		cpu.QuickGELUBackward(wqb, dy, x)
		wgb := append([]float32(nil), dx0...)
		cpu.GELUBackward(wgb, dy, x)
		closeTo(t, fmt.Sprintf("quickgelu n=%d", n), gq, wq, 1e-6, 1e-6)
		closeTo(t, fmt.Sprintf("gelu n=%d", n), gg, wg, 1e-6, 1e-6)
		closeTo(t, fmt.Sprintf("quickgelu backward n=%d", n), gqb, wqb, 1e-6, 1e-6)
		closeTo(t, fmt.Sprintf("gelu backward n=%d", n), ggb, wgb, 1e-6, 1e-6)
	}
}

func TestLayerNormSoftmaxVsCPU(t *testing.T) {
	d := openTest(t, F32)
	r := rand.New(rand.NewSource(3))
	for _, s := range [][2]int{{1, 1}, {3, 7}, {17, 64}, {50, 1024}, {9, 1031}} {
		rows, w := s[0], s[1]
		x := randSlice(r, rows*w, 2)
		for i := range x {
			x[i] += 0.5
		}
		wt, bs := randSlice(r, w, 1), randSlice(r, w, 1)
		dy, dx0 := randSlice(r, rows*w, 1), randSlice(r, rows*w, 1)
		var gy, gdx, gsm, gsb, gl2 []float32
		run(t, d, func() {
			bx, bw, bb := d.Upload(x), d.Upload(wt), d.Upload(bs)
			by := d.Alloc(rows * w)
			d.LayerNorm(by, bx, rows, w, bw, bb, LayerNormEps)
			gy = d.Download(by)
			bdy, bdx := d.Upload(dy), d.Upload(dx0)
			d.LayerNormBackward(bdx, bdy, bx, rows, w, bw, LayerNormEps)
			gdx = d.Download(bdx)
			d.CopyIn(by, x)
			d.SoftmaxRows(by, rows, w)
			gsm = d.Download(by)
			d.CopyIn(bdx, dx0)
			d.SoftmaxRowsBackward(bdx, bdy, by, rows, w)
			gsb = d.Download(bdx)
			d.CopyIn(by, x)
			d.L2Normalize(by, rows, w)
			gl2 = d.Download(by)
		})
		wy := make([]float32, rows*w)
		cpu.LayerNorm(wy, x, rows, w, wt, bs, cpu.LayerNormEps)
		wdx := append([]float32(nil), dx0...)
		cpu.LayerNormBackward(wdx, dy, x, rows, w, wt, cpu.LayerNormEps)
		wsm := append([]float32(nil), x...)
		cpu.SoftmaxRows(wsm, rows, w)
		wsb := append([]float32(nil), dx0...)
		cpu.SoftmaxRowsBackward(wsb, dy, wsm, rows, w)
		wl2 := append([]float32(nil), x...)
		cpu.L2Normalize(wl2, rows, w)
		name := fmt.Sprintf("%dx%d", rows, w)
		closeTo(t, "layernorm "+name, gy, wy, 1e-6, 1e-6)
		closeTo(t, "layernorm backward "+name, gdx, wdx, 1e-5, 1e-6)
		closeTo(t, "softmax "+name, gsm, wsm, 1e-7, 1e-6)
		closeTo(t, "softmax backward "+name, gsb, wsb, 1e-6, 1e-6)
		closeTo(t, "l2 "+name, gl2, wl2, 1e-7, 1e-6)
	}
}

func TestAttentionVsCPU(t *testing.T) {
	d := openTest(t, F32)
	r := rand.New(rand.NewSource(4))
	// batch, seq, width, heads: golden-like, odd lengths, ViT-L head dim 64,
	// head dim 128, the text tower's 81 and CLIP's 77 tokens.
	// {33000, 3, 8, 2} has more (sequence, head) pairs than CUDA's 65535
	// grid rows: the launchers split it. With cuBLAS, non-causal shapes of
	// 32 tokens or more run as batched products, looping over sequences
	// ({2, 81, 32, 4}, {3, 77, 96, 12}, {1, 257, 128, 2}, {2, 33, 256, 2})
	// or over heads when there are more sequences ({2, 300, 64, 1},
	// {6, 81, 64, 2}).
	for _, s := range [][4]int{{1, 1, 8, 1}, {2, 30, 64, 4}, {2, 81, 32, 4}, {3, 77, 96, 12}, {1, 257, 128, 2}, {2, 300, 64, 1}, {6, 81, 64, 2}, {2, 33, 256, 2}, {33000, 3, 8, 2}} {
		for _, causal := range []bool{false, true} {
			b, l, w, h := s[0], s[1], s[2], s[3]
			qkv := randSlice(r, b*l*3*w, 1)
			dout := randSlice(r, b*l*w, 1)
			dqkv0 := randSlice(r, b*l*3*w, 1)
			var gout, gd []float32
			run(t, d, func() {
				bq, bo := d.Upload(qkv), d.Alloc(b*l*w)
				d.Attention(bo, Buf{}, bq, b, l, w, h, causal)
				gout = d.Download(bo)
				bdo, bdq := d.Upload(dout), d.Upload(dqkv0)
				d.AttentionBackward(bdq, bdo, bq, b, l, w, h, causal)
				gd = d.Download(bdq)
			})
			wout := make([]float32, b*l*w)
			cpu.Attention(wout, qkv, b, l, w, h, causal)
			wd := append([]float32(nil), dqkv0...)
			cpu.AttentionBackward(wd, dout, qkv, b, l, w, h, causal)
			name := fmt.Sprintf("b%d l%d w%d h%d causal=%v", b, l, w, h, causal)
			closeTo(t, "attention "+name, gout, wout, 2e-6, 1e-6)
			closeTo(t, "attention backward "+name, gd, wd, 1e-5, 1e-6)
		}
	}
}

// TestAttentionGEMMMatchesFused: at ViT-L/14@518's shape (1374 tokens,
// width 1024, 16 heads) and at DAPO's text side (210 sequences of 81
// tokens, width 768, 12 heads) attention as cuBLAS products and the fused
// kernel agree, forward and backward.
func TestAttentionGEMMMatchesFused(t *testing.T) {
	for _, s := range [][4]int{{1, 1374, 1024, 16}, {210, 81, 768, 12}} {
		t.Run(fmt.Sprintf("b%d l%d w%d h%d", s[0], s[1], s[2], s[3]), func(t *testing.T) { attentionGEMMMatchesFused(t, s[0], s[1], s[2], s[3]) })
	}
}

func attentionGEMMMatchesFused(t *testing.T, b, l, w, h int) {
	gemm := openTest(t, F32)
	if !gemm.attnByGEMM(b, l, w, h, false) {
		t.Skip("no batched cuBLAS products: ", gemm.GEMMBackend())
	}
	fused := openTest(t, F32)
	fused.DisableBLAS()
	r := rand.New(rand.NewSource(6))
	qkv, dout := randSlice(r, b*l*3*w, 1), randSlice(r, b*l*w, 1)
	run := func(d *Device) (out, dqkv []float32) {
		run(t, d, func() {
			bq, bo, bdo, bdq := d.Upload(qkv), d.Alloc(b*l*w), d.Upload(dout), d.Zeros(b*l*3*w)
			d.Attention(bo, Buf{}, bq, b, l, w, h, false)
			d.AttentionBackward(bdq, bdo, bq, b, l, w, h, false)
			out, dqkv = d.Download(bo), d.Download(bdq)
		})
		return out, dqkv
	}
	go1, gd := run(gemm)
	fo, fd := run(fused)
	closeTo(t, "attention, products vs fused", go1, fo, 1e-6, 2e-6)
	closeTo(t, "attention backward, products vs fused", gd, fd, 1e-5, 2e-6)
}

func TestPromptOpsVsCPU(t *testing.T) {
	d := openTest(t, F32)
	r := rand.New(rand.NewSource(5))
	b, l, w, n := 3, 11, 13, 4
	x := randSlice(r, b*l*w, 1)
	tok := randSlice(r, n*w, 1)
	var ins, rem, bl, dtok, dxb []float32
	dx := randSlice(r, b*(l+n)*w, 1)
	dt0 := randSlice(r, n*w, 1)
	run(t, d, func() {
		bx, bt := d.Upload(x), d.Upload(tok)
		bi := d.Alloc(b * (l + n) * w)
		d.InsertAfterFirst(bi, bx, bt, b, l, w, n)
		ins = d.Download(bi)
		br := d.Alloc(b * l * w)
		d.RemoveAfterFirst(br, bi, b, l+n, w, n)
		rem = d.Download(br)
		d.BlendRows(bi, bt, b, l+n, w, n, 0.01)
		bl = d.Download(bi)
		bdx, bdt := d.Upload(dx), d.Upload(dt0)
		d.BlendRowsBackward(bdx, bdt, b, l+n, w, n, 0.01)
		dtok, dxb = d.Download(bdt), d.Download(bdx)
	})
	// CPU reference written out (server/dapo's helpers are unexported).
	want := make([]float32, 0, b*(l+n)*w)
	for s := 0; s < b; s++ {
		seq := x[s*l*w : (s+1)*l*w]
		want = append(want, seq[:w]...)
		want = append(want, tok...)
		want = append(want, seq[w:]...)
	}
	closeTo(t, "insert", ins, want, 0, 0)
	closeTo(t, "remove", rem, x, 0, 0)
	wbl := append([]float32(nil), want...)
	wdt := append([]float32(nil), dt0...)
	wdx := append([]float32(nil), dx...)
	for s := 0; s < b; s++ {
		for j := 0; j < n; j++ {
			for c := 0; c < w; c++ {
				i := (s*(l+n)+1+j)*w + c
				wbl[i] = 0.01*wbl[i] + 0.99*tok[j*w+c]
				wdt[j*w+c] += 0.99 * dx[i]
				wdx[i] *= 0.01
			}
		}
	}
	// The kernel's fma(row, α, (1−α)·tok) rounds once where the CPU
	// rounds twice: up to an ulp of the largest value apart.
	closeTo(t, "blend", bl, wbl, 0, 2.4e-7)
	closeTo(t, "blend backward tokens", dtok, wdt, 1e-6, 0)
	closeTo(t, "blend backward rows", dxb, wdx, 1e-7, 0)
}
