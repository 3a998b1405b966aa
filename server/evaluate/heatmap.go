package evaluate

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"

	"dapo/shared/imaging"
	"dapo/shared/render"
	"dapo/shared/scoring"
)

// heatmap writes one overlay at the image's original size: the map
// (colour range [0, layers], as detect draws it) blended over the image,
// the ground-truth outline in green and the predicted one in white.
func (r *runner) heatmap(rel string, l loaded, res *scoring.Result) error {
	path := filepath.Join(r.opts.Out, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("heatmap: %w", err)
	}
	w, h := l.img.Original.W, l.img.Original.H
	s := r.det.Size()
	m, err := render.ResizeMap(res.AnomalyMap, s, s, w, h)
	if err != nil {
		return fmt.Errorf("heatmap %s: %w", rel, err)
	}
	heat, err := render.Heatmap(m, w, h, 0, float32(len(r.det.Config.FeatureLayers)), r.opts.Colormap)
	if err != nil {
		return fmt.Errorf("heatmap %s: %w", rel, err)
	}
	base, err := render.RGBImage(l.img.Original.Pix, w, h)
	if err != nil {
		return fmt.Errorf("heatmap %s: %w", rel, err)
	}
	over, err := render.Overlay(base, heat, r.opts.Alpha)
	if err != nil {
		return fmt.Errorf("heatmap %s: %w", rel, err)
	}
	pred := make([]bool, w*h)
	for i, v := range m {
		pred[i] = float64(v) > r.opts.PixelThreshold
	}
	gt, err := gtMaskAt(l.item.MaskPath, w, h, r.det.Limits)
	if err != nil {
		return err
	}
	white, green := color.RGBA{255, 255, 255, 255}, color.RGBA{0, 255, 0, 255}
	if err := render.DrawOutlines(over, pred, gt, white, green, 2); err != nil {
		return fmt.Errorf("heatmap %s: %w", rel, err)
	}
	b, err := render.PNGBytes(over)
	if err != nil {
		return fmt.Errorf("heatmap %s: %w", rel, err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("heatmap: %w", err)
	}
	return nil
}

// gtMaskAt reads a mask file as a w×h foreground mask (any value above 0,
// the datasets' binarisation), nearest-neighbour scaled if its size
// differs from the image's; nil for "".
func gtMaskAt(path string, w, h int, lim imaging.Limits) ([]bool, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read mask: %w", err)
	}
	g, err := imaging.DecodeMaskLBytes(data, lim)
	if err != nil {
		return nil, fmt.Errorf("mask %s: %w", path, err)
	}
	out := make([]bool, w*h)
	for y := range h {
		sy := y * g.H / h
		for x := range w {
			out[y*w+x] = g.Pix[sy*g.W+x*g.W/w] > 0
		}
	}
	return out, nil
}
