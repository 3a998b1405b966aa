package report

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one named line of a training curve.
type Series struct {
	Name string
	X, Y []float64
}

// LossPlot draws training curves (loss against optimizer step) as a PNG.
func LossPlot(path, title string, series []Series) error {
	p := newPlot(title, "step", "loss")
	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{Y: 225}
	grid.Horizontal.Color = color.Gray{Y: 225}
	p.Add(grid)
	legend := newLegend()
	for i, s := range series {
		if len(s.X) != len(s.Y) {
			return fmt.Errorf("series %q: %d x values but %d y values", s.Name, len(s.X), len(s.Y))
		}
		xys := make(plotter.XYs, 0, len(s.X))
		for k := range s.X {
			if finite(s.X[k]) && finite(s.Y[k]) {
				xys = append(xys, plotter.XY{X: s.X[k], Y: s.Y[k]})
			}
		}
		if len(xys) == 0 {
			continue
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return fmt.Errorf("series %q: %w", s.Name, err)
		}
		line.Color = paletteColor(i)
		line.Width = vg.Points(1.4)
		p.Add(line)
		legend.Add(s.Name, line)
	}
	legend.Top = true
	legend.XOffs, legend.YOffs = vg.Points(-6), vg.Points(-6)
	p.Legend = legend
	return renderPNG(path, 7*vg.Inch, 4*vg.Inch, func(c draw.Canvas) { p.Draw(c) })
}
