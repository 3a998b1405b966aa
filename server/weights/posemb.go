package weights

import (
	"fmt"
	"math"
)

// ResizePosEmbed resizes a vision positional embedding the way open_clip's
// resize_pos_embed does when a model is created for another image size
// (DAPO loads the 24×24 grid of ViT-L/14-336 at 518 px, a 37×37 grid).
//
// pe holds 1+oldGrid² rows of width values: the class-token row, then the
// grid in row-major order. The class row is kept; the grid is resampled as
// PyTorch's F.interpolate(mode="bicubic", antialias=True,
// align_corners=False) does, which is separable with Keys' cubic at
// a = −0.5 (Pillow's filter, not the −0.75 of plain bicubic), the filter
// widened by the scale factor when downsampling. The result has 1+newGrid²
// rows. With equal grids a copy of pe is returned.
//
// It panics if len(pe) is not (1+oldGrid²)·width: callers check shapes
// against the config first.
func ResizePosEmbed(pe []float32, oldGrid, newGrid, width int) []float32 {
	if oldGrid <= 0 || newGrid <= 0 || width <= 0 || len(pe) != (1+oldGrid*oldGrid)*width {
		panic(fmt.Sprintf("weights.ResizePosEmbed: %d values are not (1+%d²)×%d", len(pe), oldGrid, width))
	}
	if oldGrid == newGrid {
		return append([]float32(nil), pe...)
	}
	taps := antialiasTaps(oldGrid, newGrid)
	grid := pe[width:]

	// PyTorch resamples the contiguous (horizontal) axis first, then the
	// vertical one, each in float32; the same order and roundings give the
	// reference's values (bit for bit when upsampling).
	horiz := make([]float32, oldGrid*newGrid*width) // [oldGrid rows][newGrid cols][width]
	for y := 0; y < oldGrid; y++ {
		for x, tp := range taps {
			dst := horiz[(y*newGrid+x)*width : (y*newGrid+x+1)*width]
			accumulate(dst, tp, func(j int) []float32 {
				k := y*oldGrid + tp.first + j
				return grid[k*width : (k+1)*width]
			})
		}
	}
	out := make([]float32, (1+newGrid*newGrid)*width)
	copy(out, pe[:width])
	for y, tp := range taps {
		for x := 0; x < newGrid; x++ {
			o := 1 + y*newGrid + x
			accumulate(out[o*width:(o+1)*width], tp, func(j int) []float32 {
				k := (tp.first+j)*newGrid + x
				return horiz[k*width : (k+1)*width]
			})
		}
	}
	return out
}

// accumulate sets dst = Σ_j tp.weights[j]·row(j) the way the reference
// kernel does: the first product, then one fused multiply-add per further
// tap (PyTorch's CPU kernels are built with FMA contraction).
func accumulate(dst []float32, tp tap, row func(j int) []float32) {
	w0 := tp.weights[0]
	for c, v := range row(0) {
		dst[c] = float32(v * w0)
	}
	for j := 1; j < len(tp.weights); j++ {
		w := tp.weights[j]
		for c, v := range row(j) {
			dst[c] = fma32(v, w, dst[c])
		}
	}
}

// fma32 is a float32 fused multiply-add. The float64 product of two
// float32 values is exact, so only the final roundings remain.
func fma32(a, b, c float32) float32 {
	return float32(math.FMA(float64(a), float64(b), float64(c)))
}

// tap is the span of input samples one output sample reads, with their
// normalised weights.
type tap struct {
	first   int
	weights []float32
}

// antialiasTaps computes the weights of PyTorch's antialiased bicubic
// resampling from in to out samples
// (aten/src/ATen/native/cpu/UpSampleKernel.cpp, _compute_weights_aa), in
// float32 with the same mixed float/double steps as the C++ code.
func antialiasTaps(in, out int) []tap {
	const interpSize = 4 // bicubic
	scale := float32(in) / float32(out)
	support, invscale := float32(interpSize*0.5), float32(1)
	if scale >= 1 {
		support = float32(interpSize * 0.5 * float64(scale))
		invscale = float32(1.0 / float64(scale))
	}
	taps := make([]tap, out)
	for i := range taps {
		center := float32(float64(scale) * (float64(i) + 0.5))
		// static_cast<int64_t> truncates towards zero, as Go's int() does.
		lo := max(int(float64(center-support)+0.5), 0)
		hi := min(int(float64(center+support)+0.5), in)
		w := make([]float32, hi-lo)
		var total float32
		for j := range w {
			w[j] = keysCubic(float32((float64(float32(j+lo)-center) + 0.5) * float64(invscale)))
			total += w[j]
		}
		if total != 0 {
			for j := range w {
				w[j] /= total
			}
		}
		taps[i] = tap{first: lo, weights: w}
	}
	return taps
}

// keysCubic is the cubic convolution kernel with a = −0.5, PyTorch's
// aa_filter for bicubic, in Pillow's form. The C++ code evaluates the inner
// branch in double and the outer one in float with contracted multiply-adds;
// mirroring that reproduces the reference weights bit for bit.
func keysCubic(x float32) float32 {
	const a = -0.5
	if x < 0 {
		x = -x
	}
	switch {
	case x < 1:
		d := float64(x)
		p := math.FMA(a+2, d, -(a + 3))
		return float32(math.FMA(p*d, d, 1))
	case x < 2:
		p := fma32(x-5, x, 8)
		p = fma32(p, x, -4)
		return p * a
	}
	return 0
}
