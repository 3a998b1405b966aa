package render

import (
	"fmt"
	"image"
	"image/color"
	"math"
)

// Palette returns n distinct colours for per-pixel defect classes: class 0
// (normal) black, the others spread around the hue circle by the golden
// angle so that neighbouring class ids differ clearly.
func Palette(n int) []color.RGBA {
	p := make([]color.RGBA, max(n, 0))
	for i := 1; i < len(p); i++ {
		h := math.Mod(float64(i-1)*0.381966011250105, 1) // golden-angle steps
		p[i] = hsv(h, 0.85, 0.95)
	}
	if len(p) > 0 {
		p[0] = color.RGBA{0, 0, 0, 255}
	}
	return p
}

func hsv(h, s, v float64) color.RGBA {
	i := math.Floor(h * 6)
	f := h*6 - i
	pq := [4]float64{v * (1 - s), v * (1 - f*s), v * (1 - (1-f)*s), v}
	var r, g, b float64
	switch int(i) % 6 {
	case 0:
		r, g, b = pq[3], pq[2], pq[0]
	case 1:
		r, g, b = pq[1], pq[3], pq[0]
	case 2:
		r, g, b = pq[0], pq[3], pq[2]
	case 3:
		r, g, b = pq[0], pq[1], pq[3]
	case 4:
		r, g, b = pq[2], pq[0], pq[3]
	default:
		r, g, b = pq[3], pq[0], pq[1]
	}
	u := func(x float64) uint8 { return uint8(math.Round(x * 255)) }
	return color.RGBA{u(r), u(g), u(b), 255}
}

// ClassMap colours per-pixel class ids (scoring's PixelClass) with palette.
func ClassMap(classes []uint8, w, h int, palette []color.RGBA) (*image.RGBA, error) {
	if err := checkSize(len(classes), w, h, "class map"); err != nil {
		return nil, err
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for p, k := range classes {
		if int(k) >= len(palette) {
			return nil, fmt.Errorf("render: class map: class %d at pixel %d but %d palette colours", k, p, len(palette))
		}
		c := palette[k]
		px := img.Pix[4*p : 4*p+4 : 4*p+4]
		px[0], px[1], px[2], px[3] = c.R, c.G, c.B, c.A
	}
	return img, nil
}
