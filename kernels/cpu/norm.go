package cpu

import "math"

// LayerNormEps is the epsilon of CLIP's layer norms.
const LayerNormEps = 1e-5

// LayerNorm normalises each row of x[rows,width] into y (which may alias x)
// with affine weight and bias. Mean and variance are accumulated in float64:
// the rows of ViT-L are 1024 wide and a float32 sum would drift by more than
// the reference's own rounding. Rows are spread across the cores.
func LayerNorm(y, x []float32, rows, width int, weight, bias []float32, eps float64) {
	vk := vecAuto()
	parallelRows(rows, 3*width, func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			in := x[r*width : (r+1)*width]
			mean, variance := vk.meanVar(in)
			rstd := 1 / math.Sqrt(variance+eps)
			vk.normAffine(y[r*width:(r+1)*width], in, weight, bias, float32(mean), float32(rstd))
		}
	})
}

// L2Normalize scales each row of x[rows,width] to unit Euclidean norm in
// place (rows of zeros are left as they are).
func L2Normalize(x []float32, rows, width int) {
	for r := 0; r < rows; r++ {
		row := x[r*width : (r+1)*width]
		var sq float64
		for _, v := range row {
			sq += float64(v) * float64(v)
		}
		if sq == 0 {
			continue
		}
		inv := float32(1 / math.Sqrt(sq))
		for j := range row {
			row[j] *= inv
		}
	}
}
