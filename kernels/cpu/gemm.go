package cpu

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices,
// where op(X) is X or Xᵀ. op(A) is m×k, op(B) is k×n, C is m×n; lda, ldb and
// ldc are the row strides of the stored matrices.
//
// It runs the project's packed, cache-blocked kernel: AVX-512 or AVX2
// micro-kernels in builds with GOEXPERIMENT=simd on amd64 (chosen at run
// time), a portable pure-Go kernel otherwise (wasm, other architectures).
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmAuto(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Linear computes y[rows,out] = x[rows,in]·Wᵀ + bias, with W stored
// [out,in] (PyTorch's nn.Linear layout). bias may be nil.
func Linear(y, x []float32, rows, in, out int, w, bias []float32) {
	Sgemm(false, true, rows, out, in, 1, x, in, w, in, 0, y, out)
	if bias != nil {
		addBiasParallel(y, nil, rows, out, bias)
	}
}

// LinearResidual adds a projection into the residual stream in place:
// y[rows,out] += x[rows,in]·Wᵀ + bias (bias may be nil). The product
// accumulates straight into y (beta 1), which saves a buffer and a pass
// over it.
func LinearResidual(y, x []float32, rows, in, out int, w, bias []float32) {
	Sgemm(false, true, rows, out, in, 1, x, in, w, in, 1, y, out)
	if bias != nil {
		addBiasParallel(y, nil, rows, out, bias)
	}
}

// addBiasParallel sets x[r] += y[r] + bias for every row r of x[rows,cols]
// (y may be nil), across the cores.
func addBiasParallel(x, y []float32, rows, cols int, bias []float32) {
	vk := vecAuto()
	parallelRows(rows, cols, func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			var yr []float32
			if y != nil {
				yr = y[r*cols : (r+1)*cols]
			}
			vk.addBias2(x[r*cols:(r+1)*cols], yr, bias)
		}
	})
}

// MatMul computes y[rows,out] = x[rows,in]·W with W stored [in,out]
// (open_clip's proj and text_projection layout).
func MatMul(y, x []float32, rows, in, out int, w []float32) {
	Sgemm(false, false, rows, out, in, 1, x, in, w, out, 0, y, out)
}

// AddBiasRows adds bias[cols] to every row of x[rows,cols].
func AddBiasRows(x []float32, rows, cols int, bias []float32) {
	for r := 0; r < rows; r++ {
		row := x[r*cols : (r+1)*cols]
		for j, b := range bias[:cols] {
			row[j] += b
		}
	}
}

// Add computes dst[i] += src[i].
func Add(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}
