package scoring

import (
	"errors"
	"fmt"
)

// axisPlan holds, for every output coordinate along one axis, the two
// source indices and their lambdas of bilinear interpolation with
// align_corners=True.
type axisPlan struct {
	i0, i1 []int
	l0, l1 []float32
}

// newAxisPlan reproduces PyTorch's area_pixel_compute_scale (float32:
// (in-1)/(out-1)) and compute_source_index_and_lambda (source index
// scale*dst in float64, the accumulate type, lambda rounded to float32).
// The float64 source index matters: a float32 one is off by a few ulps of
// the lambda for most outputs.
func newAxisPlan(in, out int) axisPlan {
	p := axisPlan{
		i0: make([]int, out), i1: make([]int, out),
		l0: make([]float32, out), l1: make([]float32, out),
	}
	var scale float32
	if out > 1 {
		scale = float32(in-1) / float32(out-1)
	}
	for o := 0; o < out; o++ {
		if in == out {
			p.i0[o], p.i1[o], p.l0[o], p.l1[o] = o, o, 1, 0
			continue
		}
		real := float64(scale) * float64(o)
		i := int(real)
		if i > in-1 {
			i = in - 1
		}
		next := i
		if i < in-1 {
			next = i + 1
		}
		l1 := float32(real - float64(i))
		p.i0[o], p.i1[o], p.l1[o], p.l0[o] = i, next, l1, 1-l1
	}
	return p
}

// upsampler maps an inH×inW×C (HWC) grid to outH×outW×C.
type upsampler struct {
	inH, inW, outH, outW int
	ys, xs               axisPlan
}

func newUpsampler(inH, inW, outH, outW int) *upsampler {
	return &upsampler{
		inH: inH, inW: inW, outH: outH, outW: outW,
		ys: newAxisPlan(inH, outH), xs: newAxisPlan(inW, outW),
	}
}

// rowWeights fills w [4*outW] with the four tap weights of every output
// pixel of row oy. As in the reference kernel the products h·w are float32
// and only the accumulation is float64. They are shared by every layer and
// class of the row.
func (u *upsampler) rowWeights(w []float64, oy int) {
	h0, h1 := u.ys.l0[oy], u.ys.l1[oy]
	for ox := 0; ox < u.outW; ox++ {
		w0, w1 := u.xs.l0[ox], u.xs.l1[ox]
		q := w[4*ox : 4*ox+4]
		q[0] = float64(h0 * w0)
		q[1] = float64(h0 * w1)
		q[2] = float64(h1 * w0)
		q[3] = float64(h1 * w1)
	}
}

// row computes output row oy for all channels into dst [outW*c] from src
// [inH*inW*c] (float64 copies of the float32 input) and the row's weights.
// The four taps are summed left to right in float64 and rounded once, the
// reference's order; the explicit conversions stop FMA fusion on targets
// where Go would otherwise fuse.
func (u *upsampler) row(dst []float32, src []float64, c, oy int, w []float64) {
	stride := u.inW * c
	r0 := src[u.ys.i0[oy]*stride : (u.ys.i0[oy]+1)*stride]
	r1 := src[u.ys.i1[oy]*stride : (u.ys.i1[oy]+1)*stride]
	for ox := 0; ox < u.outW; ox++ {
		a, b := u.xs.i0[ox]*c, u.xs.i1[ox]*c
		x00, x01 := r0[a:a+c], r0[b:b+c]
		x10, x11 := r1[a:a+c], r1[b:b+c]
		q := w[4*ox : 4*ox+4 : 4*ox+4]
		w00, w01, w10, w11 := q[0], q[1], q[2], q[3]
		out := dst[ox*c : ox*c+c]
		// Equal lengths let the compiler drop the bounds checks in the loop.
		x00, x01, x10, x11 = x00[:len(out)], x01[:len(out)], x10[:len(out)], x11[:len(out)]
		for k := range out {
			out[k] = float32(float64(x00[k]*w00) + float64(x01[k]*w01) + float64(x10[k]*w10) + float64(x11[k]*w11))
		}
	}
}

// Upsample resizes an inH×inW×c float32 grid (HWC, row-major) to
// outH×outW×c with bilinear interpolation and align_corners=True, bit for
// bit like the reference's torch.nn.functional.interpolate on CPU.
func Upsample(src []float32, inH, inW, c, outH, outW int) ([]float32, error) {
	if inH < 1 || inW < 1 || c < 1 || outH < 1 || outW < 1 {
		return nil, fmt.Errorf("scoring: upsample: bad sizes in %dx%dx%d out %dx%d", inH, inW, c, outH, outW)
	}
	if len(src) != inH*inW*c {
		return nil, fmt.Errorf("scoring: upsample: got %d values, want %d×%d×%d", len(src), inH, inW, c)
	}
	if outH > maxSize || outW > maxSize {
		return nil, errors.New("scoring: upsample: output too large")
	}
	s64 := make([]float64, len(src))
	for i, v := range src {
		s64[i] = float64(v)
	}
	u := newUpsampler(inH, inW, outH, outW)
	dst := make([]float32, outH*outW*c)
	w := make([]float64, 4*outW)
	for oy := 0; oy < outH; oy++ {
		u.rowWeights(w, oy)
		u.row(dst[oy*outW*c:(oy+1)*outW*c], s64, c, oy, w)
	}
	return dst, nil
}
