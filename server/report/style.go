package report

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// DPI of every PNG: 5 inches are 500 pixels.
const DPI = 100

// sansFont is the embedded Liberation Sans (plot's default is the serif
// variant, which reads worse at small sizes in dense legends).
var sansFont = font.Font{Typeface: "Liberation", Variant: "Sans"}

// textStyle is a plain-text style in the sans font.
func textStyle(size vg.Length, c color.Color) text.Style {
	return text.Style{
		Color:   c,
		Font:    font.From(sansFont, size),
		Handler: plot.DefaultTextHandler,
	}
}

// newPlot is plot.New with the report's fonts and legend style.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sansFont, 13)
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sansFont, 11)
		a.Tick.Label.Font = font.From(sansFont, 9)
	}
	p.Legend = newLegend()
	return p
}

// newLegend is a legend in the report's font with a little air between
// entries, which glyph thumbnails otherwise touch.
func newLegend() plot.Legend {
	l := plot.NewLegend()
	l.TextStyle.Font = font.From(sansFont, 9)
	l.Padding = vg.Points(1.5)
	return l
}

// unitTicks labels a probability axis every 0.2 with minor ticks every
// 0.1; the default ticker only labels 0, 0.5 and 1.
func unitTicks() plot.ConstantTicks {
	var t plot.ConstantTicks
	for i := range 11 {
		v := float64(i) / 10
		label := ""
		if i%2 == 0 {
			label = strconv.FormatFloat(v, 'f', 1, 64)
		}
		t = append(t, plot.Tick{Value: v, Label: label})
	}
	return t
}

// palette holds 20 colours distinguishable on white: Tableau 10, then the
// dark and light rows of Tableau 20b/20 for classes 11-20. Beyond 20
// classes the glyph shape changes (see classGlyph).
var palette = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff},
	{0xd6, 0x27, 0x28, 0xff}, {0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff},
	{0xe3, 0x77, 0xc2, 0xff}, {0x7f, 0x7f, 0x7f, 0xff}, {0xbc, 0xbd, 0x22, 0xff},
	{0x17, 0xbe, 0xcf, 0xff}, {0x39, 0x3b, 0x79, 0xff}, {0x63, 0x79, 0x39, 0xff},
	{0x8c, 0x6d, 0x31, 0xff}, {0x84, 0x3c, 0x39, 0xff}, {0x7b, 0x41, 0x73, 0xff},
	{0xae, 0xc7, 0xe8, 0xff}, {0xff, 0xbb, 0x78, 0xff}, {0x98, 0xdf, 0x8a, 0xff},
	{0xff, 0x98, 0x96, 0xff}, {0xc5, 0xb0, 0xd5, 0xff},
}

func paletteColor(i int) color.RGBA { return palette[i%len(palette)] }

// withAlpha returns c at opacity a (premultiplied, as color.RGBA wants).
func withAlpha(c color.RGBA, a float64) color.RGBA {
	return color.RGBA{
		R: uint8(float64(c.R)*a + 0.5), G: uint8(float64(c.G)*a + 0.5),
		B: uint8(float64(c.B)*a + 0.5), A: uint8(255*a + 0.5),
	}
}

// renderPNG draws onto a w × h inch canvas at DPI and writes it atomically.
// gonum/plot panics on some degenerate input; that becomes an error so a
// bad figure never takes down a finished evaluation.
func renderPNG(path string, w, h vg.Length, paint func(draw.Canvas)) (err error) {
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("draw %s: %v", path, r)
			}
		}()
		paint(draw.New(c))
	}()
	if err != nil {
		return err
	}
	return writeFileAtomic(path, func(w io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
		return err
	})
}

// legendGap separates a plot from a legend drawn to its right.
const legendGap vg.Length = 8 // points

// legendWidth is the width a legend needs when drawn beside the plot.
func legendWidth(l *plot.Legend) vg.Length {
	r := l.Rectangle(draw.Canvas{})
	return r.Max.X - r.Min.X
}

// drawBeside draws p into the left part of c and the legend, top-aligned,
// into a column of width lw on the right: legends with many entries would
// otherwise hide the data.
func drawBeside(c draw.Canvas, p *plot.Plot, l *plot.Legend, lw vg.Length) {
	plotArea := draw.Crop(c, 0, -(lw + 2*legendGap), 0, 0)
	p.Draw(plotArea)
	l.Top, l.Left = true, true
	legendArea := draw.Crop(c, c.Size().X-lw-legendGap, -legendGap, 0, 0)
	// Align the legend's top with the data area rather than the title.
	data := p.DataCanvas(plotArea)
	legendArea.Max.Y = data.Max.Y
	l.Draw(legendArea)
}

// starGlyph is a filled five-pointed star with a white halo and a dark
// outline, used for class text features: it has to stand out even on top
// of a cloud of points of its own colour.
type starGlyph struct{}

func (starGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	var p vg.Path
	for i := range 10 {
		r := sty.Radius
		if i%2 == 1 {
			r *= 0.45
		}
		a := math.Pi/2 + float64(i)*math.Pi/5
		q := vg.Point{X: pt.X + r*vg.Length(math.Cos(a)), Y: pt.Y + r*vg.Length(math.Sin(a))}
		if i == 0 {
			p.Move(q)
		} else {
			p.Line(q)
		}
	}
	p.Close()
	c.SetLineStyle(draw.LineStyle{Color: color.White, Width: vg.Points(3.5)})
	c.Stroke(p)
	c.SetColor(sty.Color)
	c.Fill(p)
	c.SetLineStyle(draw.LineStyle{Color: color.Black, Width: vg.Points(1)})
	c.Stroke(p)
}
