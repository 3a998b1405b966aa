package synth

import (
	"bytes"
	"image"
	"image/png"
	"testing"
)

// TestEncodePNGRoundTrip decodes the writer's output with image/png and
// wants the pixels back exactly.
func TestEncodePNGRoundTrip(t *testing.T) {
	for _, size := range []int{MinSize, 77} {
		img, mask, err := Render("washer", Missing, size, 9)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []image.Image{img, mask} {
			var buf bytes.Buffer
			if err := encodePNG(&buf, m); err != nil {
				t.Fatal(err)
			}
			got, err := png.Decode(&buf)
			if err != nil {
				t.Fatalf("%T %d: %v", m, size, err)
			}
			switch want := m.(type) {
			case *image.RGBA:
				g, ok := got.(*image.RGBA)
				if !ok {
					// An opaque RGB PNG decodes to RGBA.
					t.Fatalf("decoded %T, want *image.RGBA", got)
				}
				if !bytes.Equal(g.Pix, want.Pix) {
					t.Errorf("RGBA %d: pixels differ after a round trip", size)
				}
			case *image.Gray:
				g, ok := got.(*image.Gray)
				if !ok || !bytes.Equal(g.Pix, want.Pix) {
					t.Errorf("Gray %d: decoded %T, pixels differ", size, got)
				}
			}
		}
	}
	if err := encodePNG(&bytes.Buffer{}, image.NewNRGBA(image.Rect(0, 0, 1, 1))); err == nil {
		t.Error("NRGBA accepted")
	}
}
