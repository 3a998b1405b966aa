// Package scoreapi is the browser scoring module's logic without syscall/js:
// it decodes a feature bundle, scores it with options given by name and
// renders the heatmap and mask. wasm/scorer exposes it to JavaScript.
package scoreapi

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"math"
	"runtime"
	"sort"

	"dapo/shared/bundle"
	"dapo/shared/render"
	"dapo/shared/scoring"
)

// Version identifies the module, the bundle format it reads and the Go
// toolchain that built it.
func Version() string {
	return "dapo-wasm 0.1 (bundle " + bundle.Version + ", " + runtime.Version() + ")"
}

// maxThumbPixels bounds the JPEG thumbnail decoded for the overlay.
const maxThumbPixels = 4096 * 4096

// Options are the caller's settings; the zero value gives the defaults.
type Options struct {
	// PixelThreshold for the mask; nil means half the number of feature
	// layers (maps lie in [0, layers]). Must be > 0.
	PixelThreshold *float64
	// ImageThreshold: score ≥ it is "anomalous"; nil means 0.5.
	ImageThreshold *float64
	// Subset restricts the defect types to these class names ("normal" is
	// implied and may be omitted).
	Subset []string
	// Colormap of the heatmap ("jet" if empty).
	Colormap string
	// Alpha blends the heatmap over the bundle's JPEG thumbnail when there
	// is one (OverlayPNG); nil means 0.5, 0 skips the overlay.
	Alpha *float64
	// NoImages skips the PNGs (HeatmapPNG, MaskPNG, OverlayPNG stay nil):
	// callers that only need the numbers and maps save the encoding, which
	// at a bundle's original size costs more than the scoring.
	NoImages bool
}

// DefectType is one defect class and its image-level probability.
type DefectType struct {
	Name        string  `json:"name"`
	Probability float64 `json:"probability"`
}

// Result is what the module returns for one bundle.
type Result struct {
	Score           float64      `json:"score"`
	Verdict         string       `json:"verdict"` // "anomalous" or "normal"
	Classes         []string     `json:"classes"`
	DefectTypes     []DefectType `json:"defectTypes"` // sorted by probability, descending
	TopDefect       string       `json:"topDefect"`
	TopDefectInMask string       `json:"topDefectInMask"` // "" when the mask is empty
	Size            int          `json:"size"`            // S, side of the maps below
	Width           int          `json:"width"`           // original image size
	Height          int          `json:"height"`
	PixelThreshold  float64      `json:"pixelThreshold"`
	AnomalyMap      []float32    `json:"-"` // [S*S]
	Mask            []uint8      `json:"-"` // [S*S] 0/1
	PixelClass      []uint8      `json:"-"` // [S*S] index into Classes
	HeatmapPNG      []byte       `json:"-"` // Width×Height, per-image min–max scaled
	MaskPNG         []byte       `json:"-"` // S×S, 255 inside
	OverlayPNG      []byte       `json:"-"` // heatmap over the JPEG, at the JPEG's size; nil without one
}

// Score decodes data as a bundle and scores it. Panics inside the shared
// packages are turned into errors so that a bad bundle cannot bring down the
// caller (the Go runtime in the browser).
func Score(data []byte, opts Options) (res *Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("dapo: internal error: %v", r)
		}
	}()
	if len(data) == 0 {
		return nil, fmt.Errorf("dapo: empty bundle")
	}
	b, err := bundle.Decode(data)
	if err != nil {
		return nil, err
	}
	return scoreBundle(b, opts)
}

func scoreBundle(b *bundle.Bundle, opts Options) (*Result, error) {
	m := b.Meta
	pt := float64(len(b.Layers)) / 2
	if opts.PixelThreshold != nil {
		pt = *opts.PixelThreshold
		if !(pt > 0) || math.IsInf(pt, 0) {
			return nil, fmt.Errorf("dapo: pixelThreshold %g must be finite and > 0", pt)
		}
	}
	it := 0.5
	if opts.ImageThreshold != nil {
		it = *opts.ImageThreshold
		if math.IsNaN(it) {
			return nil, fmt.Errorf("dapo: imageThreshold is NaN")
		}
	}
	alpha := 0.5
	if opts.Alpha != nil {
		alpha = *opts.Alpha
		if !(alpha >= 0 && alpha <= 1) {
			return nil, fmt.Errorf("dapo: alpha %g outside [0, 1]", alpha)
		}
	}
	cmName := opts.Colormap
	if cmName == "" {
		cmName = "jet"
	}
	cm, err := render.ParseColormap(cmName)
	if err != nil {
		return nil, fmt.Errorf("dapo: %w", err)
	}
	subset, err := subsetRows(m.Classes, opts.Subset)
	if err != nil {
		return nil, err
	}

	in := b.ScoringInput()
	sc, err := scoring.NewScorer(in.Text, in.Grid, in.Size, in.Temperature,
		scoring.Options{Subset: subset, PixelThreshold: float32(pt)})
	if err != nil {
		return nil, err
	}
	r, err := sc.Score(in.Global, in.Layers)
	if err != nil {
		return nil, err
	}

	out := &Result{
		Score:          float64(r.ImageScore),
		Verdict:        "normal",
		Classes:        m.Classes,
		Size:           r.Size,
		Width:          m.Image.Width,
		Height:         m.Image.Height,
		PixelThreshold: pt,
		AnomalyMap:     r.AnomalyMap,
		Mask:           make([]uint8, len(r.Mask)),
		PixelClass:     r.PixelClass,
		TopDefect:      m.Classes[r.DefectImage],
	}
	if out.Score >= it {
		out.Verdict = "anomalous"
	}
	if r.DefectInMask >= 0 {
		out.TopDefectInMask = m.Classes[r.DefectInMask]
	}
	for p, v := range r.Mask {
		if v {
			out.Mask[p] = 1
		}
	}
	rows, probs := defectRows(r)
	var sum float64
	for _, p := range probs {
		sum += float64(p)
	}
	for i, k := range rows {
		p := 0.0
		if sum > 0 {
			p = float64(probs[i]) / sum
		}
		out.DefectTypes = append(out.DefectTypes, DefectType{Name: m.Classes[k], Probability: p})
	}
	sort.SliceStable(out.DefectTypes, func(i, j int) bool {
		return out.DefectTypes[i].Probability > out.DefectTypes[j].Probability
	})
	if r.Subset != nil {
		// Subset pixel classes index the subset; map them to class rows.
		pc := make([]uint8, len(r.Subset.PixelClass))
		for p, k := range r.Subset.PixelClass {
			pc[p] = uint8(r.Subset.Classes[k])
		}
		out.PixelClass = pc
	}
	if opts.NoImages {
		return out, nil
	}
	if err := out.render(b.JPEG, cm, alpha); err != nil {
		return nil, err
	}
	return out, nil
}

// subsetRows turns class names into text rows starting with 0 (normal).
func subsetRows(classes, names []string) ([]int, error) {
	if len(names) == 0 {
		return nil, nil
	}
	index := make(map[string]int, len(classes))
	for k, c := range classes {
		index[c] = k
	}
	rows := []int{0}
	seen := map[int]bool{0: true}
	for _, n := range names {
		k, ok := index[n]
		if !ok {
			return nil, fmt.Errorf("dapo: subset: unknown class %q (classes: %v)", n, classes)
		}
		if seen[k] {
			if k == 0 {
				continue
			}
			return nil, fmt.Errorf("dapo: subset: class %q repeated", n)
		}
		seen[k] = true
		rows = append(rows, k)
	}
	if len(rows) < 2 {
		return nil, fmt.Errorf("dapo: subset names no defect class")
	}
	return rows, nil
}

// defectRows returns the defect class rows and their image-level
// probabilities (over the subset if one was given).
func defectRows(r *scoring.Result) ([]int, []float32) {
	if r.Subset != nil {
		return r.Subset.Classes[1:], r.Subset.ImageProbs[1:]
	}
	rows := make([]int, 0, r.Classes-1)
	for k := 1; k < r.Classes; k++ {
		rows = append(rows, k)
	}
	return rows, r.ClassImageProbs[1:]
}

// render fills the PNGs: the heatmap at the original size, the mask at S×S
// and, with a JPEG thumbnail and alpha > 0, the overlay.
func (o *Result) render(jpg []byte, cm render.Colormap, alpha float64) error {
	s := o.Size
	m, err := render.ResizeMap(o.AnomalyMap, s, s, o.Width, o.Height)
	if err != nil {
		return fmt.Errorf("dapo: %w", err)
	}
	lo, hi := render.MinMax(o.AnomalyMap)
	heat, err := render.Heatmap(m, o.Width, o.Height, lo, hi, cm)
	if err != nil {
		return fmt.Errorf("dapo: %w", err)
	}
	if o.HeatmapPNG, err = render.PNGBytes(heat); err != nil {
		return fmt.Errorf("dapo: %w", err)
	}
	if o.MaskPNG, err = render.MaskPNG(o.Mask, s, s); err != nil {
		return fmt.Errorf("dapo: %w", err)
	}
	if len(jpg) == 0 || alpha == 0 {
		return nil
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(jpg))
	if err != nil {
		return fmt.Errorf("dapo: bundle JPEG thumbnail: %w", err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width*cfg.Height > maxThumbPixels {
		return fmt.Errorf("dapo: bundle JPEG thumbnail is %d×%d", cfg.Width, cfg.Height)
	}
	base, err := jpeg.Decode(bytes.NewReader(jpg))
	if err != nil {
		return fmt.Errorf("dapo: bundle JPEG thumbnail: %w", err)
	}
	w, h := base.Bounds().Dx(), base.Bounds().Dy()
	if w != o.Width || h != o.Height {
		if m, err = render.ResizeMap(o.AnomalyMap, s, s, w, h); err != nil {
			return fmt.Errorf("dapo: %w", err)
		}
		if heat, err = render.Heatmap(m, w, h, lo, hi, cm); err != nil {
			return fmt.Errorf("dapo: %w", err)
		}
	}
	ov, err := render.Overlay(base, heat, alpha)
	if err != nil {
		return fmt.Errorf("dapo: %w", err)
	}
	if o.OverlayPNG, err = render.PNGBytes(ov); err != nil {
		return fmt.Errorf("dapo: %w", err)
	}
	return nil
}
