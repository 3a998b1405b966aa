package render

// ResizeMap resamples a w×h map to outW×outH with bilinear interpolation on
// pixel centres (align_corners=False: source = (dst+0.5)·in/out − 0.5,
// clamped to the edge), the geometry of cv2.resize(INTER_LINEAR) that
// anomaly tools use to bring a map back to the original image size. It
// works in float64 and does not antialias, so shrinking by large factors
// aliases; the maps it is meant for are smooth.
func ResizeMap(m []float32, w, h, outW, outH int) ([]float32, error) {
	if err := checkSize(len(m), w, h, "resize"); err != nil {
		return nil, err
	}
	if err := checkSize(outW*outH, outW, outH, "resize target"); err != nil {
		return nil, err
	}
	xs, ys := linearTaps(w, outW), linearTaps(h, outH)
	out := make([]float32, outW*outH)
	for oy, ty := range ys {
		r0, r1 := m[ty.i0*w:(ty.i0+1)*w], m[ty.i1*w:(ty.i1+1)*w]
		for ox, tx := range xs {
			top := (1-tx.f)*float64(r0[tx.i0]) + tx.f*float64(r0[tx.i1])
			bot := (1-tx.f)*float64(r1[tx.i0]) + tx.f*float64(r1[tx.i1])
			out[oy*outW+ox] = float32((1-ty.f)*top + ty.f*bot)
		}
	}
	return out, nil
}

type tap struct {
	i0, i1 int
	f      float64
}

func linearTaps(in, out int) []tap {
	t := make([]tap, out)
	scale := float64(in) / float64(out)
	for o := range t {
		s := (float64(o)+0.5)*scale - 0.5
		if s <= 0 {
			t[o] = tap{0, 0, 0}
			continue
		}
		i := int(s)
		if i >= in-1 {
			t[o] = tap{in - 1, in - 1, 0}
			continue
		}
		t[o] = tap{i, i + 1, s - float64(i)}
	}
	return t
}
