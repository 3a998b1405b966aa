package imaging

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math"
	"testing"
)

// Synthetic images encoded here, decoded, and checked against what Pillow's
// convert("RGB") / convert("L") do, written out as plain formulas.

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// rawPNG writes a PNG by hand, for colour types Go's encoder never emits
// (grey+alpha). rows hold the packed samples of each row.
func rawPNG(w, h int, colorType, depth byte, rows [][]byte) []byte {
	var out bytes.Buffer
	out.Write(pngMagic)
	chunk := func(tag string, data []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(data)))
		out.Write(n[:])
		td := append([]byte(tag), data...)
		out.Write(td)
		binary.BigEndian.PutUint32(n[:], crc32.ChecksumIEEE(td))
		out.Write(n[:])
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = depth, colorType
	chunk("IHDR", ihdr)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	for _, r := range rows {
		zw.Write(append([]byte{0}, r...))
	}
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

// pillowLuma is ITU-R 601-2 luma as Pillow's L24 macro computes it.
func pillowLuma(r, g, b int) int { return (r*19595 + g*38470 + b*7471 + 0x8000) >> 16 }

func decodeBoth(t *testing.T, data []byte) (*RGB, *Gray) {
	t.Helper()
	rgb, err := DecodeRGB(bytes.NewReader(data), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := DecodeMaskL(bytes.NewReader(data), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return rgb, l
}

func expectPixel(t *testing.T, what string, rgb *RGB, l *Gray, i int, r, g, b, lum int) {
	t.Helper()
	got := [4]int{int(rgb.Pix[3*i]), int(rgb.Pix[3*i+1]), int(rgb.Pix[3*i+2]), int(l.Pix[i])}
	if want := [4]int{r, g, b, lum}; got != want {
		t.Errorf("%s pixel %d: got RGB+L %v, want %v", what, i, got, want)
	}
}

func TestLumaMatchesITU601(t *testing.T) {
	// The fixed-point formula is within rounding of the real-valued one and
	// maps grey to itself.
	for r := 0; r < 256; r += 5 {
		for g := 0; g < 256; g += 3 {
			for b := 0; b < 256; b += 7 {
				f := 0.299*float64(r) + 0.587*float64(g) + 0.114*float64(b)
				if d := math.Abs(float64(luma(uint8(r), uint8(g), uint8(b))) - f); d > 0.51 {
					t.Fatalf("luma(%d,%d,%d) = %d, real %f", r, g, b, luma(uint8(r), uint8(g), uint8(b)), f)
				}
			}
		}
	}
	for v := 0; v < 256; v++ {
		if luma(uint8(v), uint8(v), uint8(v)) != uint8(v) {
			t.Fatalf("luma of grey %d is %d", v, luma(uint8(v), uint8(v), uint8(v)))
		}
	}
}

func TestDecodeGray8(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 4, 3))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 21)
	}
	rgb, l := decodeBoth(t, encodePNG(t, img))
	for i, v := range img.Pix {
		expectPixel(t, "grey", rgb, l, i, int(v), int(v), int(v), int(v))
	}
}

func TestDecodeGray16ClipsLikePillow(t *testing.T) {
	// Pillow 9 opens 16-bit grey as mode "I" and convert() clips to 0..255:
	// values are NOT scaled by 1/257.
	img := image.NewGray16(image.Rect(0, 0, 6, 1))
	vals := []uint16{0, 1, 200, 255, 256, 65535}
	for i, v := range vals {
		img.SetGray16(i, 0, color.Gray16{Y: v})
	}
	rgb, l := decodeBoth(t, encodePNG(t, img))
	for i, v := range vals {
		c := int(min(v, 255))
		expectPixel(t, "grey16", rgb, l, i, c, c, c, c)
	}
}

func TestDecodePalette(t *testing.T) {
	pal := color.Palette{
		color.RGBA{10, 200, 30, 255},
		color.NRGBA{255, 0, 0, 0},    // transparent entry: colour kept
		color.NRGBA{0, 90, 250, 128}, // half transparent: not premultiplied
		color.RGBA{1, 2, 3, 255},
	}
	img := image.NewPaletted(image.Rect(0, 0, 4, 2), pal)
	for i := range img.Pix {
		img.Pix[i] = uint8(i % 4)
	}
	rgb, l := decodeBoth(t, encodePNG(t, img))
	for i, idx := range img.Pix {
		n := color.NRGBAModel.Convert(pal[idx]).(color.NRGBA)
		if c, ok := pal[idx].(color.NRGBA); ok {
			n = c
		}
		r, g, b := int(n.R), int(n.G), int(n.B)
		expectPixel(t, "palette", rgb, l, i, r, g, b, pillowLuma(r, g, b))
	}
}

func TestDecodeRGBAStraightAlpha(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 3, 1))
	px := [][4]uint8{{200, 100, 50, 10}, {7, 8, 9, 0}, {255, 128, 1, 255}}
	for i, p := range px {
		img.SetNRGBA(i, 0, color.NRGBA{p[0], p[1], p[2], p[3]})
	}
	rgb, l := decodeBoth(t, encodePNG(t, img))
	for i, p := range px {
		r, g, b := int(p[0]), int(p[1]), int(p[2])
		expectPixel(t, "rgba", rgb, l, i, r, g, b, pillowLuma(r, g, b))
	}
}

func TestDecode16BitColourHighByte(t *testing.T) {
	// Pillow's "RGB;16B" / "RGBA;16B" unpackers keep the high byte (v>>8).
	vals := [][4]uint16{{0x12ff, 0xff00, 0x0080, 0xffff}, {0xabcd, 0x0001, 0x7fff, 0xffff}}
	opaque := image.NewRGBA64(image.Rect(0, 0, 2, 1))
	alpha := image.NewNRGBA64(image.Rect(0, 0, 2, 1))
	for i, v := range vals {
		opaque.SetRGBA64(i, 0, color.RGBA64{v[0], v[1], v[2], v[3]})
		alpha.SetNRGBA64(i, 0, color.NRGBA64{v[0], v[1], v[2], 0x1234})
	}
	for _, img := range []image.Image{opaque, alpha} {
		rgb, l := decodeBoth(t, encodePNG(t, img))
		for i, v := range vals {
			r, g, b := int(v[0]>>8), int(v[1]>>8), int(v[2]>>8)
			expectPixel(t, "16-bit colour", rgb, l, i, r, g, b, pillowLuma(r, g, b))
		}
	}
}

func TestDecodeGrayAlpha(t *testing.T) {
	// 8-bit: grey replicated, alpha dropped.
	row8 := []byte{0, 0, 77, 10, 255, 128, 13, 255}
	rgb, l := decodeBoth(t, rawPNG(4, 1, 4, 8, [][]byte{row8}))
	for i := 0; i < 4; i++ {
		v := int(row8[2*i])
		expectPixel(t, "LA", rgb, l, i, v, v, v, v)
	}
	// 16-bit: high byte of the grey sample.
	row16 := []byte{0x12, 0x34, 0x00, 0x10, 0xfe, 0xff, 0xff, 0xff}
	rgb, l = decodeBoth(t, rawPNG(2, 1, 4, 16, [][]byte{row16}))
	for i := 0; i < 2; i++ {
		v := int(row16[4*i])
		expectPixel(t, "LA16", rgb, l, i, v, v, v, v)
	}
}

func TestDecodeLowBitGray(t *testing.T) {
	// 1/2/4-bit grey is scaled to 0..255 (Pillow's "1", "L;2", "L;4").
	rgb, l := decodeBoth(t, rawPNG(4, 1, 0, 2, [][]byte{{0b00011011}}))
	for i := 0; i < 4; i++ {
		v := i * 85
		expectPixel(t, "grey2", rgb, l, i, v, v, v, v)
	}
	rgb, l = decodeBoth(t, rawPNG(8, 1, 0, 1, [][]byte{{0b10100000}}))
	for i := 0; i < 8; i++ {
		v := 0
		if i == 0 || i == 2 {
			v = 255
		}
		expectPixel(t, "grey1", rgb, l, i, v, v, v, v)
	}
}

func TestMaskBinarisation(t *testing.T) {
	g := &Gray{W: 4, H: 1, Pix: []uint8{0, 1, 60, 255}}
	if got := BinariseMask(g).Pix; !bytes.Equal(got, []uint8{0, 255, 255, 255}) {
		t.Errorf("BinariseMask = %v", got)
	}
	m := []float32{0, 0.5, float32(128) / 255, float32(254) / 255, 1}
	if got := BinariseTest(m); got[0] != 0 || got[1] != 0 || got[2] != 1 || got[3] != 1 || got[4] != 1 {
		t.Errorf("BinariseTest = %v", got)
	}
	if got := BinariseTrainCast(m); got[0] != 0 || got[1] != 0 || got[2] != 0 || got[3] != 0 || got[4] != 1 {
		t.Errorf("BinariseTrainCast = %v (only exactly 1.0 counts)", got)
	}
	if got := TrainClassTarget(m, 7); got[3] != 0 || got[4] != 7 {
		t.Errorf("TrainClassTarget = %v", got)
	}
}

func TestNormalizeFormula(t *testing.T) {
	img := &RGB{W: 256, H: 1, Pix: make([]uint8, 256*3)}
	for i := 0; i < 256; i++ {
		img.Pix[3*i], img.Pix[3*i+1], img.Pix[3*i+2] = uint8(i), uint8(255-i), uint8(i/2)
	}
	out := Normalize(img)
	mean := []float64{0.48145466, 0.4578275, 0.40821073}
	std := []float64{0.26862954, 0.26130258, 0.27577711}
	for c := 0; c < 3; c++ {
		for i := 0; i < 256; i++ {
			want := (float64(img.Pix[3*i+c])/255 - mean[c]) / std[c]
			if d := math.Abs(float64(out[c*256+i]) - want); d > 1e-6 {
				t.Fatalf("channel %d value %d: %g, want %g", c, img.Pix[3*i+c], out[c*256+i], want)
			}
		}
	}
}
