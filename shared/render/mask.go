package render

import (
	"image"
	"image/color"
)

// MaskValue is a mask element: true or non-zero marks the pixel.
type MaskValue interface{ ~bool | ~uint8 }

// MaskImage renders a w×h mask as 8-bit grey, 255 inside and 0 outside
// (the convention of the datasets' ground-truth PNGs).
func MaskImage[T MaskValue](mask []T, w, h int) (*image.Gray, error) {
	if err := checkSize(len(mask), w, h, "mask"); err != nil {
		return nil, err
	}
	img := image.NewGray(image.Rect(0, 0, w, h))
	var zero T
	for p, v := range mask {
		if v != zero {
			img.Pix[p] = 255
		}
	}
	return img, nil
}

// MaskPNG encodes a mask as an 8-bit grey PNG (see MaskImage).
func MaskPNG[T MaskValue](mask []T, w, h int) ([]byte, error) {
	img, err := MaskImage(mask, w, h)
	if err != nil {
		return nil, err
	}
	return PNGBytes(img)
}

// Outline marks the mask pixels that touch the outside: a 4-neighbour not
// in the mask, or the image border. The result is a closed line one pixel
// wide along the inside of each region.
func Outline[T MaskValue](mask []T, w, h int) ([]bool, error) {
	if err := checkSize(len(mask), w, h, "outline"); err != nil {
		return nil, err
	}
	var zero T
	in := func(x, y int) bool {
		return x >= 0 && y >= 0 && x < w && y < h && mask[y*w+x] != zero
	}
	out := make([]bool, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if in(x, y) && (!in(x-1, y) || !in(x+1, y) || !in(x, y-1) || !in(x, y+1)) {
				out[y*w+x] = true
			}
		}
	}
	return out, nil
}

// DrawOutline paints the outline of mask onto img (same size) in c,
// thickened to thickness pixels by growing the line by thickness-1 pixels
// in every direction (square neighbourhood).
func DrawOutline[T MaskValue](img *image.RGBA, mask []T, c color.RGBA, thickness int) error {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	line, err := Outline(mask, w, h)
	if err != nil {
		return err
	}
	r := max(thickness, 1) - 1
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if !line[y*w+x] {
				continue
			}
			for dy := -r; dy <= r; dy++ {
				for dx := -r; dx <= r; dx++ {
					if xx, yy := x+dx, y+dy; xx >= 0 && yy >= 0 && xx < w && yy < h {
						img.SetRGBA(b.Min.X+xx, b.Min.Y+yy, c)
					}
				}
			}
		}
	}
	return nil
}

// DrawOutlines paints the ground-truth outline and then the predicted one
// on top, so that where they coincide the prediction's colour shows. Either
// mask may be nil.
func DrawOutlines[T, U MaskValue](img *image.RGBA, pred []T, gt []U, predColor, gtColor color.RGBA, thickness int) error {
	if gt != nil {
		if err := DrawOutline(img, gt, gtColor, thickness); err != nil {
			return err
		}
	}
	if pred != nil {
		return DrawOutline(img, pred, predColor, thickness)
	}
	return nil
}
