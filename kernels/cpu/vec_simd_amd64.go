//go:build goexperiment.simd && amd64

package cpu

import (
	"math"
	"simd/archsimd"
)

// vecAuto picks the widest row primitives the CPU runs: AVX-512, else
// AVX2 with FMA, else the portable ones.
func vecAuto() vecKernel {
	switch {
	case archsimd.X86.AVX512():
		return vecAVX512()
	case archsimd.X86.AVX2() && archsimd.X86.FMA():
		return vecAVX2()
	}
	return vecPortable()
}

// vecAVX512 works in 16-float vectors and finishes ragged tails with the
// portable code (SlicePart loads trip checkptr at the end of an allocation).
func vecAVX512() vecKernel {
	return vecKernel{
		max:           maxAVX512,
		expShift:      expShiftAVX512,
		scale:         scaleAVX512,
		biasQuickGELU: biasQuickGELUAVX512,
		quickGELUGrad: quickGELUGradAVX512,
		addBias2:      addBias2AVX512,
		meanVar:       meanVarAVX512,
		normAffine:    normAffineAVX512,
	}
}

// exp16 is exp32 on sixteen lanes; VSCALEFPS applies 2ⁿ, overflow,
// underflow and subnormals included, in one rounding. NaN lanes come out
// as a clamp bound's exponential (VMAXPS/VMINPS return their second
// operand on NaN); the towers never feed NaN to it.
func exp16(x archsimd.Float32x16) archsimd.Float32x16 {
	x = x.Max(archsimd.BroadcastFloat32x16(expMin)).Min(archsimd.BroadcastFloat32x16(expMax))
	n := x.Mul(archsimd.BroadcastFloat32x16(expLog2e)).RoundToEvenScaled(0)
	r := n.MulAdd(archsimd.BroadcastFloat32x16(-expLn2Hi), x)
	r = n.MulAdd(archsimd.BroadcastFloat32x16(-expLn2Lo), r)
	p := archsimd.BroadcastFloat32x16(expP0)
	p = p.MulAdd(r, archsimd.BroadcastFloat32x16(expP1))
	p = p.MulAdd(r, archsimd.BroadcastFloat32x16(expP2))
	p = p.MulAdd(r, archsimd.BroadcastFloat32x16(expP3))
	p = p.MulAdd(r, archsimd.BroadcastFloat32x16(expP4))
	p = p.MulAdd(r, archsimd.BroadcastFloat32x16(expP5))
	p = p.MulAdd(r.Mul(r), r).Add(archsimd.BroadcastFloat32x16(1))
	return p.Scale(n)
}

func maxAVX512(x []float32) float32 {
	m := float32(math.Inf(-1))
	i := 0
	if len(x) >= 16 {
		v := archsimd.LoadFloat32x16Slice(x)
		for i = 16; i+16 <= len(x); i += 16 {
			v = v.Max(archsimd.LoadFloat32x16Slice(x[i:]))
		}
		var lanes [16]float32
		v.Store(&lanes)
		m = maxPortable(lanes[:])
	}
	return max(m, maxPortable(x[i:]))
}

func expShiftAVX512(x []float32, m float32) float64 {
	mv := archsimd.BroadcastFloat32x16(m)
	var s0, s1 archsimd.Float64x8
	i := 0
	for ; i+16 <= len(x); i += 16 {
		e := exp16(archsimd.LoadFloat32x16Slice(x[i:]).Sub(mv))
		e.StoreSlice(x[i:])
		s0 = s0.Add(e.GetLo().ConvertToFloat64())
		s1 = s1.Add(e.GetHi().ConvertToFloat64())
	}
	return sum64x8(s0.Add(s1)) + expShiftPortable(x[i:], m)
}

func sum64x8(v archsimd.Float64x8) float64 {
	var lanes [8]float64
	v.Store(&lanes)
	return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
}

func scaleAVX512(x []float32, s float32) {
	sv := archsimd.BroadcastFloat32x16(s)
	i := 0
	for ; i+16 <= len(x); i += 16 {
		archsimd.LoadFloat32x16Slice(x[i:]).Mul(sv).StoreSlice(x[i:])
	}
	scalePortable(x[i:], s)
}

func biasQuickGELUAVX512(dst, pre, bias []float32) {
	n := len(dst)
	pre, bias = pre[:n], bias[:n]
	k := archsimd.BroadcastFloat32x16(-1.702)
	one := archsimd.BroadcastFloat32x16(1)
	i := 0
	for ; i+16 <= n; i += 16 {
		v := archsimd.LoadFloat32x16Slice(pre[i:]).Add(archsimd.LoadFloat32x16Slice(bias[i:]))
		v.StoreSlice(pre[i:])
		v.Div(exp16(v.Mul(k)).Add(one)).StoreSlice(dst[i:])
	}
	biasQuickGELUPortable(dst[i:], pre[i:], bias[i:])
}

func quickGELUGradAVX512(dx, dy, x []float32) {
	n := len(dx)
	dy, x = dy[:n], x[:n]
	k, nk := archsimd.BroadcastFloat32x16(1.702), archsimd.BroadcastFloat32x16(-1.702)
	one := archsimd.BroadcastFloat32x16(1)
	i := 0
	for ; i+16 <= n; i += 16 {
		v := archsimd.LoadFloat32x16Slice(x[i:])
		s := one.Div(exp16(v.Mul(nk)).Add(one))
		d := s.Mul(v.Mul(k).MulAdd(one.Sub(s), one)) // σ·(1 + 1.702x·(1−σ))
		d.MulAdd(archsimd.LoadFloat32x16Slice(dy[i:]), archsimd.LoadFloat32x16Slice(dx[i:])).StoreSlice(dx[i:])
	}
	quickGELUGradPortable(dx[i:], dy[i:], x[i:])
}

func addBias2AVX512(x, y, bias []float32) {
	n := len(x)
	bias = bias[:n]
	i := 0
	if y == nil {
		for ; i+16 <= n; i += 16 {
			archsimd.LoadFloat32x16Slice(x[i:]).Add(archsimd.LoadFloat32x16Slice(bias[i:])).StoreSlice(x[i:])
		}
		addBias2Portable(x[i:], nil, bias[i:])
		return
	}
	y = y[:n]
	for ; i+16 <= n; i += 16 {
		s := archsimd.LoadFloat32x16Slice(y[i:]).Add(archsimd.LoadFloat32x16Slice(bias[i:]))
		archsimd.LoadFloat32x16Slice(x[i:]).Add(s).StoreSlice(x[i:])
	}
	addBias2Portable(x[i:], y[i:], bias[i:])
}

// meanVarAVX512 accumulates in eight float64 lanes per half vector, so
// both sums keep float64 precision like the portable version (the order
// differs: lanes, then a pairwise reduction).
func meanVarAVX512(x []float32) (mean, variance float64) {
	var s0, s1 archsimd.Float64x8
	i := 0
	for ; i+16 <= len(x); i += 16 {
		v := archsimd.LoadFloat32x16Slice(x[i:])
		s0 = s0.Add(v.GetLo().ConvertToFloat64())
		s1 = s1.Add(v.GetHi().ConvertToFloat64())
	}
	sum := sum64x8(s0.Add(s1))
	for _, v := range x[i:] {
		sum += float64(v)
	}
	mean = sum / float64(len(x))
	mv := archsimd.BroadcastFloat64x8(mean)
	var q0, q1 archsimd.Float64x8
	for i = 0; i+16 <= len(x); i += 16 {
		v := archsimd.LoadFloat32x16Slice(x[i:])
		d0 := v.GetLo().ConvertToFloat64().Sub(mv)
		d1 := v.GetHi().ConvertToFloat64().Sub(mv)
		q0 = d0.MulAdd(d0, q0)
		q1 = d1.MulAdd(d1, q1)
	}
	sq := sum64x8(q0.Add(q1))
	for _, v := range x[i:] {
		d := float64(v) - mean
		sq += d * d
	}
	return mean, sq / float64(len(x))
}

func normAffineAVX512(y, x, w, b []float32, m, s float32) {
	n := len(y)
	x, w, b = x[:n], w[:n], b[:n]
	mv, sv := archsimd.BroadcastFloat32x16(m), archsimd.BroadcastFloat32x16(s)
	i := 0
	for ; i+16 <= n; i += 16 {
		d := archsimd.LoadFloat32x16Slice(x[i:]).Sub(mv).Mul(sv)
		d.MulAdd(archsimd.LoadFloat32x16Slice(w[i:]), archsimd.LoadFloat32x16Slice(b[i:])).StoreSlice(y[i:])
	}
	normAffinePortable(y[i:], x[i:], w[i:], b[i:], m, s)
}
