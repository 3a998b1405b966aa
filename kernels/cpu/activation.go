package cpu

import "math"

// QuickGELU applies x·sigmoid(1.702·x) in place (the activation OpenAI's
// CLIP weights were trained with).
func QuickGELU(x []float32) {
	for i, v := range x {
		x[i] = v / (1 + float32(math.Exp(float64(-1.702*v))))
	}
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
	for r := 0; r < rows; r++ {
		softmax(x[r*cols : (r+1)*cols])
	}
}

func softmax(row []float32) {
	maxv := float32(math.Inf(-1))
	for _, v := range row {
		if v > maxv {
			maxv = v
		}
	}
	if math.IsInf(float64(maxv), -1) {
		// Fully masked row: PyTorch yields NaN; an all-zero row is the
		// useful answer and cannot arise in the towers.
		clear(row)
		return
	}
	var sum float64
	for i, v := range row {
		e := float32(math.Exp(float64(v - maxv)))
		row[i] = e
		sum += float64(e)
	}
	inv := float32(1 / sum)
	for i := range row {
		row[i] *= inv
	}
}
