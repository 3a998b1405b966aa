//go:build goexperiment.simd && amd64

package cpu

import "simd/archsimd"

// gatherAVX512 packs panels whose lanes are stored rows (A as stored, and
// Bᵀ: every Linear) four rows at a time with a 4×16 in-register
// transpose; the rest goes to the scalar gatherLanes. Scalar packing is
// the bottleneck when few columns share each packed A panel (scores·v:
// n=64) and costs several percent of every Linear for B.
func gatherAVX512(panel, x []float32, ld, l, lanes, p0, kb, w int) {
	if w%4 != 0 || kb < 16 {
		gatherPanel(panel, x, ld, l, lanes, p0, kb, w)
		return
	}
	// Interleave two rows (low or high eight floats), then two row pairs
	// in 64-bit units: out[4q+r] = row r at depth q.
	idx := [4][16]uint32{
		{0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23},
		{8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31},
		{0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23},
		{8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31},
	}
	lo, hi := archsimd.LoadUint32x16(&idx[0]), archsimd.LoadUint32x16(&idx[1])
	lo2, hi2 := archsimd.LoadUint32x16(&idx[2]), archsimd.LoadUint32x16(&idx[3])
	panel = panel[:kb*w]
	i := 0
	for ; i+4 <= lanes; i += 4 {
		s0 := x[(l+i)*ld+p0 : (l+i)*ld+p0+kb]
		s1 := x[(l+i+1)*ld+p0 : (l+i+1)*ld+p0+kb]
		s2 := x[(l+i+2)*ld+p0 : (l+i+2)*ld+p0+kb]
		s3 := x[(l+i+3)*ld+p0 : (l+i+3)*ld+p0+kb]
		p := 0
		for ; p+16 <= kb; p += 16 {
			v0 := archsimd.LoadFloat32x16Slice(s0[p:])
			v1 := archsimd.LoadFloat32x16Slice(s1[p:])
			v2 := archsimd.LoadFloat32x16Slice(s2[p:])
			v3 := archsimd.LoadFloat32x16Slice(s3[p:])
			t0, t1 := v0.ConcatPermute(v1, lo), v0.ConcatPermute(v1, hi)
			t2, t3 := v2.ConcatPermute(v3, lo), v2.ConcatPermute(v3, hi)
			o0, o1 := t0.ConcatPermute(t2, lo2), t0.ConcatPermute(t2, hi2)
			o2, o3 := t1.ConcatPermute(t3, lo2), t1.ConcatPermute(t3, hi2)
			if w == 4 { // the four lanes of a depth step are adjacent
				d := panel[p*4 : p*4+64]
				o0.StoreSlice(d[0:])
				o1.StoreSlice(d[16:])
				o2.StoreSlice(d[32:])
				o3.StoreSlice(d[48:])
				continue
			}
			scatter4(panel, (p+0)*w+i, w, o0)
			scatter4(panel, (p+4)*w+i, w, o1)
			scatter4(panel, (p+8)*w+i, w, o2)
			scatter4(panel, (p+12)*w+i, w, o3)
		}
		for ; p < kb; p++ {
			d := panel[p*w+i : p*w+i+4 : p*w+i+4]
			d[0], d[1], d[2], d[3] = s0[p], s1[p], s2[p], s3[p]
		}
	}
	gatherLanes(panel, x, ld, l, i, lanes, p0, kb, w)
}

// scatter4 stores the four 4-float groups of v at off, off+w, off+2w and
// off+3w.
func scatter4(panel []float32, off, w int, v archsimd.Float32x16) {
	lo, hi := v.GetLo(), v.GetHi()
	lo.GetLo().StoreSlice(panel[off:])
	lo.GetHi().StoreSlice(panel[off+w:])
	hi.GetLo().StoreSlice(panel[off+2*w:])
	hi.GetHi().StoreSlice(panel[off+3*w:])
}
