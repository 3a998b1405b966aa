package cpu

import "math"

// Constants of the float32 exponential shared by the scalar and vector
// versions (Cephes' expf): exp(x) = 2ⁿ·exp(r), n = round(x·log₂e),
// r = x − n·ln2 with ln2 split in two so n·ln2Hi is exact, and exp(r) on
// |r| ≤ ln2/2 by a degree-6 polynomial. Within 2 ulp of the correctly
// rounded result over the whole float32 range (TestExp32).
const (
	expLog2e = 1.44269504088896341
	expLn2Hi = 0.693359375
	expLn2Lo = -2.12194440e-4
	expP0    = 1.9875691500e-4
	expP1    = 1.3981999507e-3
	expP2    = 8.3334519073e-3
	expP3    = 4.1665795894e-2
	expP4    = 1.6666665459e-1
	expP5    = 5.0000001201e-1
	// Inputs are clamped to [expMin, expMax]: below, the result rounds
	// to 0; above, it overflows to +Inf.
	expMin = -104
	expMax = 89
	// expRound is 1.5·2²³: adding and subtracting it rounds a float32
	// of magnitude below 2²² to the nearest integer, ties to even, and
	// leaves that integer in the low mantissa bits of the sum.
	expRound = 12582912
)

// exp32 is the scalar float32 exponential: float32 arithmetic only (no
// float64 math.Exp), so the portable kernels stay cheap in wasm. NaN in
// gives NaN out.
func exp32(x float32) float32 {
	if x != x {
		return x
	}
	x = min(max(x, expMin), expMax)
	t := float32(x*expLog2e) + expRound
	n := int32(math.Float32bits(t)&0x7fffff) - 0x400000
	nf := t - expRound
	r := x - float32(nf*expLn2Hi)
	r -= float32(nf * expLn2Lo)
	p := float32(expP0)
	p = float32(p*r) + expP1
	p = float32(p*r) + expP2
	p = float32(p*r) + expP3
	p = float32(p*r) + expP4
	p = float32(p*r) + expP5
	p = float32(float32(p*float32(r*r))+r) + 1
	// 2ⁿ in two normal factors: n ∈ [−150, 129] leaves the float32
	// exponent range, n/2 never does, so subnormal results round once.
	h := n / 2
	return p * pow2(h) * pow2(n-h)
}

// pow2 is 2ⁿ for n in float32's normal exponent range [−126, 127].
func pow2(n int32) float32 { return math.Float32frombits(uint32(n+127) << 23) }
