//go:build goexperiment.simd && amd64

package cpu

import "simd/archsimd"

// simdVecKernels lists the vector row primitives this CPU can run, each
// tested on its own (the AVX2 ones too, though vecAuto would pick AVX-512
// here).
func simdVecKernels() []namedVec {
	var ks []namedVec
	if archsimd.X86.AVX512() {
		ks = append(ks, namedVec{"avx512", vecAVX512()})
	}
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		ks = append(ks, namedVec{"avx2", vecAVX2()})
	}
	return ks
}
