package cpu

// LinearBackwardInput adds to dx[rows,in] the input gradient of Linear
// (y = x·Wᵀ + b, W [out,in]): dx += dy[rows,out]·W.
func LinearBackwardInput(dx, dy []float32, rows, in, out int, w []float32) {
	Sgemm(false, false, rows, in, out, 1, dy, out, w, in, 1, dx, in)
}

// LinearBackwardWeight adds the parameter gradients of Linear:
// dW[out,in] += dyᵀ·x and db[out] += Σ_rows dy (db may be nil). The tower
// weights are frozen; this is for trainable adapters written over Linear.
func LinearBackwardWeight(dw, db, dy, x []float32, rows, in, out int) {
	Sgemm(true, false, out, in, rows, 1, dy, out, x, in, 1, dw, in)
	if db == nil {
		return
	}
	// Sums run over up to ~10⁴ rows: accumulate in float64.
	sum := make([]float64, out)
	for r := 0; r < rows; r++ {
		for j, v := range dy[r*out : (r+1)*out] {
			sum[j] += float64(v)
		}
	}
	for j, s := range sum {
		db[j] += float32(s)
	}
}

// MatMulBackwardInput adds to dx[rows,in] the input gradient of MatMul
// (y = x·W, W [in,out]): dx += dy[rows,out]·Wᵀ.
func MatMulBackwardInput(dx, dy []float32, rows, in, out int, w []float32) {
	Sgemm(false, true, rows, in, out, 1, dy, out, w, out, 1, dx, in)
}
