//go:build goexperiment.simd && amd64

package cpu

import (
	"simd/archsimd"
	"unsafe"
)

// The k loops below are unrolled by hand for the register allocator, which
// hands out 15 vector registers (Z0–Z14 or Y0–Y14): 8 accumulators, 2 B
// vectors, up to 4 A broadcasts and 1 copy (MulAdd's VFMADD213PS
// overwrites its receiver) fill them exactly; a wider tile spills.
//
// Two compiler details matter (measured on one Zen 5 core, L1-resident):
//   - the broadcast is spelled Float32x4{}.SetElem(0, x).Broadcast1To16()
//     in place of archsimd.BroadcastFloat32x16(x). The scheduler breaks
//     ties by source position, and the inlined helper's position (package
//     archsimd) sorts after all of this file, so every broadcast hoists to
//     the top of the loop and the tile spills: ≈100 against ≈190 GFLOP/s;
//   - unrolling four times in k leaves fewer register moves at the loop's
//     back edge: ≈150 GFLOP/s without.
//
// pa and pb walk the packed panels with unsafe.Add, bounded by the entry
// check on the panel lengths; C goes through checked slices.

// tile4x32AVX512Loop computes a 4×32 tile of C in eight Float32x16
// accumulators over kc steps (a multiple of kStep) of packed panels, and
// stores alpha·tile + ab[1]·C (C unread when ab[1] is 0).
//
//go:noinline
func tile4x32AVX512Loop(kc int, a, b, c []float32, ldc int, ab *[2]float32) {
	if kc <= 0 || kc%kStep != 0 || len(a) < kc*4 || len(b) < kc*32 {
		panic("cpu: tile4x32AVX512Loop: short panel")
	}
	var c00, c01, c10, c11, c20, c21, c30, c31 archsimd.Float32x16
	pa := unsafe.Pointer(unsafe.SliceData(a))
	pb := unsafe.Pointer(unsafe.SliceData(b))
	for p := 4; ; p += 4 {
		ap := (*[16]float32)(pa)
		// k step 0
		b0 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(pb, 0)))
		b1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(pb, 64)))
		a0 := archsimd.Float32x4{}.SetElem(0, ap[0]).Broadcast1To16()
		c00 = a0.MulAdd(b0, c00)
		c01 = a0.MulAdd(b1, c01)
		a1 := archsimd.Float32x4{}.SetElem(0, ap[1]).Broadcast1To16()
		c10 = a1.MulAdd(b0, c10)
		c11 = a1.MulAdd(b1, c11)
		a2 := archsimd.Float32x4{}.SetElem(0, ap[2]).Broadcast1To16()
		c20 = a2.MulAdd(b0, c20)
		c21 = a2.MulAdd(b1, c21)
		a3 := archsimd.Float32x4{}.SetElem(0, ap[3]).Broadcast1To16()
		c30 = a3.MulAdd(b0, c30)
		c31 = a3.MulAdd(b1, c31)
		// k step 1
		b0 = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(pb, 128)))
		b1 = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(pb, 192)))
		a0 = archsimd.Float32x4{}.SetElem(0, ap[4]).Broadcast1To16()
		c00 = a0.MulAdd(b0, c00)
		c01 = a0.MulAdd(b1, c01)
		a1 = archsimd.Float32x4{}.SetElem(0, ap[5]).Broadcast1To16()
		c10 = a1.MulAdd(b0, c10)
		c11 = a1.MulAdd(b1, c11)
		a2 = archsimd.Float32x4{}.SetElem(0, ap[6]).Broadcast1To16()
		c20 = a2.MulAdd(b0, c20)
		c21 = a2.MulAdd(b1, c21)
		a3 = archsimd.Float32x4{}.SetElem(0, ap[7]).Broadcast1To16()
		c30 = a3.MulAdd(b0, c30)
		c31 = a3.MulAdd(b1, c31)
		// k step 2
		b0 = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(pb, 256)))
		b1 = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(pb, 320)))
		a0 = archsimd.Float32x4{}.SetElem(0, ap[8]).Broadcast1To16()
		c00 = a0.MulAdd(b0, c00)
		c01 = a0.MulAdd(b1, c01)
		a1 = archsimd.Float32x4{}.SetElem(0, ap[9]).Broadcast1To16()
		c10 = a1.MulAdd(b0, c10)
		c11 = a1.MulAdd(b1, c11)
		a2 = archsimd.Float32x4{}.SetElem(0, ap[10]).Broadcast1To16()
		c20 = a2.MulAdd(b0, c20)
		c21 = a2.MulAdd(b1, c21)
		a3 = archsimd.Float32x4{}.SetElem(0, ap[11]).Broadcast1To16()
		c30 = a3.MulAdd(b0, c30)
		c31 = a3.MulAdd(b1, c31)
		// k step 3
		b0 = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(pb, 384)))
		b1 = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(pb, 448)))
		a0 = archsimd.Float32x4{}.SetElem(0, ap[12]).Broadcast1To16()
		c00 = a0.MulAdd(b0, c00)
		c01 = a0.MulAdd(b1, c01)
		a1 = archsimd.Float32x4{}.SetElem(0, ap[13]).Broadcast1To16()
		c10 = a1.MulAdd(b0, c10)
		c11 = a1.MulAdd(b1, c11)
		a2 = archsimd.Float32x4{}.SetElem(0, ap[14]).Broadcast1To16()
		c20 = a2.MulAdd(b0, c20)
		c21 = a2.MulAdd(b1, c21)
		a3 = archsimd.Float32x4{}.SetElem(0, ap[15]).Broadcast1To16()
		c30 = a3.MulAdd(b0, c30)
		c31 = a3.MulAdd(b1, c31)
		if p >= kc {
			break
		}
		// Advance only when another step follows: a pointer past the
		// panel is invalid to the garbage collector.
		pa = unsafe.Add(pa, 16*4)
		pb = unsafe.Add(pb, 4*32*4)
	}
	alpha, beta := archsimd.BroadcastFloat32x16(ab[0]), archsimd.BroadcastFloat32x16(ab[1])
	readC := ab[1] != 0
	store16(c[0:], c00, alpha, beta, readC)
	store16(c[16:], c01, alpha, beta, readC)
	store16(c[ldc:], c10, alpha, beta, readC)
	store16(c[ldc+16:], c11, alpha, beta, readC)
	store16(c[2*ldc:], c20, alpha, beta, readC)
	store16(c[2*ldc+16:], c21, alpha, beta, readC)
	store16(c[3*ldc:], c30, alpha, beta, readC)
	store16(c[3*ldc+16:], c31, alpha, beta, readC)
}

// store16 writes alpha·v + beta·c; with readC false c is not read.
func store16(c []float32, v, alpha, beta archsimd.Float32x16, readC bool) {
	v = v.Mul(alpha)
	if readC {
		v = archsimd.LoadFloat32x16Slice(c).MulAdd(beta, v)
	}
	v.StoreSlice(c)
}

// tile4x16AVX2Loop is tile4x32AVX512Loop in 256-bit vectors: a 4×16 tile
// in eight Float32x8 accumulators.
//
//go:noinline
func tile4x16AVX2Loop(kc int, a, b, c []float32, ldc int, ab *[2]float32) {
	if kc <= 0 || kc%kStep != 0 || len(a) < kc*4 || len(b) < kc*16 {
		panic("cpu: tile4x16AVX2Loop: short panel")
	}
	var c00, c01, c10, c11, c20, c21, c30, c31 archsimd.Float32x8
	pa := unsafe.Pointer(unsafe.SliceData(a))
	pb := unsafe.Pointer(unsafe.SliceData(b))
	for p := 4; ; p += 4 {
		ap := (*[16]float32)(pa)
		// k step 0
		b0 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(pb, 0)))
		b1 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(pb, 32)))
		a0 := archsimd.Float32x4{}.SetElem(0, ap[0]).Broadcast1To8()
		c00 = a0.MulAdd(b0, c00)
		c01 = a0.MulAdd(b1, c01)
		a1 := archsimd.Float32x4{}.SetElem(0, ap[1]).Broadcast1To8()
		c10 = a1.MulAdd(b0, c10)
		c11 = a1.MulAdd(b1, c11)
		a2 := archsimd.Float32x4{}.SetElem(0, ap[2]).Broadcast1To8()
		c20 = a2.MulAdd(b0, c20)
		c21 = a2.MulAdd(b1, c21)
		a3 := archsimd.Float32x4{}.SetElem(0, ap[3]).Broadcast1To8()
		c30 = a3.MulAdd(b0, c30)
		c31 = a3.MulAdd(b1, c31)
		// k step 1
		b0 = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(pb, 64)))
		b1 = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(pb, 96)))
		a0 = archsimd.Float32x4{}.SetElem(0, ap[4]).Broadcast1To8()
		c00 = a0.MulAdd(b0, c00)
		c01 = a0.MulAdd(b1, c01)
		a1 = archsimd.Float32x4{}.SetElem(0, ap[5]).Broadcast1To8()
		c10 = a1.MulAdd(b0, c10)
		c11 = a1.MulAdd(b1, c11)
		a2 = archsimd.Float32x4{}.SetElem(0, ap[6]).Broadcast1To8()
		c20 = a2.MulAdd(b0, c20)
		c21 = a2.MulAdd(b1, c21)
		a3 = archsimd.Float32x4{}.SetElem(0, ap[7]).Broadcast1To8()
		c30 = a3.MulAdd(b0, c30)
		c31 = a3.MulAdd(b1, c31)
		// k step 2
		b0 = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(pb, 128)))
		b1 = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(pb, 160)))
		a0 = archsimd.Float32x4{}.SetElem(0, ap[8]).Broadcast1To8()
		c00 = a0.MulAdd(b0, c00)
		c01 = a0.MulAdd(b1, c01)
		a1 = archsimd.Float32x4{}.SetElem(0, ap[9]).Broadcast1To8()
		c10 = a1.MulAdd(b0, c10)
		c11 = a1.MulAdd(b1, c11)
		a2 = archsimd.Float32x4{}.SetElem(0, ap[10]).Broadcast1To8()
		c20 = a2.MulAdd(b0, c20)
		c21 = a2.MulAdd(b1, c21)
		a3 = archsimd.Float32x4{}.SetElem(0, ap[11]).Broadcast1To8()
		c30 = a3.MulAdd(b0, c30)
		c31 = a3.MulAdd(b1, c31)
		// k step 3
		b0 = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(pb, 192)))
		b1 = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(pb, 224)))
		a0 = archsimd.Float32x4{}.SetElem(0, ap[12]).Broadcast1To8()
		c00 = a0.MulAdd(b0, c00)
		c01 = a0.MulAdd(b1, c01)
		a1 = archsimd.Float32x4{}.SetElem(0, ap[13]).Broadcast1To8()
		c10 = a1.MulAdd(b0, c10)
		c11 = a1.MulAdd(b1, c11)
		a2 = archsimd.Float32x4{}.SetElem(0, ap[14]).Broadcast1To8()
		c20 = a2.MulAdd(b0, c20)
		c21 = a2.MulAdd(b1, c21)
		a3 = archsimd.Float32x4{}.SetElem(0, ap[15]).Broadcast1To8()
		c30 = a3.MulAdd(b0, c30)
		c31 = a3.MulAdd(b1, c31)
		if p >= kc {
			break
		}
		pa = unsafe.Add(pa, 16*4)
		pb = unsafe.Add(pb, 4*16*4)
	}
	alpha, beta := archsimd.BroadcastFloat32x8(ab[0]), archsimd.BroadcastFloat32x8(ab[1])
	readC := ab[1] != 0
	store8(c[0:], c00, alpha, beta, readC)
	store8(c[8:], c01, alpha, beta, readC)
	store8(c[ldc:], c10, alpha, beta, readC)
	store8(c[ldc+8:], c11, alpha, beta, readC)
	store8(c[2*ldc:], c20, alpha, beta, readC)
	store8(c[2*ldc+8:], c21, alpha, beta, readC)
	store8(c[3*ldc:], c30, alpha, beta, readC)
	store8(c[3*ldc+8:], c31, alpha, beta, readC)
}

// store8 writes alpha·v + beta·c; with readC false c is not read.
func store8(c []float32, v, alpha, beta archsimd.Float32x8, readC bool) {
	v = v.Mul(alpha)
	if readC {
		v = archsimd.LoadFloat32x8Slice(c).MulAdd(beta, v)
	}
	v.StoreSlice(c)
}
