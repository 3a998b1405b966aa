package inspect

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand"
	"testing"
)

// TestScaleMaskBruteForce checks the integer index formula against the
// float definition floor((x+0.5)·w/outW) on random sizes.
func TestScaleMaskBruteForce(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for trial := 0; trial < 200; trial++ {
		w, h := 1+r.Intn(40), 1+r.Intn(40)
		ow, oh := 1+r.Intn(60), 1+r.Intn(60)
		m := make([]uint8, w*h)
		for i := range m {
			m[i] = uint8(r.Intn(2))
		}
		got, err := ScaleMask(m, w, h, ow, oh)
		if err != nil {
			t.Fatal(err)
		}
		for y := 0; y < oh; y++ {
			for x := 0; x < ow; x++ {
				sx := int(math.Floor((float64(x) + 0.5) * float64(w) / float64(ow)))
				sy := int(math.Floor((float64(y) + 0.5) * float64(h) / float64(oh)))
				if got[y*ow+x] != m[sy*w+sx] {
					t.Fatalf("%dx%d -> %dx%d: (%d,%d) = %d, source (%d,%d) = %d", w, h, ow, oh, x, y, got[y*ow+x], sx, sy, m[sy*w+sx])
				}
			}
		}
	}
	if _, err := ScaleMask([]uint8{1}, 2, 2, 1, 1); err == nil {
		t.Error("ScaleMask accepted 1 value for 2×2")
	}
}

func TestDecodeMask(t *testing.T) {
	// 16×8 PNG, white block x∈[4,12) y∈[2,6) at grey 200, the rest grey 100:
	// at 8×8 (x halves, y unchanged) the block is x∈[2,6) y∈[2,6).
	img := image.NewGray(image.Rect(0, 0, 16, 8))
	for y := 0; y < 8; y++ {
		for x := 0; x < 16; x++ {
			v := uint8(100)
			if x >= 4 && x < 12 && y >= 2 && y < 6 {
				v = 200
			}
			img.SetGray(x, y, color.Gray{Y: v})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	m, err := DecodeMask(buf.Bytes(), 8)
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < 8; y++ {
		for x := 0; x < 8; x++ {
			want := uint8(0)
			if x >= 2 && x < 6 && y >= 2 && y < 6 {
				want = 1
			}
			if m[y*8+x] != want {
				t.Fatalf("(%d,%d) = %d, want %d", x, y, m[y*8+x], want)
			}
		}
	}
	if Count(m) != 16 {
		t.Errorf("Count = %d, want 16", Count(m))
	}
	if _, err := DecodeMask([]byte("not an image"), 8); err == nil {
		t.Error("DecodeMask accepted garbage")
	}
}

func TestOverlap(t *testing.T) {
	pred := []uint8{1, 1, 1, 0, 0, 0}
	gt := []uint8{0, 1, 1, 1, 0, 0}
	iou, dice, err := Overlap(pred, gt)
	if err != nil || iou != 0.5 || math.Abs(dice-2.0/3) > 1e-15 {
		t.Errorf("Overlap = %v, %v, %v; want 0.5, 2/3", iou, dice, err)
	}
	if iou, dice, _ := Overlap(make([]uint8, 3), make([]uint8, 3)); iou != 1 || dice != 1 {
		t.Errorf("empty masks: %v %v, want 1 1", iou, dice)
	}
	if _, _, err := Overlap(pred, gt[:2]); err == nil {
		t.Error("Overlap accepted different sizes")
	}
}
