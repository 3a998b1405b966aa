package cpu

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// sgemmShapes are the products of a ViT-L/14@336 forward pass (577 tokens,
// width 1024, MLP 4096, 16 heads of 64) plus a square reference.
var sgemmShapes = []struct {
	name           string
	transA, transB bool
	m, n, k        int
	lda, ldb, ldc  int
	alpha          float32
}{
	{"fc1_577x3072x1024_NT", false, true, 577, 3072, 1024, 1024, 1024, 3072, 1},
	{"fc2_577x1024x4096_NT", false, true, 577, 1024, 4096, 4096, 4096, 1024, 1},
	{"out_577x1024x1024_NT", false, true, 577, 1024, 1024, 1024, 1024, 1024, 1},
	// q·kᵀ and scores·v read one head in place from the qkv rows.
	{"qk_577x577x64_NT_strided", false, true, 577, 577, 64, 3072, 3072, 577, 0.125},
	{"sv_577x64x577_NN_strided", false, false, 577, 64, 577, 577, 3072, 1024, 1},
	{"proj_1x768x1024_NN", false, false, 1, 768, 1024, 1024, 768, 768, 1},
	{"square_2048_NN", false, false, 2048, 2048, 2048, 2048, 2048, 2048, 1},
}

type sgemmFunc func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

func gonumSgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	gonum.Implementation{}.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// BenchmarkSgemm reports GFLOP/s on each shape for Sgemm (the kernel this
// build and CPU pick), the portable kernel, gonum, and in SIMD builds each
// SIMD kernel the CPU runs.
func BenchmarkSgemm(b *testing.B) {
	type impl struct {
		name string
		f    sgemmFunc
	}
	impls := []impl{{"auto", Sgemm}, {"portable", sgemmPortable}, {"gonum", gonumSgemm}}
	for _, nk := range simdTestKernels() {
		impls = append(impls, impl{nk.name, func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
			sgemmWith(nk.kern, sgemmThreads(), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		}})
	}
	for _, s := range sgemmShapes {
		rng := rand.New(rand.NewPCG(1, 1))
		ar, br := s.m, s.k
		if s.transA {
			ar = s.k
		}
		if s.transB {
			br = s.n
		}
		a, bm := randSlice(rng, ar*s.lda), randSlice(rng, br*s.ldb)
		c := make([]float32, s.m*s.ldc)
		for _, im := range impls {
			b.Run(s.name+"/"+im.name, func(b *testing.B) {
				for b.Loop() {
					im.f(s.transA, s.transB, s.m, s.n, s.k, s.alpha, a, s.lda, bm, s.ldb, 0, c, s.ldc)
				}
				flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
