package render

import (
	"fmt"
	"image/color"
	"math"
	"strings"
)

// Colormap names a 256-entry colour table.
type Colormap uint8

const (
	// Jet is OpenCV's COLORMAP_JET, the map anomaly-detection code
	// (AnomalyCLIP, WinCLIP, DAPO's visualisations) applies with
	// cv2.applyColorMap: dark blue, cyan, yellow, dark red.
	Jet Colormap = iota
	// Viridis is matplotlib's perceptually uniform default.
	Viridis
	// Inferno is matplotlib's perceptually uniform black-red-yellow map.
	Inferno
	// Gray maps index i to (i, i, i).
	Gray
)

var colormapNames = [...]string{Jet: "jet", Viridis: "viridis", Inferno: "inferno", Gray: "gray"}

func (c Colormap) String() string {
	if int(c) < len(colormapNames) {
		return colormapNames[c]
	}
	return fmt.Sprintf("Colormap(%d)", uint8(c))
}

// ParseColormap accepts a colormap name (case-insensitive), for flags and
// query parameters.
func ParseColormap(name string) (Colormap, error) {
	for i, n := range colormapNames {
		if strings.EqualFold(name, n) {
			return Colormap(i), nil
		}
	}
	return 0, fmt.Errorf("render: unknown colormap %q (want one of %s)", name, strings.Join(colormapNames[:], ", "))
}

// Color returns entry i of the table.
func (c Colormap) Color(i uint8) color.RGBA {
	var e [3]uint8
	switch c {
	case Jet:
		e = lutJet[i]
	case Viridis:
		e = lutViridis[i]
	case Inferno:
		e = lutInferno[i]
	default:
		e = [3]uint8{i, i, i}
	}
	return color.RGBA{e[0], e[1], e[2], 255}
}

func (c Colormap) valid() bool { return int(c) < len(colormapNames) }

// lutJet is built once and only read afterwards.
var lutJet = buildJet()

// buildJet reproduces OpenCV's Jet table (imgproc/src/colormap.cpp): the
// base map is GNU Octave's jet on 256 float32 breakpoints x = i/255,
// r = clamp(min(4x-1.5, -4x+4.5)), g = clamp(min(4x-0.5, -4x+3.5)),
// b = clamp(min(4x+0.5, -4x+2.5)); OpenCV interpolates it at the same
// breakpoints with float32 interp1 and converts with rounding half to even
// (cvRound) after scaling by 255. Many entries are exact .5 ties, so every
// float32 step is kept: a plain round(255·v) differs in several entries.
func buildJet() [256][3]uint8 {
	const n = 256
	var x [n]float32
	step := float32(1) / float32(n-1)
	for i := range x {
		x[i] = 0 + float32(i)*step
	}
	var lut [n][3]uint8
	for k := 0; k < 3; k++ {
		y := jetBase(k)
		for i := 0; i < n; i++ {
			yi := y[0]
			if i > 0 { // interp1 between breakpoints i-1 and i, float32 throughout
				num := float32((x[i] - x[i-1]) * (y[i] - y[i-1]))
				yi = y[i-1] + num/(x[i]-x[i-1])
			}
			lut[i][k] = uint8(math.RoundToEven(float64(float32(yi * 255))))
		}
	}
	return lut
}

// jetBase is channel k (0 red, 1 green, 2 blue) of OpenCV's literal jet
// table: the closed form in double at i/255, stored as float32.
func jetBase(k int) [256]float32 {
	off := [3][2]float64{{-1.5, 4.5}, {-0.5, 3.5}, {0.5, 2.5}}[k]
	var y [256]float32
	for i := range y {
		x := float64(i) / 255
		v := math.Min(4*x+off[0], -4*x+off[1])
		y[i] = float32(math.Max(0, math.Min(1, v)))
	}
	return y
}
