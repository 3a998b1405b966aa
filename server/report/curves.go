package report

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Curve is one ROC (X = FPR, Y = TPR, Area = AUROC) or PR (X = recall,
// Y = precision, Area = AP) curve; Area is shown in the legend, NaN as
// Missing.
type Curve struct {
	Name string
	X, Y []float64
	Area float64
}

// CurvesFromScores computes the ROC and PR curves of binary labels (true =
// anomalous) against scores (higher = more anomalous).
//
// The ROC starts at (0,0) and has one point per distinct score, in
// descending order (no intermediate points dropped); its Area is the
// trapezoid rule, which equals AUROC with ties counted ½. The PR curve is
// scikit-learn's precision_recall_curve: one point per distinct score in
// ascending threshold order (recall falling), then (recall 0, precision
// 1); its Area is average_precision_score. Pairs with a non-finite score
// are dropped; with no positives or no negatives the ROC is empty with NaN
// area, and with no positives the PR area is NaN too (its points follow
// scikit-learn: recall 1, precision 0).
func CurvesFromScores(labels []bool, scores []float64) (roc Curve, pr Curve) {
	roc.Name, pr.Name = "ROC", "PR"
	roc.Area, pr.Area = math.NaN(), math.NaN()
	type pair struct {
		s   float64
		pos bool
	}
	var ps []pair
	for i := range min(len(labels), len(scores)) {
		if finite(scores[i]) {
			ps = append(ps, pair{scores[i], labels[i]})
		}
	}
	if len(ps) == 0 {
		return roc, pr
	}
	// Descending scores; order inside a tie group is irrelevant because
	// only group totals are used.
	slices.SortStableFunc(ps, func(a, b pair) int {
		switch {
		case a.s > b.s:
			return -1
		case a.s < b.s:
			return 1
		}
		return 0
	})
	var tps, fps []float64 // cumulative counts at each distinct threshold
	var tp, fp float64
	for i, p := range ps {
		if p.pos {
			tp++
		} else {
			fp++
		}
		if i == len(ps)-1 || ps[i+1].s != p.s {
			tps = append(tps, tp)
			fps = append(fps, fp)
		}
	}
	P, N := tp, fp

	if P > 0 && N > 0 {
		roc.X, roc.Y = []float64{0}, []float64{0}
		var area float64
		for i := range tps {
			x, y := fps[i]/N, tps[i]/P
			area += (x - roc.X[i]) * (y + roc.Y[i]) / 2
			roc.X, roc.Y = append(roc.X, x), append(roc.Y, y)
		}
		roc.Area = area
	}

	m := len(tps)
	pr.X, pr.Y = make([]float64, m+1), make([]float64, m+1)
	for i := range m {
		j := m - 1 - i // ascending thresholds
		pr.Y[j] = tps[i] / (tps[i] + fps[i])
		if P == 0 {
			pr.X[j] = 1
		} else {
			pr.X[j] = tps[i] / P
		}
	}
	pr.X[m], pr.Y[m] = 0, 1
	if P > 0 {
		var ap float64
		for j := range m {
			ap += (pr.X[j] - pr.X[j+1]) * pr.Y[j]
		}
		pr.Area = ap
	}
	return roc, pr
}

// maxInsideLegend is the most entries drawn inside the axes; longer
// legends go beside the plot so they do not cover the curves.
const maxInsideLegend = 6

// ROCPlot writes the ROC curves as a 5 × 5 inch PNG (wider when the legend
// has more than six entries and is drawn beside it), with the chance
// diagonal and each curve's AUROC in the legend.
func ROCPlot(path, title string, curves []Curve) error {
	if err := curvePlot(path, title, "False positive rate", "True positive rate", "AUROC", curves, true); err != nil {
		return fmt.Errorf("roc plot: %w", err)
	}
	return nil
}

// PRPlot writes precision–recall curves like ROCPlot, with each curve's AP
// in the legend.
func PRPlot(path, title string, curves []Curve) error {
	if err := curvePlot(path, title, "Recall", "Precision", "AP", curves, false); err != nil {
		return fmt.Errorf("pr plot: %w", err)
	}
	return nil
}

func curvePlot(path, title, xLabel, yLabel, areaName string, curves []Curve, roc bool) error {
	p := newPlot(title, xLabel, yLabel)
	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{Y: 225}
	grid.Horizontal.Color = color.Gray{Y: 225}
	p.Add(grid)
	if roc {
		diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
		if err != nil {
			return err
		}
		diag.Color = color.Gray{Y: 150}
		diag.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(diag)
	}

	legend := newLegend()
	for i, c := range curves {
		if len(c.X) != len(c.Y) {
			return fmt.Errorf("curve %q: %d x values but %d y values", c.Name, len(c.X), len(c.Y))
		}
		xys := make(plotter.XYs, 0, len(c.X))
		for k := range c.X {
			if finite(c.X[k]) && finite(c.Y[k]) {
				xys = append(xys, plotter.XY{X: c.X[k], Y: c.Y[k]})
			}
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return fmt.Errorf("curve %q: %w", c.Name, err)
		}
		line.Color = paletteColor(i)
		line.Width = vg.Points(1.6)
		// Past the palette, dashes keep curves of equal colour apart.
		if i >= len(palette) {
			line.Dashes = []vg.Length{vg.Points(5), vg.Points(2)}
		}
		if len(xys) > 0 {
			p.Add(line)
		}
		area := FormatPercent(c.Area)
		if area == "" {
			area = Missing
		}
		legend.Add(fmt.Sprintf("%s (%s %s)", c.Name, areaName, area), line)
	}
	// Fixed unit square: the curves' own range would hide how close to the
	// corner they get.
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	p.X.Tick.Marker, p.Y.Tick.Marker = unitTicks(), unitTicks()

	side := 5 * vg.Inch
	if len(curves) <= maxInsideLegend {
		legend.Top = false
		legend.Left = !roc // ROC curves leave the lower right empty, PR the lower left
		legend.XOffs, legend.YOffs = vg.Points(-6), vg.Points(6)
		if legend.Left {
			legend.XOffs = vg.Points(6)
		}
		p.Legend = legend
		return renderPNG(path, side, side, func(c draw.Canvas) { p.Draw(c) })
	}
	lw := legendWidth(&legend)
	return renderPNG(path, side+lw+2*legendGap, side, func(c draw.Canvas) {
		drawBeside(c, p, &legend, lw)
	})
}
