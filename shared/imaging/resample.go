package imaging

import (
	"fmt"
	"math"
)

// This file reproduces Pillow's two-pass convolution resampler
// (libImaging/Resample.c, unchanged in substance from Pillow 7 to 10): the
// coefficient table of precompute_coeffs, the 8-bit fixed-point passes used
// for L/LA/RGB/RGBA/CMYK images and the float64 passes used for mode "I".
// Bit-exactness depends on doing every float64 operation in the same order
// as the C code; products are wrapped in float64(...) so that no platform
// fuses them into FMA instructions (the Go spec allows fusion otherwise).

// filter is one of Pillow's separable kernels with its support at scale 1.
type filter struct {
	fn      func(x float64) float64
	support float64
}

// bicubicKernel is Keys' cubic with a = -0.5, written in Pillow's operation
// order so the double results match to the last bit.
func bicubicKernel(x float64) float64 {
	const a = -0.5
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return float64(float64(float64(float64((a+2.0)*x)-(a+3.0))*x)*x) + 1
	}
	if x < 2 {
		return float64(float64(float64(float64(float64(x-5)*x)+8)*x)-4) * a
	}
	return 0
}

// bilinearKernel is the triangle filter.
func bilinearKernel(x float64) float64 {
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return 1 - x
	}
	return 0
}

var (
	bicubicFilter  = filter{bicubicKernel, 2}
	bilinearFilter = filter{bilinearKernel, 1}
)

// precisionBits is Pillow's PRECISION_BITS: 32 bits minus 8 for the pixel
// and 2 of headroom for negative lobes and sums above 1.
const precisionBits = 32 - 8 - 2

// coeffs is the per-axis kernel table: for output index i, source samples
// start..start+n-1 are weighted by k[i*ksize : i*ksize+n].
type coeffs struct {
	ksize int
	start []int
	n     []int
	k     []float64
}

// precomputeCoeffs mirrors Pillow's precompute_coeffs for the box
// [0, inSize): the kernel is widened by the scale when downsampling (this is
// the antialiasing) and every row of weights is normalised to sum to 1.
func precomputeCoeffs(inSize, outSize int, f filter) coeffs {
	// Pillow passes the box as C floats, so the input extent is float32.
	in1 := float64(float32(inSize))
	scale := in1 / float64(outSize)
	filterscale := scale
	if filterscale < 1 {
		filterscale = 1
	}
	support := f.support * filterscale
	ksize := int(math.Ceil(support))*2 + 1
	c := coeffs{
		ksize: ksize,
		start: make([]int, outSize),
		n:     make([]int, outSize),
		k:     make([]float64, outSize*ksize),
	}
	ss := 1 / filterscale
	for xx := 0; xx < outSize; xx++ {
		center := 0 + float64((float64(xx)+0.5)*scale)
		// C casts truncate toward zero, as Go's conversions do.
		xmin := int(center - support + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > inSize {
			xmax = inSize
		}
		xmax -= xmin
		k := c.k[xx*ksize : xx*ksize+ksize]
		ww := 0.0
		for x := 0; x < xmax; x++ {
			w := f.fn(float64(float64(x+xmin)-center+0.5) * ss)
			k[x] = w
			ww += w
		}
		if ww != 0 {
			for x := 0; x < xmax; x++ {
				k[x] /= ww
			}
		}
		c.start[xx] = xmin
		c.n[xx] = xmax
	}
	return c
}

// fixed converts the weights to Pillow's fixed point (normalize_coeffs_8bpc):
// round half away from zero at 2^22, truncating like a C int cast.
func (c coeffs) fixed() []int32 {
	out := make([]int32, len(c.k))
	const one = float64(1 << precisionBits)
	for i, v := range c.k {
		if v < 0 {
			out[i] = int32(-0.5 + float64(v*one))
		} else {
			out[i] = int32(0.5 + float64(v*one))
		}
	}
	return out
}

// clip8 undoes the fixed-point scale and clamps, like Pillow's clip8 table.
func clip8(v int32) uint8 {
	v >>= precisionBits // arithmetic shift, as in C for negative sums
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// plane8 is an interleaved 8-bit image with ch channels per pixel.
type plane8 struct {
	w, h, ch int
	pix      []uint8
}

// checkSize rejects sizes Pillow would refuse ("height and width must be > 0").
func checkSize(w, h int) {
	if w < 1 || h < 1 {
		panic(fmt.Sprintf("imaging: resize to %dx%d: width and height must be > 0", w, h))
	}
}

// resample8 is ImagingResampleInner for 8-bit images: horizontal pass
// first, then vertical, each skipped when that dimension is unchanged.
func resample8(src plane8, w, h int, f filter) plane8 {
	checkSize(w, h)
	needH := w != src.w
	needV := h != src.h
	cur := src
	if needH {
		ch := precomputeCoeffs(src.w, w, f)
		// Only the source rows that the vertical pass reads are needed
		// (Pillow's ybox); outside them nothing is computed.
		y0, y1 := 0, src.h
		var cv coeffs
		if needV {
			cv = precomputeCoeffs(src.h, h, f)
			y0 = cv.start[0]
			y1 = cv.start[h-1] + cv.n[h-1]
		}
		cur = resampleH8(src, w, y0, y1, ch)
		if needV {
			for i := range cv.start {
				cv.start[i] -= y0
			}
			return resampleV8(cur, h, cv)
		}
		return cur
	}
	if needV {
		return resampleV8(cur, h, precomputeCoeffs(src.h, h, f))
	}
	return plane8{w: src.w, h: src.h, ch: src.ch, pix: append([]uint8(nil), src.pix...)}
}

// resampleH8 resamples rows y0..y1-1 of src to width w. The channel
// counts in use get their own loops, which the compiler keeps in registers.
func resampleH8(src plane8, w, y0, y1 int, c coeffs) plane8 {
	kk := c.fixed()
	nc := src.ch
	out := plane8{w: w, h: y1 - y0, ch: nc, pix: make([]uint8, w*(y1-y0)*nc)}
	const half = 1 << (precisionBits - 1)
	for y := y0; y < y1; y++ {
		row := src.pix[y*src.w*nc : (y+1)*src.w*nc]
		orow := out.pix[(y-y0)*w*nc : (y-y0+1)*w*nc]
		for xx := 0; xx < w; xx++ {
			k := kk[xx*c.ksize : xx*c.ksize+c.n[xx]]
			px := row[c.start[xx]*nc : (c.start[xx]+len(k))*nc]
			o := orow[xx*nc : xx*nc+nc]
			switch nc {
			case 1:
				var s0 int32 = half
				for x, kv := range k {
					s0 += int32(px[x]) * kv
				}
				o[0] = clip8(s0)
			case 3:
				var s0, s1, s2 int32 = half, half, half
				for x, kv := range k {
					p := px[3*x : 3*x+3]
					s0 += int32(p[0]) * kv
					s1 += int32(p[1]) * kv
					s2 += int32(p[2]) * kv
				}
				o[0], o[1], o[2] = clip8(s0), clip8(s1), clip8(s2)
			default:
				var acc [4]int32
				for b := range nc {
					acc[b] = half
				}
				for x, kv := range k {
					p := px[x*nc : x*nc+nc]
					for b, v := range p {
						acc[b] += int32(v) * kv
					}
				}
				for b := range o {
					o[b] = clip8(acc[b])
				}
			}
		}
	}
	return out
}

// resampleV8 resamples src to height h. Pillow loops pixel by pixel; here
// a whole row accumulates tap by tap, which gives identical integer sums
// (no intermediate can overflow int32: |sum| < 255 * 1.3 * 2^22).
func resampleV8(src plane8, h int, c coeffs) plane8 {
	kk := c.fixed()
	stride := src.w * src.ch
	out := plane8{w: src.w, h: h, ch: src.ch, pix: make([]uint8, stride*h)}
	acc := make([]int32, stride)
	for yy := 0; yy < h; yy++ {
		for i := range acc {
			acc[i] = 1 << (precisionBits - 1)
		}
		k := kk[yy*c.ksize : yy*c.ksize+c.n[yy]]
		for y, kv := range k {
			row := src.pix[(c.start[yy]+y)*stride : (c.start[yy]+y+1)*stride]
			for i, p := range row {
				acc[i] += int32(p) * kv
			}
		}
		orow := out.pix[yy*stride : (yy+1)*stride]
		for i, a := range acc {
			orow[i] = clip8(a)
		}
	}
	return out
}

// planeI is a single-channel int32 image (Pillow mode "I").
type planeI struct {
	w, h int
	pix  []int32
}

// roundUp is Pillow's ROUND_UP: round half away from zero, then a C int
// cast. Out-of-range values saturate (C leaves them undefined).
func roundUp(f float64) int32 {
	if f >= 0 {
		f += 0.5
	} else {
		f -= 0.5
	}
	if f >= math.MaxInt32 {
		return math.MaxInt32
	}
	if f <= math.MinInt32 {
		return math.MinInt32
	}
	return int32(f)
}

// resampleI is ImagingResampleInner for mode "I" (16-bit grey PNGs): double
// weights, double accumulation in tap order, rounding after each pass.
func resampleI(src planeI, w, h int, f filter) planeI {
	checkSize(w, h)
	cur := src
	if w != src.w {
		c := precomputeCoeffs(src.w, w, f)
		out := planeI{w: w, h: cur.h, pix: make([]int32, w*cur.h)}
		for y := 0; y < cur.h; y++ {
			row := cur.pix[y*cur.w : (y+1)*cur.w]
			for xx := 0; xx < w; xx++ {
				k := c.k[xx*c.ksize : xx*c.ksize+c.n[xx]]
				px := row[c.start[xx]:]
				ss := 0.0
				for x, kv := range k {
					ss += float64(float64(px[x]) * kv)
				}
				out.pix[y*w+xx] = roundUp(ss)
			}
		}
		cur = out
	}
	if h != src.h {
		c := precomputeCoeffs(src.h, h, f)
		out := planeI{w: cur.w, h: h, pix: make([]int32, cur.w*h)}
		acc := make([]float64, cur.w)
		for yy := 0; yy < h; yy++ {
			for i := range acc {
				acc[i] = 0
			}
			k := c.k[yy*c.ksize : yy*c.ksize+c.n[yy]]
			for y, kv := range k {
				row := cur.pix[(c.start[yy]+y)*cur.w : (c.start[yy]+y+1)*cur.w]
				for i, p := range row {
					acc[i] += float64(float64(p) * kv)
				}
			}
			for i, a := range acc {
				out.pix[yy*cur.w+i] = roundUp(a)
			}
		}
		cur = out
	}
	if cur.w == src.w && cur.h == src.h {
		return planeI{w: src.w, h: src.h, pix: append([]int32(nil), src.pix...)}
	}
	return cur
}

// resampleNearest8 is Pillow's NEAREST resize (ImagingScaleAffine), which
// Pillow uses for "P" and "1" images whatever filter is asked for. The
// source coordinate is accumulated by repeated addition, as in C, so that
// its rounding matches.
func resampleNearest8(src plane8, w, h int) plane8 {
	checkSize(w, h)
	if w == src.w && h == src.h {
		return plane8{w: w, h: h, ch: src.ch, pix: append([]uint8(nil), src.pix...)}
	}
	ax := float64(float32(src.w)) / float64(w)
	ay := float64(float32(src.h)) / float64(h)
	xin := make([]int, w)
	xo := float64(ax * 0.5)
	for x := range xin {
		xin[x] = coord(xo, src.w)
		xo += ax
	}
	nc := src.ch
	out := plane8{w: w, h: h, ch: nc, pix: make([]uint8, w*h*nc)}
	yo := float64(ay * 0.5)
	for y := 0; y < h; y++ {
		yi := coord(yo, src.h)
		yo += ay
		if yi < 0 {
			continue // Pillow fills with 0; unreachable for a pure scale
		}
		row := src.pix[yi*src.w*nc : (yi+1)*src.w*nc]
		orow := out.pix[y*w*nc : (y+1)*w*nc]
		for x, xi := range xin {
			if xi >= 0 {
				copy(orow[x*nc:x*nc+nc], row[xi*nc:xi*nc+nc])
			}
		}
	}
	return out
}

// coord is Pillow's COORD macro plus its in-range check (-1 = outside).
func coord(v float64, n int) int {
	if v < 0 {
		return -1
	}
	i := int(v)
	if i >= n {
		return -1
	}
	return i
}
