package render

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
)

// maxPixels bounds image sizes so that bad dimensions fail instead of
// allocating gigabytes (in the browser especially).
const maxPixels = 1 << 28

func checkSize(n, w, h int, what string) error {
	if w < 1 || h < 1 || w*h > maxPixels || w > maxPixels || h > maxPixels {
		return fmt.Errorf("render: %s: bad size %dx%d", what, w, h)
	}
	if n != w*h {
		return fmt.Errorf("render: %s: %d values for %dx%d", what, n, w, h)
	}
	return nil
}

// MinMax returns the smallest and largest finite values of m (0, 0 if there
// are none), the per-image normalisation anomaly-detection visualisations
// use.
func MinMax(m []float32) (lo, hi float32) {
	first := true
	for _, v := range m {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			continue
		}
		if first {
			lo, hi, first = v, v, false
			continue
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi
}

// Index maps v to a colour-table index as the anomaly-detection tools do:
// t = (v-lo)/(hi-lo) in float32, clamped to [0, 1], then truncated
// t·255 (numpy's astype(uint8)). NaN maps to 0; with hi == lo values above
// lo map to 255.
func Index(v, lo, hi float32) uint8 {
	if !(v > lo) { // also NaN
		return 0
	}
	if !(v < hi) {
		return 255
	}
	t := (v - lo) / (hi - lo)
	return uint8(min(t, 1) * 255)
}

// Heatmap colours a w×h map (row-major) with cm, lo and hi mapping to the
// two ends of the table (use MinMax for per-image scaling, or fixed bounds
// such as [0, number of layers] to compare images).
func Heatmap(m []float32, w, h int, lo, hi float32, cm Colormap) (*image.RGBA, error) {
	if err := checkSize(len(m), w, h, "heatmap"); err != nil {
		return nil, err
	}
	if math.IsNaN(float64(lo)) || math.IsNaN(float64(hi)) || hi < lo {
		return nil, fmt.Errorf("render: heatmap: bad range [%g, %g]", lo, hi)
	}
	if !cm.valid() {
		return nil, fmt.Errorf("render: heatmap: unknown %v", cm)
	}
	var table [256]color.RGBA
	for i := range table {
		table[i] = cm.Color(uint8(i))
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for p, v := range m {
		c := table[Index(v, lo, hi)]
		px := img.Pix[4*p : 4*p+4 : 4*p+4]
		px[0], px[1], px[2], px[3] = c.R, c.G, c.B, 255
	}
	return img, nil
}

// RGBImage wraps interleaved 8-bit RGB pixels (HWC, row-major; the
// imaging package's layout) as an opaque RGBA image.
func RGBImage(pix []uint8, w, h int) (*image.RGBA, error) {
	if err := checkSize(len(pix)/3, w, h, "RGB image"); err != nil {
		return nil, err
	}
	if len(pix) != 3*w*h {
		return nil, fmt.Errorf("render: RGB image: %d bytes for %dx%d×3", len(pix), w, h)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for p := 0; p < w*h; p++ {
		copy(img.Pix[4*p:4*p+3], pix[3*p:3*p+3])
		img.Pix[4*p+3] = 255
	}
	return img, nil
}

// Overlay blends heat over base: out = (1-alpha)·base + alpha·heat per
// channel in float64, truncated to 8 bits. With alpha 0.5 this is exactly
// AnomalyCLIP's apply_ad_scoremap. Base alpha is ignored (treated as
// opaque); the result is opaque. base and heat must have the same size.
func Overlay(base image.Image, heat *image.RGBA, alpha float64) (*image.RGBA, error) {
	if heat == nil || base == nil {
		return nil, errors.New("render: overlay: nil image")
	}
	if !(alpha >= 0 && alpha <= 1) {
		return nil, fmt.Errorf("render: overlay: alpha %g outside [0, 1]", alpha)
	}
	bb, hb := base.Bounds(), heat.Bounds()
	if bb.Dx() != hb.Dx() || bb.Dy() != hb.Dy() {
		return nil, fmt.Errorf("render: overlay: base %dx%d, heatmap %dx%d", bb.Dx(), bb.Dy(), hb.Dx(), hb.Dy())
	}
	w, h := hb.Dx(), hb.Dy()
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	rgba, fast := base.(*image.RGBA)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var b [3]uint8
			if fast {
				i := rgba.PixOffset(bb.Min.X+x, bb.Min.Y+y)
				b = [3]uint8{rgba.Pix[i], rgba.Pix[i+1], rgba.Pix[i+2]}
			} else {
				c := color.NRGBAModel.Convert(base.At(bb.Min.X+x, bb.Min.Y+y)).(color.NRGBA)
				b = [3]uint8{c.R, c.G, c.B}
			}
			hi := heat.PixOffset(hb.Min.X+x, hb.Min.Y+y)
			o := out.PixOffset(x, y)
			for k := 0; k < 3; k++ {
				out.Pix[o+k] = uint8((1-alpha)*float64(b[k]) + alpha*float64(heat.Pix[hi+k]))
			}
			out.Pix[o+3] = 255
		}
	}
	return out, nil
}
