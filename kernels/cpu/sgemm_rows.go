package cpu

// rowKernel holds the vector primitives of the few-rows path.
type rowKernel struct {
	// dot returns Σ x[i]·y[i] over len(x) (y at least as long).
	dot func(x, y []float32) float32
	// axpy4 adds s0·b0 + s1·b1 + s2·b2 + s3·b3 to c, elementwise over
	// len(c) (each b at least as long).
	axpy4 func(s0, s1, s2, s3 float32, b0, b1, b2, b3, c []float32)
}

// sgemmRows computes a product of fewer rows than the register tile (a
// batch of one or two through a projection). Packing B would cost as much
// as the whole product there, so each row of C is built straight from the
// rows of B: dot products when B is transposed, otherwise axpy over B's
// rows into the C row, which stays in L1. Goroutines split the columns.
func sgemmRows(rk rowKernel, threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	const chunk = 256 // columns per task: a C strip that stays in L1
	tasks := ceilDiv(n, chunk)
	// Streaming B is memory-bound: split it across cores early.
	threads = int(min(int64(threads), max(int64(m)*int64(n)*int64(k)/(threadWork/8), 1)))
	// op(A)'s rows, made contiguous when A is stored transposed.
	rows := make([][]float32, m)
	var tmp *[]float32
	if transA {
		tmp = getPack(m * k)
		defer packPool.Put(tmp)
		for i := range rows {
			r := (*tmp)[i*k : (i+1)*k]
			for p := range r {
				r[p] = a[p*lda+i]
			}
			rows[i] = r
		}
	} else {
		for i := range rows {
			rows[i] = a[i*lda : i*lda+k]
		}
	}
	parallelFor(threads, tasks, func(_, t int) {
		j0, j1 := t*chunk, min((t+1)*chunk, n)
		for i, ai := range rows {
			ci := c[i*ldc+j0 : i*ldc+j1]
			if transB {
				for j := range ci {
					off := (j0 + j) * ldb
					d := alpha * rk.dot(ai, b[off:off+k])
					if beta != 0 {
						d += beta * ci[j]
					}
					ci[j] = d
				}
				continue
			}
			scaleC(1, len(ci), beta, ci, len(ci))
			for p := 0; p < k; p += 4 {
				var s [4]float32
				var r [4][]float32
				for q := range 4 {
					pq := min(p+q, k-1) // past k: a zero weight on the last row
					if p+q < k {
						s[q] = alpha * ai[p+q]
					}
					r[q] = b[pq*ldb+j0 : pq*ldb+j1]
				}
				rk.axpy4(s[0], s[1], s[2], s[3], r[0], r[1], r[2], r[3], ci)
			}
		}
	})
}

// portableRows are the plain-Go row primitives.
func portableRows() rowKernel { return rowKernel{dot: dotPortable, axpy4: axpy4Portable} }

func dotPortable(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func axpy4Portable(s0, s1, s2, s3 float32, b0, b1, b2, b3, c []float32) {
	n := len(c)
	b0, b1, b2, b3 = b0[:n], b1[:n], b2[:n], b3[:n]
	for j := range c {
		c[j] += s0*b0[j] + s1*b1[j] + s2*b2[j] + s3*b3[j]
	}
}
