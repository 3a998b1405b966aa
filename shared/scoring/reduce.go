package scoring

import "math"

// The reference's float32 reductions, mirrored so that sums and norms round
// like the goldens. They follow PyTorch's CPU kernels as built for x86-64
// with AVX2+FMA (8-lane vectors), the build that produced the goldens:
// cascade_sum in aten/src/ATen/native/cpu/SumKernel.cpp for sum/mean and
// map_reduce_all (x*x contracted to an FMA) for the 2-norm. A plain
// in-order float32 sum differs in the last bit for about 40% of the
// per-layer map values.

// vecLanes is the float32 vector width of the reference build.
const vecLanes = 8

// ilp is the number of independent accumulators of row_sum/multi_row_sum.
const ilp = 4

// levelStep is multi_row_sum's cascade step 1<<max(4, ceil(log2 n)/4),
// which is 16 for every n below 2^20 (all sizes here).
const levelStep = 16

type lanes [vecLanes]float32

func (a *lanes) add(x []float32) {
	for l := range a {
		a[l] += x[l]
	}
}

func (a *lanes) addLanes(b *lanes) {
	for l := range a {
		a[l] += b[l]
	}
}

// multiRowSum is multi_row_sum: ilp accumulators (column k at
// x[k*colStride]) summed over size rows (row i at x[i*rowStride]) through a
// cascade of 4 levels of levelStep rows.
func multiRowSum(x []float32, rowStride, colStride, size int) [ilp]float32 {
	var acc [4][ilp]float32
	i := 0
	for i+levelStep <= size {
		for j := 0; j < levelStep; j, i = j+1, i+1 {
			for k := range acc[0] {
				acc[0][k] += x[i*rowStride+k*colStride]
			}
		}
		for j := 1; j < 4; j++ {
			for k := range acc[j] {
				acc[j][k] += acc[j-1][k]
				acc[j-1][k] = 0
			}
			if i&((levelStep-1)<<(4*j)) != 0 {
				break
			}
		}
	}
	for ; i < size; i++ {
		for k := range acc[0] {
			acc[0][k] += x[i*rowStride+k*colStride]
		}
	}
	for j := 1; j < 4; j++ {
		for k := range acc[0] {
			acc[0][k] += acc[j][k]
		}
	}
	return acc[0]
}

// multiRowSumLanes is multiRowSum over 8-lane vectors (x[off:off+8]).
func multiRowSumLanes(x []float32, rowStride, colStride, size int) [ilp]lanes {
	var acc [4][ilp]lanes
	i := 0
	for i+levelStep <= size {
		for j := 0; j < levelStep; j, i = j+1, i+1 {
			for k := range acc[0] {
				o := i*rowStride + k*colStride
				acc[0][k].add(x[o : o+vecLanes])
			}
		}
		for j := 1; j < 4; j++ {
			for k := range acc[j] {
				acc[j][k].addLanes(&acc[j-1][k])
				acc[j-1][k] = lanes{}
			}
			if i&((levelStep-1)<<(4*j)) != 0 {
				break
			}
		}
	}
	for ; i < size; i++ {
		for k := range acc[0] {
			o := i*rowStride + k*colStride
			acc[0][k].add(x[o : o+vecLanes])
		}
	}
	for j := 1; j < 4; j++ {
		for k := range acc[0] {
			acc[0][k].addLanes(&acc[j][k])
		}
	}
	return acc[0]
}

// rowSum is row_sum: size elements x[i*stride] viewed as rows of ilp,
// the leftover elements added to accumulator 0, then the accumulators
// added in order.
func rowSum(x []float32, stride, size int) float32 {
	n := size / ilp
	p := multiRowSum(x, ilp*stride, stride, n)
	for i := n * ilp; i < size; i++ {
		p[0] += x[i*stride]
	}
	return p[0] + p[1] + p[2] + p[3]
}

// rowSumLanes is row_sum over size 8-lane vectors at x[i*stride:].
func rowSumLanes(x []float32, stride, size int) lanes {
	n := size / ilp
	p := multiRowSumLanes(x, ilp*stride, stride, n)
	for i := n * ilp; i < size; i++ {
		p[0].add(x[i*stride : i*stride+vecLanes])
	}
	for k := 1; k < ilp; k++ {
		p[0].addLanes(&p[k])
	}
	return p[0]
}

// torchSum is torch.sum over a contiguous float32 run: vectorized_inner_sum
// from 8 elements on, scalar_inner_sum below.
func torchSum(x []float32) float32 {
	n := len(x)
	if n < vecLanes {
		return rowSum(x, 1, n)
	}
	nv := n / vecLanes
	if nv >= ilp*levelStep {
		return sumLanes(rowSumLanes(x, vecLanes, nv), x[nv*vecLanes:])
	}
	// Fewer than ilp·levelStep vectors (n < 512, every class count here):
	// the cascade never triggers, so row_sum reduces to ilp lane-wise
	// accumulators over whole groups of ilp vectors, the leftover vectors
	// added to the first, then the accumulators added in order. This is
	// the per-pixel hot path, hence spelled out without slicing.
	var p [ilp]lanes
	full := nv / ilp * ilp
	for i := 0; i < full; i += ilp {
		for k := range p {
			v := x[(i+k)*vecLanes : (i+k+1)*vecLanes]
			for l := range p[k] {
				p[k][l] += v[l]
			}
		}
	}
	for i := full; i < nv; i++ {
		v := x[i*vecLanes : (i+1)*vecLanes]
		for l := range p[0] {
			p[0][l] += v[l]
		}
	}
	if full > 0 { // otherwise p[1:] are zeros, and adding +0 changes nothing here
		for k := 1; k < ilp; k++ {
			for l := range p[0] {
				p[0][l] += p[k][l]
			}
		}
	}
	return sumLanes(p[0], x[nv*vecLanes:])
}

// sumLanes finishes vectorized_inner_sum: the scalar tail in order, then
// the lanes of the vector accumulator in order.
func sumLanes(v lanes, tail []float32) float32 {
	var s float32
	for _, t := range tail {
		s += t
	}
	for _, t := range v {
		s += t
	}
	return s
}

// torchSumRows is torch.sum(x, dim=0) of a contiguous [rows, cols] matrix
// into dst [cols] (vectorized_outer_sum, or scalar_outer_sum for narrow
// matrices).
func torchSumRows(dst, x []float32, rows, cols int) {
	j := 0
	if cols >= vecLanes {
		for ; j+ilp*vecLanes <= cols; j += ilp * vecLanes {
			s := multiRowSumLanes(x[j:], cols, vecLanes, rows)
			for k := range s {
				copy(dst[j+k*vecLanes:], s[k][:])
			}
		}
		for ; j+vecLanes <= cols; j += vecLanes {
			s := rowSumLanes(x[j:], cols, rows)
			copy(dst[j:], s[:])
		}
	} else {
		for ; j+ilp-1 < cols; j += ilp {
			s := multiRowSum(x[j:], cols, 1, rows)
			copy(dst[j:], s[:])
		}
	}
	for ; j < cols; j++ {
		dst[j] = rowSum(x[j:], cols, rows)
	}
}

// torchNorm is the 2-norm of map_reduce_all: lane l accumulates x_i² for
// i ≡ l (mod 8) with fused multiply-adds, the lanes are added in order and
// the square root is rounded to float32.
func torchNorm(x []float32) float32 {
	var acc lanes
	i := 0
	for ; i+vecLanes <= len(x); i += vecLanes {
		v := x[i : i+vecLanes]
		for l := range acc {
			acc[l] = fma32(v[l], v[l], acc[l])
		}
	}
	for l, v := range x[i:] {
		acc[l] = fma32(v, v, acc[l])
	}
	s := acc[0]
	for _, t := range acc[1:] {
		s += t
	}
	return float32(math.Sqrt(float64(s)))
}

// fma32 is a float32 fused multiply-add: a·b+c rounded once. a·b is exact
// in float64; the float64 sum is corrected when it lands exactly halfway
// between two float32 values, where rounding twice would go wrong. (Results
// in the float32 subnormal range may still be off by one ulp.)
func fma32(a, b, c float32) float32 {
	p := float64(a) * float64(b)
	cc := float64(c)
	s := p + cc
	bits := math.Float64bits(s)
	if bits&(1<<29-1) != 1<<28 {
		return float32(s)
	}
	t := s - p
	e := (p - (s - t)) + (cc - t) // exact error of s (TwoSum)
	if e != 0 {
		if (e > 0) == (s > 0) {
			bits++
		} else {
			bits--
		}
		s = math.Float64frombits(bits)
	}
	return float32(s)
}
