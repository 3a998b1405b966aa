package inspect

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math"

	"dapo/shared/render"
)

// Outline colours: white for the prediction, magenta for the ground truth;
// neither is on the jet, viridis or inferno tables, so both stay visible
// over any heatmap.
var (
	PredColor = color.RGBA{255, 255, 255, 255}
	GTColor   = color.RGBA{255, 0, 255, 255}
	// Background is the canvas under the heatmap when a bundle has no
	// thumbnail.
	Background = color.RGBA{40, 44, 52, 255}
)

// View are the display choices for Compose.
type View struct {
	Colormap string
	Alpha    float64 // heatmap opacity, [0, 1]
	MaxSide  int     // longest side of the composed image
	ShowPred bool    // predicted-mask outline
	ShowGT   bool    // ground-truth outline (when the item has one)
}

// DisplaySize fits w×h into maxSide×maxSide keeping the aspect ratio
// (never enlarging), at least 1×1.
func DisplaySize(w, h, maxSide int) (int, int) {
	if w < 1 || h < 1 {
		return 1, 1
	}
	s := math.Min(1, float64(maxSide)/float64(max(w, h)))
	return max(1, int(math.Round(float64(w)*s))), max(1, int(math.Round(float64(h)*s)))
}

// baseCache keeps the item's thumbnail scaled to the display size, so that
// moving a slider does not decode the JPEG again.
type baseCache struct {
	w, h int
	img  *image.RGBA
}

// base is the image under the heatmap at w×h: the bundle's JPEG thumbnail
// (nearest-neighbour scaled) or a flat background.
func (it *Item) baseImage(w, h int) (*image.RGBA, error) {
	if it.base != nil && it.base.w == w && it.base.h == h {
		return it.base.img, nil
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	if len(it.JPEG) == 0 {
		draw.Draw(out, out.Bounds(), image.NewUniform(Background), image.Point{}, draw.Src)
	} else {
		src, err := jpeg.Decode(bytes.NewReader(it.JPEG))
		if err != nil {
			return nil, fmt.Errorf("%s: thumbnail: %w", it.Name, err)
		}
		sb := src.Bounds()
		for y := 0; y < h; y++ {
			sy := sb.Min.Y + min((2*y+1)*sb.Dy()/(2*h), sb.Dy()-1)
			for x := 0; x < w; x++ {
				sx := sb.Min.X + min((2*x+1)*sb.Dx()/(2*w), sb.Dx()-1)
				out.Set(x, y, src.At(sx, sy))
			}
		}
	}
	it.base = &baseCache{w: w, h: h, img: out}
	return out, nil
}

// Compose draws what the canvas shows: the image, the heatmap blended over
// it with opacity v.Alpha (per-image min–max scaled, as scoreapi's
// heatmap), and the outlines of the predicted mask and the ground truth,
// all at the display size of the original image.
func Compose(it *Item, v View) (*image.RGBA, error) {
	r := it.Result
	if r == nil {
		return nil, fmt.Errorf("%s: not scored", it.Name)
	}
	cm, err := render.ParseColormap(v.Colormap)
	if err != nil {
		return nil, err
	}
	w, h := DisplaySize(r.Width, r.Height, v.MaxSide)
	m, err := render.ResizeMap(r.AnomalyMap, r.Size, r.Size, w, h)
	if err != nil {
		return nil, err
	}
	lo, hi := render.MinMax(r.AnomalyMap)
	heat, err := render.Heatmap(m, w, h, lo, hi, cm)
	if err != nil {
		return nil, err
	}
	base, err := it.baseImage(w, h)
	if err != nil {
		return nil, err
	}
	out, err := render.Overlay(base, heat, v.Alpha)
	if err != nil {
		return nil, err
	}
	var pred, gt []uint8
	if v.ShowPred {
		if pred, err = ScaleMask(r.Mask, r.Size, r.Size, w, h); err != nil {
			return nil, err
		}
	}
	if v.ShowGT && it.GT != nil {
		if gt, err = ScaleMask(it.GT, r.Size, r.Size, w, h); err != nil {
			return nil, err
		}
	}
	thick := 1 + max(w, h)/400 // about 2 px on a 640 px canvas
	if err := render.DrawOutlines(out, pred, gt, PredColor, GTColor, thick); err != nil {
		return nil, err
	}
	return out, nil
}

// Thumbnail is an image URL for the gallery: the bundle's JPEG, or a small
// heatmap of the scored map when the bundle has none.
func Thumbnail(it *Item) string {
	if len(it.JPEG) > 0 {
		return "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(it.JPEG)
	}
	r := it.Result
	if r == nil {
		return ""
	}
	w, h := DisplaySize(r.Width, r.Height, 64)
	m, err := render.ResizeMap(r.AnomalyMap, r.Size, r.Size, w, h)
	if err != nil {
		return ""
	}
	lo, hi := render.MinMax(r.AnomalyMap)
	heat, err := render.Heatmap(m, w, h, lo, hi, render.Jet)
	if err != nil {
		return ""
	}
	png, err := render.PNGBytes(heat)
	if err != nil {
		return ""
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
}
