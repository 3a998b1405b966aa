package report

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// MaxEmbeddingPoints caps the patch features drawn (and fitted) by
// EmbeddingPlot: more only darkens the cloud and slows the PCA.
const MaxEmbeddingPoints = 5000

// embeddingSeed fixes the subsample, so reruns draw the same points.
const embeddingSeed = 0xd4f0_e3b1

// EmbeddingPlot draws the paper's Figure 1 view: defect-region patch
// features (points, labels[i] indexing classNames) projected on their top
// two principal components and coloured by defect type, with each class's
// text feature (classFeatures[c], optional: nil for none) projected the
// same way and marked by a large star labelled with the class name.
//
// Points with a NaN or Inf coordinate are skipped. Above
// MaxEmbeddingPoints, points are subsampled deterministically per class,
// keeping every point of rare classes and capping the common ones, so no
// defect type disappears from the figure. The PCA is centred on the drawn
// points (on the text features when there are none); one or two points, or
// identical ones, give a degenerate but valid figure.
func EmbeddingPlot(path, title string, points [][]float32, labels []int, classNames []string, classFeatures [][]float32) error {
	if err := embeddingPlot(path, title, points, labels, classNames, classFeatures); err != nil {
		return fmt.Errorf("embedding plot: %w", err)
	}
	return nil
}

func embeddingPlot(path, title string, points [][]float32, labels []int, classNames []string, classFeatures [][]float32) error {
	nc := len(classNames)
	if len(points) != len(labels) {
		return fmt.Errorf("%d points but %d labels", len(points), len(labels))
	}
	if len(classFeatures) != 0 && len(classFeatures) != nc {
		return fmt.Errorf("%d class features for %d classes", len(classFeatures), nc)
	}
	dim := -1
	checkDim := func(what string, i, n int) error {
		if dim < 0 {
			dim = n
		}
		if n != dim || n == 0 {
			return fmt.Errorf("%s %d has %d coordinates, want %d", what, i, n, dim)
		}
		return nil
	}

	// Usable points, grouped by class.
	byClass := make([][]int, nc)
	valid := 0
	for i, p := range points {
		if labels[i] < 0 || labels[i] >= nc {
			return fmt.Errorf("point %d has label %d, want 0..%d", i, labels[i], nc-1)
		}
		if !finite32(p) {
			continue
		}
		if err := checkDim("point", i, len(p)); err != nil {
			return err
		}
		byClass[labels[i]] = append(byClass[labels[i]], i)
		valid++
	}
	for c, f := range classFeatures {
		if f == nil || !finite32(f) {
			continue
		}
		if err := checkDim("class feature", c, len(f)); err != nil {
			return err
		}
	}
	counts := make([]int, nc)
	for c, idx := range byClass {
		counts[c] = len(idx)
	}
	keep := capPerClass(byClass, MaxEmbeddingPoints)
	shown := 0
	for _, idx := range keep {
		shown += len(idx)
	}

	// Fit on the drawn points; fall back to the text features so a product
	// without defect patches still shows where its classes lie.
	var fit [][]float64
	for _, idx := range keep {
		for _, i := range idx {
			fit = append(fit, to64(points[i]))
		}
	}
	if len(fit) == 0 {
		for _, f := range classFeatures {
			if f != nil && finite32(f) {
				fit = append(fit, to64(f))
			}
		}
	}
	project := func([]float64) [2]float64 { return [2]float64{} }
	var explained [2]float64
	if len(fit) > 0 {
		var err error
		if project, explained, err = PCA2(fit); err != nil {
			return err
		}
	}

	if shown < valid {
		title = fmt.Sprintf("%s (%d of %d patches)", title, shown, valid)
	}
	p := newPlot(title,
		fmt.Sprintf("PC1 (%s%% of variance)", FormatPercent(explained[0])),
		fmt.Sprintf("PC2 (%s%% of variance)", FormatPercent(explained[1])))
	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{Y: 230}
	grid.Horizontal.Color = color.Gray{Y: 230}
	p.Add(grid)

	// Dense clouds need translucency to show where classes overlap.
	alpha, radius := 0.85, vg.Points(2.2)
	if shown > 1000 {
		alpha, radius = 0.5, vg.Points(1.6)
	}
	legend := newLegend()
	for c, idx := range keep {
		if len(idx) == 0 {
			continue
		}
		xys := make(plotter.XYs, len(idx))
		for k, i := range idx {
			xy := project(to64(points[i]))
			xys[k] = plotter.XY{X: xy[0], Y: xy[1]}
		}
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return fmt.Errorf("class %q: %w", classNames[c], err)
		}
		s.GlyphStyle = draw.GlyphStyle{Shape: classGlyph(c), Color: withAlpha(paletteColor(c), alpha), Radius: radius}
		p.Add(s)
	}

	var stars plotter.XYs
	var starClass []int
	for c, f := range classFeatures {
		if f == nil || !finite32(f) {
			continue
		}
		xy := project(to64(f))
		stars = append(stars, plotter.XY{X: xy[0], Y: xy[1]})
		starClass = append(starClass, c)
	}
	if len(stars) > 0 {
		names := make([]string, len(stars))
		colors := make([]color.Color, len(stars))
		for i, c := range starClass {
			names[i], colors[i] = classNames[c], paletteColor(c)
		}
		p.Add(&featureMarks{xys: stars, names: names, colors: colors})
	}

	hasFeature := make([]bool, nc)
	for _, c := range starClass {
		hasFeature[c] = true
	}
	for c, name := range classNames {
		if counts[c] == 0 && !hasFeature[c] {
			continue
		}
		// Opaque, larger glyphs than the cloud so the key is legible.
		thumb := &plotter.Scatter{GlyphStyle: draw.GlyphStyle{Shape: classGlyph(c), Color: paletteColor(c), Radius: vg.Points(3.5)}}
		legend.Add(fmt.Sprintf("%s (%d)", name, counts[c]), thumb)
	}
	if len(stars) > 0 {
		legend.Add("text feature", &plotter.Scatter{GlyphStyle: draw.GlyphStyle{Shape: starGlyph{}, Color: color.Gray{Y: 160}, Radius: vg.Points(6)}})
	}

	side := 6 * vg.Inch
	lw := legendWidth(&legend)
	return renderPNG(path, side+lw+2*legendGap, side, func(c draw.Canvas) {
		drawBeside(c, p, &legend, lw)
	})
}

// starRadius is the size of a class text feature's star.
const starRadius = vg.Length(9)

// featureMarks draws the class text features: a star per class and its
// name on a translucent white box, readable over the point cloud.
type featureMarks struct {
	xys    plotter.XYs
	names  []string
	colors []color.Color
}

func (f *featureMarks) style() text.Style {
	s := textStyle(9, color.Black)
	s.YAlign = draw.YCenter
	return s
}

// labelOffset puts the name just right of the star.
var labelOffset = vg.Point{X: starRadius + 3}

func (f *featureMarks) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	sty := f.style()
	for i, xy := range f.xys {
		pt := vg.Point{X: trX(xy.X), Y: trY(xy.Y)}
		c.DrawGlyphNoClip(draw.GlyphStyle{Shape: starGlyph{}, Color: f.colors[i], Radius: starRadius}, pt)
	}
	// Labels after all stars so no star covers a name.
	for i, xy := range f.xys {
		pt := vg.Point{X: trX(xy.X), Y: trY(xy.Y)}.Add(labelOffset)
		box := sty.Rectangle(f.names[i]).Add(pt)
		box.Min.X -= 2
		box.Max.X += 2
		c.SetColor(color.NRGBA{R: 255, G: 255, B: 255, A: 190})
		c.Fill(box.Path())
		c.FillText(sty, pt, f.names[i])
	}
}

func (f *featureMarks) DataRange() (xmin, xmax, ymin, ymax float64) {
	return plotter.XYRange(f.xys)
}

// GlyphBoxes makes the plot pad its data area so stars and names at the
// edge are not clipped.
func (f *featureMarks) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	sty := f.style()
	star := vg.Rectangle{Min: vg.Point{X: -starRadius - 2, Y: -starRadius - 2}, Max: vg.Point{X: starRadius + 2, Y: starRadius + 2}}
	var boxes []plot.GlyphBox
	for i, xy := range f.xys {
		x, y := p.X.Norm(xy.X), p.Y.Norm(xy.Y)
		label := sty.Rectangle(f.names[i]).Add(labelOffset)
		label.Max.X += 2
		boxes = append(boxes, plot.GlyphBox{X: x, Y: y, Rectangle: star}, plot.GlyphBox{X: x, Y: y, Rectangle: label})
	}
	return boxes
}

// classGlyph varies the shape once the palette's colours repeat.
func classGlyph(c int) draw.GlyphDrawer {
	switch (c / len(palette)) % 3 {
	case 1:
		return draw.BoxGlyph{}
	case 2:
		return draw.PyramidGlyph{}
	}
	return draw.CircleGlyph{}
}

// capPerClass keeps at most limit indices in total: every class gets the
// same cap t (the largest with Σ min(len, t) ≤ limit), so rare classes keep
// all their points; the leftover below the next cap goes to the first
// classes. Each class's kept indices are a SampleIndices draw, in order.
func capPerClass(byClass [][]int, limit int) [][]int {
	total := 0
	for _, idx := range byClass {
		total += len(idx)
	}
	if total <= limit {
		return byClass
	}
	sizes := make([]int, 0, len(byClass))
	for _, idx := range byClass {
		sizes = append(sizes, len(idx))
	}
	slices.Sort(sizes)
	// Water-filling: raise the cap until the budget runs out.
	budget, capAt := limit, 0
	for i, s := range sizes {
		rest := len(sizes) - i
		if (s-capAt)*rest > budget {
			capAt += budget / rest
			budget -= (budget / rest) * rest
			break
		}
		budget -= (s - capAt) * rest
		capAt = s
	}
	out := make([][]int, len(byClass))
	for c, idx := range byClass {
		k := min(len(idx), capAt)
		if len(idx) > capAt && budget > 0 {
			k++
			budget--
		}
		pick := SampleIndices(len(idx), k, embeddingSeed+uint64(c))
		out[c] = make([]int, k)
		for j, i := range pick {
			out[c][j] = idx[i]
		}
	}
	return out
}

func finite32(v []float32) bool {
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}

func to64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
