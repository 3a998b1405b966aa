//go:build goexperiment.simd && amd64

package cpu

import "simd/archsimd"

// avx512Kernel: a 4×32 tile. kc=256 keeps one packed B panel (32 KiB) in
// L1; mc=256 keeps the packed A block (256 KiB) in L2.
func avx512Kernel() gemmKernel {
	return gemmKernel{mr: 4, nr: 32, kc: 256, mc: 256, nc: 512, tile: tile4x32AVX512, rows: rowKernel{dotAVX512, axpy4AVX512}, gather: gatherAVX512}
}

// avx2Kernel: the same shape in 256-bit vectors, a 4×16 tile.
func avx2Kernel() gemmKernel {
	return gemmKernel{mr: 4, nr: 16, kc: 256, mc: 256, nc: 4096, tile: tile4x16AVX2, rows: rowKernel{dotAVX2, axpy4AVX2}}
}

// simdKernel picks the widest kernel the running CPU supports.
func simdKernel() (gemmKernel, bool) {
	switch {
	case archsimd.X86.AVX512():
		return avx512Kernel(), true
	case archsimd.X86.AVX2() && archsimd.X86.FMA():
		return avx2Kernel(), true
	}
	return gemmKernel{}, false
}

// bestKernel is the fastest micro-kernel this CPU runs.
func bestKernel() gemmKernel {
	if kern, ok := simdKernel(); ok {
		return kern
	}
	return portableKernel()
}

// sgemmAuto is Sgemm on the best kernel for this CPU.
func sgemmAuto(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmWith(bestKernel(), sgemmThreads(), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// The tile wrappers pass alpha and beta by pointer so the k loop does not
// hold them in vector registers the tile needs.

func tile4x32AVX512(kc int, a, b, c []float32, ldc int, alpha, beta float32) {
	ab := [2]float32{alpha, beta}
	tile4x32AVX512Loop(kc, a, b, c, ldc, &ab)
}

func tile4x16AVX2(kc int, a, b, c []float32, ldc int, alpha, beta float32) {
	ab := [2]float32{alpha, beta}
	tile4x16AVX2Loop(kc, a, b, c, ldc, &ab)
}

// The row primitives run whole vectors and finish ragged tails in scalar
// code: the SlicePart loads trip checkptr (-race) at the end of an
// allocation.

func dotAVX512(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1 archsimd.Float32x16
	i := 0
	for ; i+32 <= len(x); i += 32 {
		s0 = archsimd.LoadFloat32x16Slice(x[i:]).MulAdd(archsimd.LoadFloat32x16Slice(y[i:]), s0)
		s1 = archsimd.LoadFloat32x16Slice(x[i+16:]).MulAdd(archsimd.LoadFloat32x16Slice(y[i+16:]), s1)
	}
	if i+16 <= len(x) {
		s0 = archsimd.LoadFloat32x16Slice(x[i:]).MulAdd(archsimd.LoadFloat32x16Slice(y[i:]), s0)
		i += 16
	}
	var lanes [16]float32
	s0.Add(s1).Store(&lanes)
	var s float32
	for _, v := range lanes {
		s += v
	}
	for ; i < len(x); i++ {
		s += x[i] * y[i]
	}
	return s
}

func axpy4AVX512(s0, s1, s2, s3 float32, b0, b1, b2, b3, c []float32) {
	n := len(c)
	b0, b1, b2, b3 = b0[:n], b1[:n], b2[:n], b3[:n]
	v0, v1 := archsimd.BroadcastFloat32x16(s0), archsimd.BroadcastFloat32x16(s1)
	v2, v3 := archsimd.BroadcastFloat32x16(s2), archsimd.BroadcastFloat32x16(s3)
	j := 0
	for ; j+16 <= n; j += 16 {
		v := archsimd.LoadFloat32x16Slice(c[j:])
		v = archsimd.LoadFloat32x16Slice(b0[j:]).MulAdd(v0, v)
		v = archsimd.LoadFloat32x16Slice(b1[j:]).MulAdd(v1, v)
		v = archsimd.LoadFloat32x16Slice(b2[j:]).MulAdd(v2, v)
		v = archsimd.LoadFloat32x16Slice(b3[j:]).MulAdd(v3, v)
		v.StoreSlice(c[j:])
	}
	axpy4Portable(s0, s1, s2, s3, b0[j:], b1[j:], b2[j:], b3[j:], c[j:])
}

func dotAVX2(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1 archsimd.Float32x8
	i := 0
	for ; i+16 <= len(x); i += 16 {
		s0 = archsimd.LoadFloat32x8Slice(x[i:]).MulAdd(archsimd.LoadFloat32x8Slice(y[i:]), s0)
		s1 = archsimd.LoadFloat32x8Slice(x[i+8:]).MulAdd(archsimd.LoadFloat32x8Slice(y[i+8:]), s1)
	}
	if i+8 <= len(x) {
		s0 = archsimd.LoadFloat32x8Slice(x[i:]).MulAdd(archsimd.LoadFloat32x8Slice(y[i:]), s0)
		i += 8
	}
	var lanes [8]float32
	s0.Add(s1).Store(&lanes)
	var s float32
	for _, v := range lanes {
		s += v
	}
	for ; i < len(x); i++ {
		s += x[i] * y[i]
	}
	return s
}

func axpy4AVX2(s0, s1, s2, s3 float32, b0, b1, b2, b3, c []float32) {
	n := len(c)
	b0, b1, b2, b3 = b0[:n], b1[:n], b2[:n], b3[:n]
	v0, v1 := archsimd.BroadcastFloat32x8(s0), archsimd.BroadcastFloat32x8(s1)
	v2, v3 := archsimd.BroadcastFloat32x8(s2), archsimd.BroadcastFloat32x8(s3)
	j := 0
	for ; j+8 <= n; j += 8 {
		v := archsimd.LoadFloat32x8Slice(c[j:])
		v = archsimd.LoadFloat32x8Slice(b0[j:]).MulAdd(v0, v)
		v = archsimd.LoadFloat32x8Slice(b1[j:]).MulAdd(v1, v)
		v = archsimd.LoadFloat32x8Slice(b2[j:]).MulAdd(v2, v)
		v = archsimd.LoadFloat32x8Slice(b3[j:]).MulAdd(v3, v)
		v.StoreSlice(c[j:])
	}
	axpy4Portable(s0, s1, s2, s3, b0[j:], b1[j:], b2[j:], b3[j:], c[j:])
}
