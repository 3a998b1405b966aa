//go:build dapocuda

package cuda

import (
	"unsafe"
)

// Launchers of the fused loss head (src/head.cu). Buffers named as
// float64 hold float64 values: their Len counts 4-byte units (2 per
// value); see UploadF64 and CopyOutF64.

func init() {
	kernelNames = append(kernelNames, "head_rows_forward", "head_pixels_forward", "head_pixels_backward",
		"head_feat_backward", "head_text_backward")
}

// HeadMaxClasses is HEAD_CMAX of src/head.cu.
const HeadMaxClasses = 64

const headSums = 7 // HEAD_SUMS

// headPixelBlock is the thread count of head_pixels_forward's blocks.
const headPixelBlock = 256

// HeadPixelBlocks is the number of blocks per image of HeadPixelsForward
// (each writes its own partial sums).
func HeadPixelBlocks(size int) int { return (size*size + headPixelBlock - 1) / headPixelBlock }

// AllocF64 allocates n float64 values.
func (d *Device) AllocF64(n int) Buf { return d.Alloc(2 * n) }

// UploadF64 copies float64 values to a new device buffer.
func (d *Device) UploadF64(x []float64) Buf {
	if len(x) == 0 {
		return d.Alloc(0)
	}
	return d.Upload(unsafe.Slice((*float32)(unsafe.Pointer(&x[0])), 2*len(x)))
}

// CopyOutF64 copies the first len(x) float64 values of b into x.
func (d *Device) CopyOutF64(x []float64, b Buf) {
	if len(x) == 0 {
		return
	}
	d.CopyOut(unsafe.Slice((*float32)(unsafe.Pointer(&x[0])), 2*len(x)), b)
}

func (d *Device) headCheck(classes int) bool {
	if classes < 1 || classes > HeadMaxClasses {
		d.fail("head: %d classes, at most %d", classes, HeadMaxClasses)
		return false
	}
	return true
}

// HeadRowsForward normalises each feature row of x [rows,E] into fhat
// (norms, float64, into norm) and writes probs [rows,C] =
// softmax(x̂·T̂ᵀ·invT).
func (d *Device) HeadRowsForward(probs, fhat, norm, x, that Buf, rows, classes, embed int, invT float64) {
	if !d.headCheck(classes) {
		return
	}
	d.launchHeadRowsForward([3]int{rows, 1, 1}, rowBlock(embed), probs, fhat, norm, x, that, rows, classes, embed, invT)
}

// HeadPixelsForward computes every pixel of the upsampled maps of one
// layer: the focal derivative factors into hpt [B·S²] (float64) and the
// per-block sums into partial [B·HeadPixelBlocks(S)·7] (float64).
func (d *Device) HeadPixelsForward(hpt, partial, probs, cls, bin Buf, batch, grid, size, classes int, lo, hi float64) {
	if !d.headCheck(classes) {
		return
	}
	d.launchHeadPixelsForward([3]int{HeadPixelBlocks(size), batch, 1}, headPixelBlock, hpt, partial, probs, cls, bin,
		batch, grid, size, classes, lo, hi)
}

// HeadPixelsBackward gathers each patch's gradient from its pixels and
// writes the similarity gradient dsim [rows,C] (float64).
func (d *Device) HeadPixelsBackward(dsim, probs, hpt, cls, bin, coef Buf, cF, lo, hi, invT float64, batch, grid, size, classes int) {
	if !d.headCheck(classes) {
		return
	}
	d.launchHeadPixelsBackward([3]int{batch * grid * grid, 1, 1}, 128, dsim, probs, hpt, cls, bin, coef, cF, lo, hi, invT,
		batch, grid, size, classes)
}

// HeadFeatBackward adds the gradient w.r.t. the raw feature rows to dx.
func (d *Device) HeadFeatBackward(dx, dsim, fhat, norm, that Buf, rows, classes, embed int) {
	if !d.headCheck(classes) {
		return
	}
	d.launchHeadFeatBackward([3]int{rows, 1, 1}, rowBlock(embed), dx, dsim, fhat, norm, that, rows, classes, embed)
}

// HeadTextBackward adds Σ_rows dsim[r,c]·x̂[r,e] to dthat [C,E] (float64).
func (d *Device) HeadTextBackward(dthat, dsim, fhat Buf, rows, classes, embed int) {
	d.launchHeadTextBackward(grid1(classes*embed), 256, dthat, dsim, fhat, rows, classes, embed)
}
