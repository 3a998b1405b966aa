//go:build !(goexperiment.simd && amd64)

package cpu

// sgemmAuto is Sgemm on the best kernel this build has: without
// GOEXPERIMENT=simd on amd64 that is the portable one.
func sgemmAuto(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmPortable(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// bestKernel is the fastest micro-kernel this build has.
func bestKernel() gemmKernel { return portableKernel() }
