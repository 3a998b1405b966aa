package inspect

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // masks are PNG, but a JPEG mask should decode too
	_ "image/png"
)

// maxMaskPixels bounds a decoded ground-truth mask (a dropped file can be
// anything).
const maxMaskPixels = 8192 * 8192

// DecodeMask reads a ground-truth mask image of any size (white = defect:
// grey level ≥ 128) and scales it to size×size with nearest neighbour on
// pixel centres, the grid of the anomaly map it is compared with.
func DecodeMask(data []byte, size int) ([]uint8, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("mask: %w", err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width*cfg.Height > maxMaskPixels {
		return nil, fmt.Errorf("mask: %d×%d image", cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("mask: %w", err)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	src := make([]uint8, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray).Y >= 128 {
				src[y*w+x] = 1
			}
		}
	}
	return ScaleMask(src, w, h, size, size)
}

// ScaleMask resamples a w×h 0/1 mask to outW×outH by nearest neighbour on
// pixel centres: output (x, y) takes source (⌊(x+½)·w/outW⌋, ⌊(y+½)·h/outH⌋),
// so an exact k× down- or up-scale maps blocks onto pixels without shift.
func ScaleMask(m []uint8, w, h, outW, outH int) ([]uint8, error) {
	if w < 1 || h < 1 || len(m) != w*h || outW < 1 || outH < 1 {
		return nil, fmt.Errorf("scale mask: %d values for %d×%d to %d×%d", len(m), w, h, outW, outH)
	}
	xs := make([]int, outW)
	for x := range xs {
		xs[x] = min((2*x+1)*w/(2*outW), w-1)
	}
	out := make([]uint8, outW*outH)
	for y := 0; y < outH; y++ {
		row := m[min((2*y+1)*h/(2*outH), h-1)*w:]
		for x, sx := range xs {
			out[y*outW+x] = row[sx]
		}
	}
	return out, nil
}

// Count is the number of set pixels of a mask.
func Count(m []uint8) int {
	n := 0
	for _, v := range m {
		if v != 0 {
			n++
		}
	}
	return n
}

// Overlap compares a predicted mask with the ground truth (same size):
// intersection over union and the Dice coefficient. Two empty masks agree
// perfectly (1, 1).
func Overlap(pred, gt []uint8) (iou, dice float64, err error) {
	if len(pred) != len(gt) {
		return 0, 0, fmt.Errorf("overlap: %d and %d pixels", len(pred), len(gt))
	}
	var inter, p, g int
	for i := range pred {
		a, b := pred[i] != 0, gt[i] != 0
		if a {
			p++
		}
		if b {
			g++
		}
		if a && b {
			inter++
		}
	}
	if p+g == 0 {
		return 1, 1, nil
	}
	return float64(inter) / float64(p+g-inter), 2 * float64(inter) / float64(p+g), nil
}
