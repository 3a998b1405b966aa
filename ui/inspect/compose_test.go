package inspect

import (
	"strings"
	"testing"
)

func TestDisplaySize(t *testing.T) {
	for _, tc := range []struct{ w, h, max, ww, wh int }{
		{1024, 768, 640, 640, 480},
		{768, 1024, 640, 480, 640},
		{300, 200, 640, 300, 200}, // never enlarged
		{5000, 1, 640, 640, 1},
		{0, 5, 640, 1, 1},
	} {
		if w, h := DisplaySize(tc.w, tc.h, tc.max); w != tc.ww || h != tc.wh {
			t.Errorf("DisplaySize(%d, %d, %d) = %d×%d, want %d×%d", tc.w, tc.h, tc.max, w, h, tc.ww, tc.wh)
		}
	}
}

func TestCompose(t *testing.T) {
	it := testItem(t, 4, "a", false)
	s := DefaultSettings()
	s.PixelThreshold = 0.5 // maps of 2 layers lie in [0, 2]
	if _, err := s.Score(it); err != nil {
		t.Fatal(err)
	}
	r := it.Result
	// Opacity 0 and no outlines: the flat background everywhere.
	img, err := Compose(it, View{Colormap: "jet", Alpha: 0, MaxSide: 640})
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != r.Width || b.Dy() != r.Height {
		t.Fatalf("composed %v, want %d×%d", b, r.Width, r.Height)
	}
	for i := 0; i < len(img.Pix); i += 4 {
		if img.Pix[i] != Background.R || img.Pix[i+1] != Background.G || img.Pix[i+2] != Background.B {
			t.Fatalf("alpha 0: pixel %d is %v, want the background", i/4, img.Pix[i:i+4])
		}
	}
	// Full opacity: the heatmap, with more than a few colours.
	img, err = Compose(it, View{Colormap: "viridis", Alpha: 1, MaxSide: 640})
	if err != nil {
		t.Fatal(err)
	}
	colours := map[[3]uint8]bool{}
	for i := 0; i < len(img.Pix); i += 4 {
		colours[[3]uint8{img.Pix[i], img.Pix[i+1], img.Pix[i+2]}] = true
	}
	if len(colours) < 20 {
		t.Errorf("heatmap has %d colours", len(colours))
	}
	// Outlines: the predicted one in white, the ground truth in magenta on
	// a GT that covers the left half.
	n := Count(r.Mask)
	if n == 0 || n == len(r.Mask) {
		t.Fatalf("mask has %d of %d pixels: pick another threshold", n, len(r.Mask))
	}
	it.GT = make([]uint8, r.Size*r.Size)
	for y := 0; y < r.Size; y++ {
		for x := 0; x < r.Size/2; x++ {
			it.GT[y*r.Size+x] = 1
		}
	}
	img, err = Compose(it, View{Colormap: "jet", Alpha: 0, MaxSide: 640, ShowPred: true, ShowGT: true})
	if err != nil {
		t.Fatal(err)
	}
	var white, magenta int
	for i := 0; i < len(img.Pix); i += 4 {
		switch [3]uint8{img.Pix[i], img.Pix[i+1], img.Pix[i+2]} {
		case [3]uint8{255, 255, 255}:
			white++
		case [3]uint8{255, 0, 255}:
			magenta++
		}
	}
	if white == 0 || magenta == 0 {
		t.Errorf("outlines: %d white, %d magenta pixels", white, magenta)
	}
	if _, err := Compose(it, View{Colormap: "nope", MaxSide: 640}); err == nil {
		t.Error("unknown colormap accepted")
	}
}

func TestComposeJPEG(t *testing.T) {
	it := testItem(t, 5, "a", true)
	if _, err := DefaultSettings().Score(it); err != nil {
		t.Fatal(err)
	}
	img, err := Compose(it, View{Colormap: "jet", Alpha: 0, MaxSide: 640})
	if err != nil {
		t.Fatal(err)
	}
	// The thumbnail is solid red (250, 0, 0) before JPEG rounding.
	for i := 0; i < len(img.Pix); i += 4 {
		if img.Pix[i] < 230 || img.Pix[i+1] > 20 || img.Pix[i+2] > 20 {
			t.Fatalf("pixel %d is %v, want the red thumbnail", i/4, img.Pix[i:i+4])
		}
	}
	if !strings.HasPrefix(Thumbnail(it), "data:image/jpeg;base64,") {
		t.Error("thumbnail is not the bundle's JPEG")
	}
	plain := testItem(t, 6, "b", false)
	if Thumbnail(plain) != "" {
		t.Error("thumbnail of an unscored item without JPEG")
	}
	if _, err := DefaultSettings().Score(plain); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(Thumbnail(plain), "data:image/png;base64,") {
		t.Error("no heatmap thumbnail without JPEG")
	}
}
