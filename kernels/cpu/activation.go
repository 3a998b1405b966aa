package cpu

import "math"

// QuickGELU applies x·sigmoid(1.702·x) in place (the activation OpenAI's
// CLIP weights were trained with).
func QuickGELU(x []float32) {
	if len(x) == 0 {
		return
	}
	vk := vecAuto()
	zero := make([]float32, min(len(x), 4096))
	parallelRows(ceilDiv(len(x), len(zero)), len(zero), func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			seg := x[r*len(zero) : min((r+1)*len(zero), len(x))]
			vk.biasQuickGELU(seg, seg, zero)
		}
	})
}

// BiasQuickGELU is the c_fc epilogue fused in one pass over
// pre[rows,cols]: pre += bias (each row), then dst = QuickGELU(pre). dst
// may be pre; a separate dst keeps the pre-activation for the backward.
func BiasQuickGELU(dst, pre []float32, rows, cols int, bias []float32) {
	vk := vecAuto()
	parallelRows(rows, cols, func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			vk.biasQuickGELU(dst[r*cols:(r+1)*cols], pre[r*cols:(r+1)*cols], bias)
		}
	})
}

// BiasGELU is BiasQuickGELU for the exact (erf) GELU.
func BiasGELU(dst, pre []float32, rows, cols int, bias []float32) {
	if rows*cols == 0 {
		return
	}
	parallelRows(rows, cols, func(r0, r1 int) {
		AddBiasRows(pre[r0*cols:r1*cols], r1-r0, cols, bias)
		if &dst[0] != &pre[0] {
			copy(dst[r0*cols:r1*cols], pre[r0*cols:r1*cols])
		}
		GELU(dst[r0*cols : r1*cols])
	})
}

// GELU applies the exact (erf) GELU in place, PyTorch's nn.GELU default.
func GELU(x []float32) {
	for i, v := range x {
		x[i] = float32(0.5 * float64(v) * (1 + math.Erf(float64(v)/math.Sqrt2)))
	}
}

// SoftmaxRows applies a numerically stable softmax to each row of
// x[rows,cols] in place.
func SoftmaxRows(x []float32, rows, cols int) {
	vk := vecAuto()
	parallelRows(rows, 4*cols, func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			softmax(vk, x[r*cols:(r+1)*cols])
		}
	})
}

func softmax(vk vecKernel, row []float32) {
	maxv := vk.max(row)
	if math.IsInf(float64(maxv), -1) {
		// Fully masked row: PyTorch yields NaN; an all-zero row is the
		// useful answer and cannot arise in the towers.
		clear(row)
		return
	}
	sum := vk.expShift(row, maxv)
	vk.scale(row, float32(1/sum))
}
