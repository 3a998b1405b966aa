package report

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Confusion counts (true, predicted) pairs into an n × n matrix indexed
// [true][predicted]. Pairs with an index outside [0, n) are skipped (e.g.
// -1 for "ignored"), and only the common length of the two slices is used.
func Confusion(trueIdx, predIdx []int, n int) [][]int {
	if n < 0 {
		n = 0
	}
	m := make([][]int, n)
	for i := range m {
		m[i] = make([]int, n)
	}
	for k := range min(len(trueIdx), len(predIdx)) {
		t, p := trueIdx[k], predIdx[k]
		if t >= 0 && t < n && p >= 0 && p < n {
			m[t][p]++
		}
	}
	return m
}

// checkConfusion validates a square, non-negative count matrix.
func checkConfusion(labels []string, counts [][]int) error {
	n := len(labels)
	if n == 0 {
		return fmt.Errorf("no classes")
	}
	if len(counts) != n {
		return fmt.Errorf("%d rows of counts for %d labels", len(counts), n)
	}
	for i, r := range counts {
		if len(r) != n {
			return fmt.Errorf("row %d (%s) has %d counts for %d labels", i, labels[i], len(r), n)
		}
		for j, v := range r {
			if v < 0 {
				return fmt.Errorf("negative count %d at (%s, %s)", v, labels[i], labels[j])
			}
		}
	}
	return nil
}

// ConfusionMarkdown writes the matrix as a Markdown table, rows = true
// class, columns = predicted class, with each row's total and recall (the
// diagonal's share of the row).
func ConfusionMarkdown(w io.Writer, labels []string, counts [][]int) error {
	if err := checkConfusion(labels, counts); err != nil {
		return fmt.Errorf("confusion markdown: %w", err)
	}
	t := Table{Columns: append(append([]string{`true \ predicted`}, labels...), "total", "recall")}
	for i, r := range counts {
		row := []Cell{Text(labels[i])}
		total := 0
		for _, v := range r {
			row = append(row, Text(strconv.Itoa(v)))
			total += v
		}
		recall := math.NaN()
		if total > 0 {
			recall = float64(r[i]) / float64(total)
		}
		t.Rows = append(t.Rows, append(row, Text(strconv.Itoa(total)), Num(recall)))
	}
	if err := WriteMarkdown(w, t); err != nil {
		return fmt.Errorf("confusion markdown: %w", err)
	}
	return nil
}

// maxTickLabel caps tick label length so long class names cannot squeeze
// the grid.
const maxTickLabel = 22

// ConfusionPNG draws the matrix as a grid coloured by each row's share (so
// rare and frequent classes read alike), with the count and the row
// percentage in every cell. The figure grows with the number of classes
// and the tick labels shrink and turn, so ~25 classes stay readable.
func ConfusionPNG(path, title string, labels []string, counts [][]int) error {
	if err := checkConfusion(labels, counts); err != nil {
		return fmt.Errorf("confusion png %s: %w", path, err)
	}
	n := len(labels)
	p := newPlot(title, "Predicted class", "True class")

	tickSize := vg.Length(10)
	switch {
	case n > 20:
		tickSize = 7
	case n > 12:
		tickSize = 8
	case n > 8:
		tickSize = 9
	}
	short := make([]string, n)
	xt := make(plot.ConstantTicks, n)
	yt := make(plot.ConstantTicks, n)
	for i, l := range labels {
		short[i] = ellipsize(l, maxTickLabel)
		xt[i] = plot.Tick{Value: float64(i), Label: short[i]}
		yt[i] = plot.Tick{Value: float64(n - 1 - i), Label: short[i]} // first class on top
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = xt, yt
	p.X.Tick.Label.Font = font.From(sansFont, tickSize)
	p.Y.Tick.Label.Font = font.From(sansFont, tickSize)
	if n > 4 {
		// Turned labels never collide, whatever their length.
		p.X.Tick.Label.Rotation = math.Pi / 2
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	}
	p.X.Padding, p.Y.Padding = 0, 0
	p.X.Min, p.X.Max = -0.5, float64(n)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(n)-0.5

	// Cells of 0.45-1 inch; the margins hold the tick labels and titles.
	cell := vg.Length(math.Max(0.45, math.Min(1, 5.0/float64(n)))) * vg.Inch
	grid := max(vg.Length(n)*cell, 3*vg.Inch)
	longest := vg.Length(0)
	tick := textStyle(tickSize, color.Black)
	for _, s := range short {
		longest = max(longest, tick.Width(s))
	}
	left := longest + 0.6*vg.Inch
	bottom := 0.6 * vg.Inch
	if n > 4 {
		bottom += longest
	} else {
		bottom += tick.Height("Xg")
	}
	w := left + grid + 0.3*vg.Inch
	h := bottom + grid + 0.5*vg.Inch
	p.Add(&confusionGrid{counts: counts, cell: cell})
	err := renderPNG(path, w, h, func(c draw.Canvas) { p.Draw(c) })
	if err != nil {
		return fmt.Errorf("confusion png: %w", err)
	}
	return nil
}

// ellipsize shortens s to at most n runes, marking the cut.
func ellipsize(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// confusionGrid is the plotter for the cells; cell is the intended cell
// side, used to size the text.
type confusionGrid struct {
	counts [][]int
	cell   vg.Length
}

func (g *confusionGrid) Plot(c draw.Canvas, p *plot.Plot) {
	n := len(g.counts)
	trX, trY := p.Transforms(&c)
	// Text size from the actual cell, so both lines fit whatever the
	// canvas turned out to be.
	cw := trX(0.5) - trX(-0.5)
	ch := trY(0.5) - trY(-0.5)
	size := vg.Length(math.Min(11, float64(min(cw, ch))/3.2))
	style := textStyle(size, color.Black)
	style.XAlign, style.YAlign = draw.XCenter, draw.YCenter
	small := textStyle(size*0.8, color.Black)
	small.XAlign, small.YAlign = draw.XCenter, draw.YCenter
	border := draw.LineStyle{Color: color.White, Width: vg.Points(1)}
	for i, row := range g.counts {
		total := 0
		for _, v := range row {
			total += v
		}
		for j, v := range row {
			frac := math.NaN()
			if total > 0 {
				frac = float64(v) / float64(total)
			}
			x0, x1 := trX(float64(j)-0.5), trX(float64(j)+0.5)
			y := float64(n - 1 - i)
			y0, y1 := trY(y-0.5), trY(y+0.5)
			rect := vg.Rectangle{Min: vg.Point{X: x0, Y: y0}, Max: vg.Point{X: x1, Y: y1}}
			c.SetColor(heat(frac))
			c.Fill(rect.Path())
			c.SetLineStyle(border)
			c.Stroke(rect.Path())

			ink := color.Color(color.Black)
			if frac > 0.6 { // dark end of the ramp
				ink = color.White
			}
			style.Color, small.Color = ink, ink
			centre := rect.Min.Add(rect.Max).Scale(0.5)
			count := strconv.Itoa(v)
			if v == 0 {
				// Empty cells are the bulk of a large matrix: keep them quiet.
				style.Color = color.Gray{Y: 150}
				c.FillText(style, centre, count)
				continue
			}
			gap := size * 0.6
			c.FillText(style, vg.Point{X: centre.X, Y: centre.Y + gap}, count)
			c.FillText(small, vg.Point{X: centre.X, Y: centre.Y - gap}, percentLabel(frac))
		}
	}
}

// DataRange fixes the axes to the cell grid.
func (g *confusionGrid) DataRange() (xmin, xmax, ymin, ymax float64) {
	n := float64(len(g.counts))
	return -0.5, n - 0.5, -0.5, n - 0.5
}

func percentLabel(frac float64) string {
	if frac == 0 || frac == 1 {
		return strconv.Itoa(int(frac*100)) + "%"
	}
	return strings.TrimSuffix(FormatPercent(frac), ".0") + "%"
}

// heatStops is a white → yellow → orange → dark red ramp (ColorBrewer
// YlOrRd with a white start, so empty cells stay blank).
var heatStops = []color.RGBA{
	{0xff, 0xff, 0xff, 0xff},
	{0xff, 0xed, 0xa0, 0xff},
	{0xfe, 0xb2, 0x4c, 0xff},
	{0xf0, 0x3b, 0x20, 0xff},
	{0x80, 0x00, 0x26, 0xff},
}

// heat maps a row share in [0,1] to the ramp; NaN (an empty row) is light
// grey.
func heat(frac float64) color.Color {
	if math.IsNaN(frac) {
		return color.Gray{Y: 240}
	}
	frac = math.Max(0, math.Min(1, frac))
	pos := frac * float64(len(heatStops)-1)
	k := min(int(pos), len(heatStops)-2)
	t := pos - float64(k)
	a, b := heatStops[k], heatStops[k+1]
	mix := func(x, y uint8) uint8 { return uint8(float64(x)*(1-t) + float64(y)*t + 0.5) }
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 0xff}
}
