package imaging

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"strings"
	"testing"
)

func TestRefuseLargeBeforeDecoding(t *testing.T) {
	// A header claiming 100000x100000 pixels and no image data at all: the
	// limit must trip on the header alone (decoding would fail otherwise).
	bomb := rawPNG(100000, 100000, 2, 8, nil)
	_, err := DecodeRGBBytes(bomb, Limits{})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	if !strings.Contains(err.Error(), "100000x100000") {
		t.Errorf("error does not name the size: %v", err)
	}
	// The limit is configurable, and equality is allowed.
	small := encodePNG(t, image.NewGray(image.Rect(0, 0, 10, 10)))
	if _, err := DecodeRGBBytes(small, Limits{MaxPixels: 99}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("MaxPixels 99: got %v", err)
	}
	if _, err := DecodeRGBBytes(small, Limits{MaxPixels: 100}); err != nil {
		t.Errorf("MaxPixels 100: %v", err)
	}
	if _, err := DecodeRGB(bytes.NewReader(small), Limits{MaxBytes: int64(len(small) - 1)}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("MaxBytes: got %v", err)
	}
}

func TestUnsupportedFormats(t *testing.T) {
	for _, c := range []struct{ data, name string }{
		{"GIF89a\x01\x00\x01\x00", "GIF"},
		{"BM\x00\x00\x00\x00", "BMP"},
		{"II*\x00\x08\x00", "TIFF"},
		{"RIFF\x00\x00\x00\x00WEBPVP8 ", "WebP"},
		{"hello", "unknown data"},
		{"", "empty input"},
	} {
		_, err := DecodeRGBBytes([]byte(c.data), Limits{})
		if !errors.Is(err, ErrUnsupportedFormat) || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%q: got %v, want ErrUnsupportedFormat naming %s", c.data, err, c.name)
		}
	}
}

func TestCorruptFiles(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	p := encodePNG(t, img)
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, img, nil); err != nil {
		t.Fatal(err)
	}
	j := jb.Bytes()
	flip := func(b []byte, i int) []byte {
		c := append([]byte(nil), b...)
		c[i] ^= 0x55
		return c
	}
	for name, data := range map[string][]byte{
		"png truncated in IDAT":  p[:len(p)/2],
		"png truncated header":   p[:20],
		"png bad CRC":            flip(p, 30),
		"jpeg truncated":         j[:len(j)/2],
		"jpeg header only":       j[:4],
		"png signature only":     pngMagic,
		"jpeg corrupt SOF":       flip(j, 170),
		"png corrupt IDAT bytes": flip(p, len(p)-30),
	} {
		_, err := DecodeRGBBytes(data, Limits{})
		if err == nil {
			// Some corruptions still decode (e.g. inside JPEG entropy data);
			// the point is that none panics.
			t.Logf("%s: decoded without error", name)
			continue
		}
		if !strings.HasPrefix(err.Error(), "imaging: ") {
			t.Errorf("%s: error not wrapped with context: %v", name, err)
		}
	}
}

func TestBadTargetSize(t *testing.T) {
	small := encodePNG(t, image.NewGray(image.Rect(0, 0, 4, 4)))
	if _, err := ImageTensor(small, 0, Limits{}); err == nil {
		t.Error("size 0 accepted")
	}
	if _, err := MaskTensor(small, -3, Limits{}); err == nil {
		t.Error("size -3 accepted")
	}
	defer func() {
		if recover() == nil {
			t.Error("ResizeBicubic to 0x5 did not panic")
		}
	}()
	ResizeBicubic(&RGB{W: 2, H: 2, Pix: make([]uint8, 12)}, 0, 5)
}
