//go:build goexperiment.simd && amd64

package cpu

import (
	"math"
	"simd/archsimd"
)

// vecAVX2 is vecAVX512 in 8-float vectors for CPUs with AVX2 and FMA but
// no AVX-512 (no VSCALEFPS: 2ⁿ is built in the exponent bits, in two
// factors as in exp32).
func vecAVX2() vecKernel {
	return vecKernel{
		max:           maxAVX2,
		expShift:      expShiftAVX2,
		scale:         scaleAVX2,
		biasQuickGELU: biasQuickGELUAVX2,
		quickGELUGrad: quickGELUGradAVX2,
		addBias2:      addBias2AVX2,
		meanVar:       meanVarAVX2,
		normAffine:    normAffineAVX2,
	}
}

// exp8 is exp32 on eight lanes (NaN lanes: see exp16).
func exp8(x archsimd.Float32x8) archsimd.Float32x8 {
	x = x.Max(archsimd.BroadcastFloat32x8(expMin)).Min(archsimd.BroadcastFloat32x8(expMax))
	n := x.Mul(archsimd.BroadcastFloat32x8(expLog2e)).RoundToEven()
	r := n.MulAdd(archsimd.BroadcastFloat32x8(-expLn2Hi), x)
	r = n.MulAdd(archsimd.BroadcastFloat32x8(-expLn2Lo), r)
	p := archsimd.BroadcastFloat32x8(expP0)
	p = p.MulAdd(r, archsimd.BroadcastFloat32x8(expP1))
	p = p.MulAdd(r, archsimd.BroadcastFloat32x8(expP2))
	p = p.MulAdd(r, archsimd.BroadcastFloat32x8(expP3))
	p = p.MulAdd(r, archsimd.BroadcastFloat32x8(expP4))
	p = p.MulAdd(r, archsimd.BroadcastFloat32x8(expP5))
	p = p.MulAdd(r.Mul(r), r).Add(archsimd.BroadcastFloat32x8(1))
	// n ∈ [−150, 129]: h = round(n/2) and n − h both stay in the normal
	// exponent range, so a subnormal result rounds once, in the last
	// multiply.
	h := n.Mul(archsimd.BroadcastFloat32x8(0.5)).RoundToEven()
	return p.Mul(pow2x8(h)).Mul(pow2x8(n.Sub(h)))
}

// pow2x8 is 2ⁿ for integral n in [−126, 127].
func pow2x8(n archsimd.Float32x8) archsimd.Float32x8 {
	return n.ConvertToInt32().Add(archsimd.BroadcastInt32x8(127)).ShiftAllLeft(23).AsFloat32x8()
}

func maxAVX2(x []float32) float32 {
	m := float32(math.Inf(-1))
	i := 0
	if len(x) >= 8 {
		v := archsimd.LoadFloat32x8Slice(x)
		for i = 8; i+8 <= len(x); i += 8 {
			v = v.Max(archsimd.LoadFloat32x8Slice(x[i:]))
		}
		var lanes [8]float32
		v.Store(&lanes)
		m = maxPortable(lanes[:])
	}
	return max(m, maxPortable(x[i:]))
}

func sum64x4(v archsimd.Float64x4) float64 {
	var lanes [4]float64
	v.Store(&lanes)
	return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
}

func expShiftAVX2(x []float32, m float32) float64 {
	mv := archsimd.BroadcastFloat32x8(m)
	var s0, s1 archsimd.Float64x4
	i := 0
	for ; i+8 <= len(x); i += 8 {
		e := exp8(archsimd.LoadFloat32x8Slice(x[i:]).Sub(mv))
		e.StoreSlice(x[i:])
		s0 = s0.Add(e.GetLo().ConvertToFloat64())
		s1 = s1.Add(e.GetHi().ConvertToFloat64())
	}
	return sum64x4(s0.Add(s1)) + expShiftPortable(x[i:], m)
}

func scaleAVX2(x []float32, s float32) {
	sv := archsimd.BroadcastFloat32x8(s)
	i := 0
	for ; i+8 <= len(x); i += 8 {
		archsimd.LoadFloat32x8Slice(x[i:]).Mul(sv).StoreSlice(x[i:])
	}
	scalePortable(x[i:], s)
}

func biasQuickGELUAVX2(dst, pre, bias []float32) {
	n := len(dst)
	pre, bias = pre[:n], bias[:n]
	k := archsimd.BroadcastFloat32x8(-1.702)
	one := archsimd.BroadcastFloat32x8(1)
	i := 0
	for ; i+8 <= n; i += 8 {
		v := archsimd.LoadFloat32x8Slice(pre[i:]).Add(archsimd.LoadFloat32x8Slice(bias[i:]))
		v.StoreSlice(pre[i:])
		v.Div(exp8(v.Mul(k)).Add(one)).StoreSlice(dst[i:])
	}
	biasQuickGELUPortable(dst[i:], pre[i:], bias[i:])
}

func quickGELUGradAVX2(dx, dy, x []float32) {
	n := len(dx)
	dy, x = dy[:n], x[:n]
	k, nk := archsimd.BroadcastFloat32x8(1.702), archsimd.BroadcastFloat32x8(-1.702)
	one := archsimd.BroadcastFloat32x8(1)
	i := 0
	for ; i+8 <= n; i += 8 {
		v := archsimd.LoadFloat32x8Slice(x[i:])
		s := one.Div(exp8(v.Mul(nk)).Add(one))
		d := s.Mul(v.Mul(k).MulAdd(one.Sub(s), one))
		d.MulAdd(archsimd.LoadFloat32x8Slice(dy[i:]), archsimd.LoadFloat32x8Slice(dx[i:])).StoreSlice(dx[i:])
	}
	quickGELUGradPortable(dx[i:], dy[i:], x[i:])
}

func addBias2AVX2(x, y, bias []float32) {
	n := len(x)
	bias = bias[:n]
	i := 0
	if y == nil {
		for ; i+8 <= n; i += 8 {
			archsimd.LoadFloat32x8Slice(x[i:]).Add(archsimd.LoadFloat32x8Slice(bias[i:])).StoreSlice(x[i:])
		}
		addBias2Portable(x[i:], nil, bias[i:])
		return
	}
	y = y[:n]
	for ; i+8 <= n; i += 8 {
		s := archsimd.LoadFloat32x8Slice(y[i:]).Add(archsimd.LoadFloat32x8Slice(bias[i:]))
		archsimd.LoadFloat32x8Slice(x[i:]).Add(s).StoreSlice(x[i:])
	}
	addBias2Portable(x[i:], y[i:], bias[i:])
}

func meanVarAVX2(x []float32) (mean, variance float64) {
	var s0, s1 archsimd.Float64x4
	i := 0
	for ; i+8 <= len(x); i += 8 {
		v := archsimd.LoadFloat32x8Slice(x[i:])
		s0 = s0.Add(v.GetLo().ConvertToFloat64())
		s1 = s1.Add(v.GetHi().ConvertToFloat64())
	}
	sum := sum64x4(s0.Add(s1))
	for _, v := range x[i:] {
		sum += float64(v)
	}
	mean = sum / float64(len(x))
	mv := archsimd.BroadcastFloat64x4(mean)
	var q0, q1 archsimd.Float64x4
	for i = 0; i+8 <= len(x); i += 8 {
		v := archsimd.LoadFloat32x8Slice(x[i:])
		d0 := v.GetLo().ConvertToFloat64().Sub(mv)
		d1 := v.GetHi().ConvertToFloat64().Sub(mv)
		q0 = d0.MulAdd(d0, q0)
		q1 = d1.MulAdd(d1, q1)
	}
	sq := sum64x4(q0.Add(q1))
	for _, v := range x[i:] {
		d := float64(v) - mean
		sq += d * d
	}
	return mean, sq / float64(len(x))
}

func normAffineAVX2(y, x, w, b []float32, m, s float32) {
	n := len(y)
	x, w, b = x[:n], w[:n], b[:n]
	mv, sv := archsimd.BroadcastFloat32x8(m), archsimd.BroadcastFloat32x8(s)
	i := 0
	for ; i+8 <= n; i += 8 {
		d := archsimd.LoadFloat32x8Slice(x[i:]).Sub(mv).Mul(sv)
		d.MulAdd(archsimd.LoadFloat32x8Slice(w[i:]), archsimd.LoadFloat32x8Slice(b[i:])).StoreSlice(y[i:])
	}
	normAffinePortable(y[i:], x[i:], w[i:], b[i:], m, s)
}
