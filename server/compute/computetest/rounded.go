// Package computetest holds backends for tests. Rounded is the CPU backend
// with every matrix product's inputs rounded to fewer mantissa bits and the
// products accumulated in float32: what a GPU's tensor cores compute in
// TF32 (10 bits, cuBLAS CUBLAS_TF32_TENSOR_OP_MATH or the own wmma
// kernel) or BF16 (7 bits) mode. It measures, without a GPU, what those
// modes cost against the golden tolerances.
package computetest

import (
	"fmt"
	"math"

	"dapo/server/compute"
)

// Rounded is compute.CPU with matrix-product inputs rounded to Bits
// mantissa bits (to nearest; ties away from zero, as the GPU's
// float-to-TF32 conversion cvt.rna does). Everything else — attention,
// layer norm, the loss head — is the CPU's, as on the GPU, whose own
// kernels for those run in float32/float64 in every mode.
type Rounded struct {
	compute.CPU
	Bits int
}

// TF32 is the tensor cores' TF32 input format: 10 mantissa bits.
const TF32 = 10

// BF16 is bfloat16: 7 mantissa bits.
const BF16 = 7

// Name says which rounding.
func (r *Rounded) Name() string {
	return fmt.Sprintf("cpu, GEMM inputs rounded to %d mantissa bits", r.Bits)
}

// Round rounds x to bits mantissa bits (bits ≤ 23), to nearest, ties away
// from zero. Infinities and NaNs pass unchanged.
func Round(x float32, bits int) float32 {
	if bits >= 23 || math.IsInf(float64(x), 0) || x != x {
		return x
	}
	drop := uint(23 - bits)
	u := math.Float32bits(x)
	u += 1 << (drop - 1)
	u &^= 1<<drop - 1
	return math.Float32frombits(u)
}

// rounded returns a rounded copy of t (nil stays nil).
func (r *Rounded) rounded(t compute.Tensor) compute.Tensor {
	if t == nil {
		return nil
	}
	src := t.(compute.Host)
	out := make(compute.Host, len(src))
	for i, v := range src {
		out[i] = Round(v, r.Bits)
	}
	return out
}

func (r *Rounded) Linear(y, x compute.Tensor, rows, in, out int, w, bias compute.Tensor) {
	r.CPU.Linear(y, r.rounded(x), rows, in, out, r.rounded(w), bias)
}

func (r *Rounded) MatMul(y, x compute.Tensor, rows, in, out int, w compute.Tensor) {
	r.CPU.MatMul(y, r.rounded(x), rows, in, out, r.rounded(w))
}

func (r *Rounded) LinearResidual(y, x compute.Tensor, rows, in, out int, w, bias compute.Tensor) {
	r.CPU.LinearResidual(y, r.rounded(x), rows, in, out, r.rounded(w), bias)
}

func (r *Rounded) LinearBackwardInput(dx, dy compute.Tensor, rows, in, out int, w compute.Tensor) {
	r.CPU.LinearBackwardInput(dx, r.rounded(dy), rows, in, out, r.rounded(w))
}

func (r *Rounded) LinearBackwardWeight(dw, db, dy, x compute.Tensor, rows, in, out int) {
	r.CPU.LinearBackwardWeight(dw, db, r.rounded(dy), r.rounded(x), rows, in, out)
}

func (r *Rounded) MatMulBackwardInput(dx, dy compute.Tensor, rows, in, out int, w compute.Tensor) {
	r.CPU.MatMulBackwardInput(dx, r.rounded(dy), rows, in, out, r.rounded(w))
}
