package imaging

import "image"

// Go's image/jpeg returns the subsampled Y, Cb, Cr planes; turning them into
// RGB the way libjpeg(-turbo) does (and so Pillow) needs libjpeg's "fancy"
// chroma upsampling (jdsample.c: triangle filter, 3/4 nearer + 1/4 farther
// sample, edges replicated) and its fixed-point colour tables (jdcolor.c).
// Go's own YCbCr.At uses the nearest chroma sample and other rounding, which
// puts 4:2:0 images up to ~25 levels away from Pillow near colour edges.

// jpegScaleBits is libjpeg's SCALEBITS for the colour tables.
const jpegScaleBits = 16

func jfix(x float64) int32 { return int32(x*(1<<jpegScaleBits) + 0.5) }

// ycbcrTables are libjpeg's build_ycc_rgb_table.
type ycbcrTables struct {
	crR, cbB, crG, cbG [256]int32
}

func newYCbCrTables() *ycbcrTables {
	t := &ycbcrTables{}
	const half = 1 << (jpegScaleBits - 1)
	for i := 0; i < 256; i++ {
		x := int32(i - 128)
		t.crR[i] = (jfix(1.40200)*x + half) >> jpegScaleBits
		t.cbB[i] = (jfix(1.77200)*x + half) >> jpegScaleBits
		t.crG[i] = -jfix(0.71414) * x
		t.cbG[i] = -jfix(0.34414)*x + half
	}
	return t
}

func clampByte(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// upsampleChroma returns a full-resolution (w x h) chroma plane from Go's
// subsampled plane, with libjpeg's method for the ratio.
func upsampleChroma(m *image.YCbCr, plane []uint8) []uint8 {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	out := make([]uint8, w*h)
	// Downsampled size of the component, as libjpeg computes it.
	var cw, ch int
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		cw, ch = (w+1)/2, h
	case image.YCbCrSubsampleRatio420:
		cw, ch = (w+1)/2, (h+1)/2
	case image.YCbCrSubsampleRatio440:
		cw, ch = w, (h+1)/2
	default:
		// 4:4:4 needs nothing; 4:1:1 and 4:1:0 are replicated by libjpeg
		// too (int_upsample), which is what COffset gives.
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				out[y*w+x] = plane[m.COffset(m.Rect.Min.X+x, m.Rect.Min.Y+y)]
			}
		}
		return out
	}
	base := m.COffset(m.Rect.Min.X, m.Rect.Min.Y)
	// row returns chroma row i, edge rows replicated as libjpeg's context
	// rows are.
	row := func(i int) []uint8 {
		i = min(max(i, 0), ch-1)
		return plane[base+i*m.CStride : base+i*m.CStride+cw]
	}
	// far is the second-nearest chroma row of output row y (v = 2).
	far := func(y int) []uint8 {
		if y%2 == 0 {
			return row(y/2 - 1)
		}
		return row(y/2 + 1)
	}
	col := make([]int32, cw) // scratch for upsampleRow2
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio422: // h2v1_fancy_upsample
		for y := 0; y < h; y++ {
			upsampleRow2(out[y*w:(y+1)*w], row(y), nil, col)
		}
	case image.YCbCrSubsampleRatio440: // h1v2_fancy_upsample
		for y := 0; y < h; y++ {
			near, f := row(y/2), far(y)
			bias := int32(1 + y%2)
			o := out[y*w : (y+1)*w]
			for x := range o {
				o[x] = uint8((3*int32(near[x]) + int32(f[x]) + bias) >> 2)
			}
		}
	case image.YCbCrSubsampleRatio420: // h2v2_fancy_upsample
		for y := 0; y < h; y++ {
			upsampleRow2(out[y*w:(y+1)*w], row(y/2), far(y), col)
		}
	}
	return out
}

// upsampleRow2 doubles a chroma row horizontally with libjpeg's fancy
// filter: h2v1 when far is nil, else h2v2 on the column sums
// 3*near + far (weights 9/16, 3/16, 3/16, 1/16). Rows of at most two
// samples are replicated, as libjpeg only goes fancy above that. col is
// scratch space of len(near).
func upsampleRow2(out, near, far []uint8, col []int32) {
	cw := len(near)
	for j := range col {
		if far == nil {
			col[j] = int32(near[j])
		} else {
			col[j] = 3*int32(near[j]) + int32(far[j])
		}
	}
	for x := range out {
		j := x / 2
		var v int32
		switch {
		case cw <= 2:
			v = int32(near[j])
		case far == nil && (x%2 == 0 && j == 0 || x%2 == 1 && j == cw-1):
			v = col[j]
		case far == nil && x%2 == 0:
			v = (3*col[j] + col[j-1] + 1) >> 2
		case far == nil:
			v = (3*col[j] + col[j+1] + 2) >> 2
		case x%2 == 0 && j == 0:
			v = (4*col[0] + 8) >> 4
		case x%2 == 1 && j == cw-1:
			v = (4*col[j] + 7) >> 4
		case x%2 == 0:
			v = (3*col[j] + col[j-1] + 8) >> 4
		default:
			v = (3*col[j] + col[j+1] + 7) >> 4
		}
		out[x] = uint8(v)
	}
}

// ycbcrToRGB converts a decoded JPEG to RGB like libjpeg's ycc_rgb_convert
// after fancy upsampling.
func ycbcrToRGB(m *image.YCbCr) plane8 {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	cb := upsampleChroma(m, m.Cb)
	cr := upsampleChroma(m, m.Cr)
	t := newYCbCrTables()
	p := plane8{w: w, h: h, ch: 3, pix: make([]uint8, w*h*3)}
	for y := 0; y < h; y++ {
		yo := m.YOffset(m.Rect.Min.X, m.Rect.Min.Y+y)
		lum := m.Y[yo : yo+w]
		o := p.pix[y*w*3 : (y+1)*w*3]
		cbr, crr := cb[y*w:(y+1)*w], cr[y*w:(y+1)*w]
		for x, l := range lum {
			yy := int32(l)
			b, r := cbr[x], crr[x]
			o[3*x] = clampByte(yy + t.crR[r])
			o[3*x+1] = clampByte(yy + (t.cbG[b]+t.crG[r])>>jpegScaleBits)
			o[3*x+2] = clampByte(yy + t.cbB[b])
		}
	}
	return p
}
