package render

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"testing"
)

func rgbAt(img *image.RGBA, x, y int) [3]uint8 {
	c := img.RGBAAt(x, y)
	return [3]uint8{c.R, c.G, c.B}
}

// TestJetKnownPixels: OpenCV's COLORMAP_JET starts at BGR (128,0,0) and
// ends at (0,0,128), RGB (0,0,128) and (128,0,0). Entries 127 and 128 hold
// ties (125.5 and 129.5 before rounding) that OpenCV's float32 pipeline
// rounds half to even: RGB (126,255,130) and (130,255,126). (Derived from
// colormap.cpp, not read from an OpenCV run.)
func TestJetKnownPixels(t *testing.T) {
	img, err := Heatmap([]float32{0, 0.5, 1, 128.0 / 255}, 4, 1, 0, 1, Jet)
	if err != nil {
		t.Fatal(err)
	}
	// 0.5 → trunc(127.5) = 127; 128/255 → 128.
	want := [][3]uint8{{0, 0, 128}, {126, 255, 130}, {128, 0, 0}, {130, 255, 126}}
	for x, w := range want {
		if got := rgbAt(img, x, 0); got != w {
			t.Errorf("jet pixel %d = %v, want %v", x, got, w)
		}
	}
}

// TestJetBaseMatchesOpenCVLiterals spot-checks the computed base table
// against literals of OpenCV's colormap.cpp (stored as float there).
func TestJetBaseMatchesOpenCVLiterals(t *testing.T) {
	cases := []struct {
		ch, i int
		lit   float32
	}{
		{0, 96, 0.00588235294117645}, {0, 97, 0.02156862745098032}, {0, 255, 0.5},
		{1, 32, 0.001960784313725483}, {1, 33, 0.01764705882352935},
		{2, 0, 0.5}, {2, 1, 0.5156862745098039}, {2, 96, 0.9941176470588236}, {2, 97, 0.9784313725490197},
	}
	for _, c := range cases {
		if got := jetBase(c.ch)[c.i]; got != c.lit {
			t.Errorf("channel %d entry %d = %.10g, OpenCV %.10g", c.ch, c.i, got, c.lit)
		}
	}
	// Jet is blue-dominated at the bottom, green in the middle, red at the top.
	for i := 0; i < 256; i++ {
		c := lutJet[i]
		if i < 32 && (c[0] != 0 || c[1] != 0) || i >= 224 && (c[1] != 0 || c[2] != 0) {
			t.Fatalf("jet entry %d = %v", i, c)
		}
	}
}

func TestPerceptualEndpoints(t *testing.T) {
	for _, tc := range []struct {
		cm         Colormap
		first, end color.RGBA
	}{
		{Viridis, color.RGBA{68, 1, 84, 255}, color.RGBA{253, 231, 37, 255}}, // #440154 … #fde725
		{Inferno, color.RGBA{0, 0, 4, 255}, color.RGBA{252, 255, 164, 255}},  // #000004 … #fcffa4
		{Gray, color.RGBA{0, 0, 0, 255}, color.RGBA{255, 255, 255, 255}},
	} {
		if a, b := tc.cm.Color(0), tc.cm.Color(255); a != tc.first || b != tc.end {
			t.Errorf("%v: ends %v %v, want %v %v", tc.cm, a, b, tc.first, tc.end)
		}
	}
	// Perceptual maps get lighter monotonically (luma, up to 8-bit steps).
	for _, cm := range []Colormap{Viridis, Inferno} {
		prev := -1.0
		for i := 0; i < 256; i++ {
			c := cm.Color(uint8(i))
			l := 0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B)
			if l < prev-1.5 {
				t.Fatalf("%v: luma drops at %d (%g < %g)", cm, i, l, prev)
			}
			prev = l
		}
	}
}

func TestIndex(t *testing.T) {
	nan := float32(math.NaN())
	for _, tc := range []struct {
		v, lo, hi float32
		want      uint8
	}{
		{0, 0, 1, 0}, {1, 0, 1, 255}, {0.5, 0, 1, 127}, {0.999, 0, 1, 254}, {-3, 0, 1, 0}, {7, 0, 1, 255},
		{nan, 0, 1, 0}, {2, 2, 2, 0}, {2.5, 2, 2, 255}, {3, 0, 4, 191},
	} {
		if got := Index(tc.v, tc.lo, tc.hi); got != tc.want {
			t.Errorf("Index(%g, %g, %g) = %d, want %d", tc.v, tc.lo, tc.hi, got, tc.want)
		}
	}
	if lo, hi := MinMax([]float32{nan, 3, -1, float32(math.Inf(1)), 2}); lo != -1 || hi != 3 {
		t.Errorf("MinMax = %g, %g", lo, hi)
	}
}

func TestHeatmapErrors(t *testing.T) {
	if _, err := Heatmap(make([]float32, 5), 2, 2, 0, 1, Jet); err == nil {
		t.Error("length mismatch accepted")
	}
	if _, err := Heatmap(make([]float32, 4), 2, 2, 1, 0, Jet); err == nil {
		t.Error("hi < lo accepted")
	}
	if _, err := Heatmap(make([]float32, 4), 2, 2, 0, 1, Colormap(99)); err == nil {
		t.Error("unknown colormap accepted")
	}
	if c, err := ParseColormap("Inferno"); err != nil || c != Inferno || c.String() != "inferno" {
		t.Errorf("ParseColormap: %v %v", c, err)
	}
	if _, err := ParseColormap("rainbow"); err == nil {
		t.Error("unknown name accepted")
	}
}

func TestOverlayArithmetic(t *testing.T) {
	base, err := RGBImage([]uint8{100, 50, 255, 1, 2, 3}, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	heat := image.NewRGBA(image.Rect(0, 0, 2, 1))
	heat.SetRGBA(0, 0, color.RGBA{0, 255, 10, 255})
	heat.SetRGBA(1, 0, color.RGBA{255, 255, 255, 255})
	out, err := Overlay(base, heat, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	// 0.5·100+0.5·0 = 50; 0.5·50+0.5·255 = 152.5 → 152; 0.5·255+0.5·10 = 132.5 → 132.
	if got := rgbAt(out, 0, 0); got != [3]uint8{50, 152, 132} {
		t.Errorf("overlay %v, want [50 152 132]", got)
	}
	if got := rgbAt(out, 1, 0); got != [3]uint8{128, 128, 129} {
		t.Errorf("overlay %v, want [128 128 129]", got)
	}
	for _, a := range []float64{0, 1} {
		out, _ := Overlay(base, heat, a)
		want := rgbAt(base, 0, 0)
		if a == 1 {
			want = rgbAt(heat, 0, 0)
		}
		if got := rgbAt(out, 0, 0); got != want {
			t.Errorf("alpha %g: %v, want %v", a, got, want)
		}
	}
	// Any image.Image works as the base.
	g := image.NewGray(image.Rect(0, 0, 2, 1))
	g.Pix[0] = 200
	out, err = Overlay(g, heat, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	if got := rgbAt(out, 0, 0); got != [3]uint8{150, 213, 152} { // 0.75·200 + 0.25·{0,255,10}
		t.Errorf("gray base overlay %v", got)
	}
	if _, err := Overlay(g, image.NewRGBA(image.Rect(0, 0, 3, 1)), 0.5); err == nil {
		t.Error("size mismatch accepted")
	}
	if _, err := Overlay(g, heat, 1.5); err == nil {
		t.Error("alpha 1.5 accepted")
	}
	if _, err := RGBImage(make([]uint8, 5), 2, 1); err == nil {
		t.Error("short RGB buffer accepted")
	}
}

// square marks x, y in [a, b) on a w×h grid.
func square(w, h, a, b int) []bool {
	m := make([]bool, w*h)
	for y := a; y < b; y++ {
		for x := a; x < b; x++ {
			m[y*w+x] = true
		}
	}
	return m
}

func TestOutlineOfSquareIsItsBorder(t *testing.T) {
	w, h := 10, 9
	m := square(w, h, 2, 7) // 5×5 square
	got, err := Outline(m, w, h)
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			border := m[y*w+x] && (x == 2 || x == 6 || y == 2 || y == 6)
			if got[y*w+x] != border {
				t.Fatalf("(%d,%d): outline %v, want %v", x, y, got[y*w+x], border)
			}
		}
	}
	// A region touching the image edge is closed along the edge.
	full := make([]uint8, 4*3)
	for i := range full {
		full[i] = 1
	}
	got, _ = Outline(full, 4, 3)
	for y := 0; y < 3; y++ {
		for x := 0; x < 4; x++ {
			if want := x == 0 || y == 0 || x == 3 || y == 2; got[y*4+x] != want {
				t.Fatalf("full mask (%d,%d): %v", x, y, got[y*4+x])
			}
		}
	}
}

func TestDrawOutlines(t *testing.T) {
	w, h := 12, 12
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	pred, gt := square(w, h, 2, 6), square(w, h, 2, 9)
	red, green := color.RGBA{255, 0, 0, 255}, color.RGBA{0, 255, 0, 255}
	if err := DrawOutlines(img, pred, gt, red, green, 1); err != nil {
		t.Fatal(err)
	}
	if img.RGBAAt(5, 3) != red || img.RGBAAt(8, 3) != green || img.RGBAAt(2, 2) != red || img.RGBAAt(4, 4) != (color.RGBA{}) {
		t.Errorf("outline colours wrong: %v %v %v %v", img.RGBAAt(5, 3), img.RGBAAt(8, 3), img.RGBAAt(2, 2), img.RGBAAt(4, 4))
	}
	// Thickness 2 grows the line by one pixel on each side.
	img2 := image.NewRGBA(image.Rect(0, 0, w, h))
	if err := DrawOutline(img2, pred, red, 2); err != nil {
		t.Fatal(err)
	}
	if img2.RGBAAt(1, 3) != red || img2.RGBAAt(4, 3) != red || img2.RGBAAt(0, 3) == red {
		t.Error("thickness 2 not one pixel wider on each side")
	}
	if err := DrawOutline(img2, pred[:10], red, 1); err == nil {
		t.Error("mask of the wrong size accepted")
	}
}

func TestMaskPNGRoundTrip(t *testing.T) {
	mask := []uint8{0, 1, 255, 0, 0, 7}
	b, err := MaskPNG(mask, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	g, ok := img.(*image.Gray)
	if !ok {
		t.Fatalf("decoded %T, want *image.Gray", img)
	}
	want := []uint8{0, 255, 255, 0, 0, 255}
	if !bytes.Equal(g.Pix, want) {
		t.Errorf("mask pixels %v, want %v", g.Pix, want)
	}
	if _, err := MaskPNG([]bool{true}, 2, 2); err == nil {
		t.Error("short mask accepted")
	}
}

func TestResizeMap(t *testing.T) {
	// cv2.resize([[0, 1]], (4, 1), INTER_LINEAR) = [0, 0.25, 0.75, 1].
	got, err := ResizeMap([]float32{0, 1}, 2, 1, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range []float32{0, 0.25, 0.75, 1} {
		if got[i] != w {
			t.Errorf("upsampled %v, want [0 0.25 0.75 1]", got)
			break
		}
	}
	m := []float32{1, 2, 3, 4, 5, 6}
	same, _ := ResizeMap(m, 3, 2, 3, 2)
	for i := range m {
		if same[i] != m[i] {
			t.Fatalf("same-size resize changed %v to %v", m, same)
		}
	}
	// Halving averages pixel pairs (centres fall between them).
	half, _ := ResizeMap([]float32{0, 2, 4, 6}, 4, 1, 2, 1)
	if half[0] != 1 || half[1] != 5 {
		t.Errorf("halved %v, want [1 5]", half)
	}
	if _, err := ResizeMap(m, 3, 2, 0, 5); err == nil {
		t.Error("zero target accepted")
	}
}

func TestClassMap(t *testing.T) {
	p := Palette(21)
	if p[0] != (color.RGBA{0, 0, 0, 255}) {
		t.Errorf("class 0 colour %v, want black", p[0])
	}
	seen := map[color.RGBA]int{}
	for i, c := range p {
		if j, dup := seen[c]; dup {
			t.Fatalf("classes %d and %d share colour %v", j, i, c)
		}
		seen[c] = i
	}
	img, err := ClassMap([]uint8{0, 3, 20, 1}, 2, 2, p)
	if err != nil {
		t.Fatal(err)
	}
	if img.RGBAAt(1, 0) != p[3] || img.RGBAAt(0, 1) != p[20] {
		t.Error("class colours not applied")
	}
	if _, err := ClassMap([]uint8{21, 0, 0, 0}, 2, 2, p); err == nil {
		t.Error("class beyond the palette accepted")
	}
}

func TestEncodePNG(t *testing.T) {
	img, _ := Heatmap([]float32{0, 1, 2, 3}, 2, 2, 0, 3, Viridis)
	b, err := PNGBytes(img)
	if err != nil {
		t.Fatal(err)
	}
	back, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if r, g, bb, _ := back.At(1, 1).RGBA(); uint8(r>>8) != 253 || uint8(g>>8) != 231 || uint8(bb>>8) != 37 {
		t.Errorf("decoded top of viridis %d %d %d", r>>8, g>>8, bb>>8)
	}
}
