package cpu

// portableKernel is the plain-Go micro-kernel and its blocking; it runs
// wherever the SIMD kernels are not compiled in or not supported.
func portableKernel() gemmKernel {
	return gemmKernel{mr: 4, nr: 2, kc: 256, mc: 192, nc: 2048, tile: tilePortable, rows: portableRows()}
}

// sgemmPortable is Sgemm on the portable kernel, whatever the build.
func sgemmPortable(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmWith(portableKernel(), sgemmThreads(), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func tilePortable(kc int, a, b, c []float32, ldc int, alpha, beta float32) {
	c00, c01, c10, c11, c20, c21, c30, c31 := dot4x2(kc, a, b)
	storeRow2(c[0:2], c00, c01, alpha, beta)
	storeRow2(c[ldc:ldc+2], c10, c11, alpha, beta)
	storeRow2(c[2*ldc:2*ldc+2], c20, c21, alpha, beta)
	storeRow2(c[3*ldc:3*ldc+2], c30, c31, alpha, beta)
}

// dot4x2 keeps a 4×2 tile of C in scalar registers over kc steps (a
// multiple of kStep), unrolled four times. It is apart from tilePortable
// so alpha and beta do not take float registers the loop needs; of the 15
// the amd64 compiler allocates, the tile uses 8, b 2 and a row 2–4.
//
// a is walked as a slice whose length the compiler cannot bound, so each
// row's load keeps its bounds check. Every check ends a basic block, which
// stops the scheduler hoisting all the multiplies above the adds (it puts
// values with in-block uses first) and spilling. The checks and the unroll
// together take one Zen 5 core from ≈5 to ≈12 GFLOP/s.
//
//go:noinline
func dot4x2(kc int, a, b []float32) (c00, c01, c10, c11, c20, c21, c30, c31 float32) {
	b = b[:kc*2]
	for p := 0; p < kc; p += 4 {
		bp := (*[8]float32)(b[p*2:])
		b0, b1 := bp[0], bp[1]
		a0 := a[0]
		c00 += a0 * b0
		c01 += a0 * b1
		a1 := a[1]
		c10 += a1 * b0
		c11 += a1 * b1
		a2 := a[2]
		c20 += a2 * b0
		c21 += a2 * b1
		a3 := a[3]
		c30 += a3 * b0
		c31 += a3 * b1

		b0, b1 = bp[2], bp[3]
		a0 = a[4]
		c00 += a0 * b0
		c01 += a0 * b1
		a1 = a[5]
		c10 += a1 * b0
		c11 += a1 * b1
		a2 = a[6]
		c20 += a2 * b0
		c21 += a2 * b1
		a3 = a[7]
		c30 += a3 * b0
		c31 += a3 * b1

		b0, b1 = bp[4], bp[5]
		a0 = a[8]
		c00 += a0 * b0
		c01 += a0 * b1
		a1 = a[9]
		c10 += a1 * b0
		c11 += a1 * b1
		a2 = a[10]
		c20 += a2 * b0
		c21 += a2 * b1
		a3 = a[11]
		c30 += a3 * b0
		c31 += a3 * b1

		b0, b1 = bp[6], bp[7]
		a0 = a[12]
		c00 += a0 * b0
		c01 += a0 * b1
		a1 = a[13]
		c10 += a1 * b0
		c11 += a1 * b1
		a2 = a[14]
		c20 += a2 * b0
		c21 += a2 * b1
		a3 = a[15]
		c30 += a3 * b0
		c31 += a3 * b1
		a = a[16:]
	}
	return
}

func storeRow2(row []float32, v0, v1, alpha, beta float32) {
	row = row[:2]
	if beta == 0 {
		row[0], row[1] = alpha*v0, alpha*v1
		return
	}
	row[0] = alpha*v0 + beta*row[0]
	row[1] = alpha*v1 + beta*row[1]
}
