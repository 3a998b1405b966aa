package cpu

import "math"

// QuickGELUBackward adds dy⊙f'(xPre) to dx, f(x) = x·σ(1.702x), where xPre
// is the activation's input (kept by the forward pass before it applied
// QuickGELU in place):
//
//	f'(x) = σ(1.702x)·(1 + 1.702x·(1−σ(1.702x)))
func QuickGELUBackward(dx, dy, xPre []float32) {
	dy, xPre = dy[:len(dx)], xPre[:len(dx)]
	vk := vecAuto()
	const seg = 4096
	parallelRows(ceilDiv(len(dx), seg), seg, func(r0, r1 int) {
		lo, hi := r0*seg, min(r1*seg, len(dx))
		vk.quickGELUGrad(dx[lo:hi], dy[lo:hi], xPre[lo:hi])
	})
}

// GELUBackward adds dy⊙f'(xPre) to dx for the exact (erf) GELU:
//
//	f'(x) = Φ(x) + x·φ(x),  Φ(x) = (1+erf(x/√2))/2,  φ(x) = e^(−x²/2)/√(2π)
func GELUBackward(dx, dy, xPre []float32) {
	dy, xPre = dy[:len(dx)], xPre[:len(dx)]
	const invSqrt2Pi = 0.3989422804014327
	for i, v := range xPre {
		x := float64(v)
		d := 0.5*(1+math.Erf(x/math.Sqrt2)) + x*invSqrt2Pi*math.Exp(-0.5*x*x)
		dx[i] += dy[i] * float32(d)
	}
}

// SoftmaxRowsBackward adds to dx[rows,cols] the gradient through a row
// softmax, given its output y and the output gradient dy:
//
//	dx += y⊙(dy − Σ_j dy_j·y_j)
//
// Masked entries (y = 0) get no gradient, as they should.
func SoftmaxRowsBackward(dx, dy, y []float32, rows, cols int) {
	for r := 0; r < rows; r++ {
		softmaxBackward(dx[r*cols:(r+1)*cols], dy[r*cols:(r+1)*cols], y[r*cols:(r+1)*cols])
	}
}

func softmaxBackward(dx, dy, y []float32) {
	var dot float64
	for j, p := range y {
		dot += float64(dy[j]) * float64(p)
	}
	d := float32(dot)
	for j, p := range y {
		dx[j] += p * (dy[j] - d)
	}
}
