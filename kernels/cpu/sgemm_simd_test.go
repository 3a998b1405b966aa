//go:build goexperiment.simd && amd64

package cpu

import (
	"math/rand/v2"
	"simd/archsimd"
	"slices"
	"testing"
)

// simdTestKernels lists the SIMD kernels this CPU can run, each tested on
// its own (the AVX2 one too, though Sgemm would pick AVX-512 here).
func simdTestKernels() []namedKernel {
	var ks []namedKernel
	if archsimd.X86.AVX512() {
		ks = append(ks, namedKernel{"avx512", avx512Kernel()})
	}
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		ks = append(ks, namedKernel{"avx2", avx2Kernel()})
	}
	return ks
}

// TestGatherAVX512 checks the vector transpose-packing against the scalar
// one on every lane count and ragged depths, over garbage-filled panels.
func TestGatherAVX512(t *testing.T) {
	if !archsimd.X86.AVX512() {
		t.Skip("no AVX-512")
	}
	rng := rand.New(rand.NewPCG(9, 9))
	const ld = 300
	x := randSlice(rng, 40*ld)
	for _, w := range []int{4, 16, 32} {
		for lanes := 1; lanes <= w; lanes++ {
			for _, kb := range []int{1, 15, 16, 17, 64, 100, 256} {
				want := randSlice(rng, kb*w)
				got := randSlice(rng, kb*w)
				gatherPanel(want, x, ld, 3, lanes, 7, kb, w)
				gatherAVX512(got, x, ld, 3, lanes, 7, kb, w)
				if !slices.Equal(got, want) {
					t.Fatalf("w=%d lanes=%d kb=%d: packed panels differ", w, lanes, kb)
				}
			}
		}
	}
}
