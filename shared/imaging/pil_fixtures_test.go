package imaging

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dapo/shared/safetensors"
)

// testdata/pil_fixtures.safetensors was written by Pillow 9.4 (the version
// of the goldens) with testdata/gen_pil_fixtures.py: PNG files of every
// colour type and bit depth (with and without tRNS) and JPEG files
// (4:4:4, 4:2:2, 4:2:0, 4:4:0, progressive, grey, CMYK), each with Pillow's
// convert("RGB"), convert("L"), resize-then-convert and mask outputs.
// IMAGING_PIL_FIXTURES names a larger generated file to run instead.

type pilCase struct {
	Name  string         `json:"name"`
	Kind  map[string]any `json:"kind"`
	Mode  string         `json:"pil_mode"`
	W     int            `json:"w"`
	H     int            `json:"h"`
	Sizes [][2]int       `json:"sizes"`
}

// Measured bound for JPEG (Go's IDCT is not libjpeg's islow): at most this
// many levels apart, on at most this fraction of values.
const (
	jpegMaxLevels   = 5
	jpegMaxFraction = 0.08
)

// diffU8 returns the number of differing bytes and the largest difference
// (-1, -1 for a length mismatch).
func diffU8(got, want []byte) (n, worst int) {
	if len(got) != len(want) {
		return -1, -1
	}
	for i := range want {
		d := int(got[i]) - int(want[i])
		if d < 0 {
			d = -d
		}
		if d != 0 {
			n++
			worst = max(worst, d)
		}
	}
	return
}

func TestPillowFixtures(t *testing.T) {
	path := os.Getenv("IMAGING_PIL_FIXTURES")
	if path == "" {
		path = filepath.Join("testdata", "pil_fixtures.safetensors")
	}
	f, err := safetensors.Parse(readFile(t, path))
	if err != nil {
		t.Fatal(err)
	}
	var cases []pilCase
	if err := json.Unmarshal([]byte(f.Metadata["cases"]), &cases); err != nil {
		t.Fatalf("%s: cases metadata: %v", path, err)
	}
	get := func(name string) []byte {
		b, _, err := f.Raw(name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var jpegValues, jpegBad, jpegWorst int
	for _, c := range cases {
		data := get(c.Name + "/file")
		isJPEG := strings.HasSuffix(c.Name, ".jpg")
		label := fmt.Sprintf("%s (%s, Pillow mode %s)", c.Name, kindString(c.Kind), c.Mode)
		check := func(what string, got []byte) {
			want := get(c.Name + "/" + what)
			n, worst := diffU8(got, want)
			switch {
			case n < 0:
				t.Errorf("%s %s: got %d bytes, want %d", label, what, len(got), len(want))
			case isJPEG && strings.HasPrefix(what, "mask"):
				// Binarising (> 0) turns a one-level decoder difference at
				// 0 into 0 vs 255: only logged.
				if n > 0 {
					t.Logf("%s %s: %d of %d mask values differ (max %d)", label, what, n, len(want), worst)
				}
			case isJPEG:
				jpegValues += len(want)
				jpegBad += n
				jpegWorst = max(jpegWorst, worst)
				if os.Getenv("IMAGING_JPEG_DETAIL") != "" {
					t.Logf("%s %s: %d/%d differ, max %d", label, what, n, len(want), worst)
				}
			case n > 0:
				t.Errorf("%s %s: %d of %d bytes differ from Pillow (max %d)", label, what, n, len(want), worst)
			}
		}
		src, err := decodeSource(data, Limits{})
		if err != nil {
			t.Errorf("%s: %v", label, err)
			continue
		}
		if src.mode.String() != c.Mode {
			t.Errorf("%s: opened as mode %s", label, src.mode)
		}
		rgb, err := DecodeRGBBytes(data, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if rgb.W != c.W || rgb.H != c.H {
			t.Errorf("%s: size %dx%d, Pillow %dx%d", label, rgb.W, rgb.H, c.W, c.H)
		}
		check("rgb", rgb.Pix)
		l, err := DecodeMaskLBytes(data, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		check("l", l.Pix)
		for _, s := range c.Sizes {
			w, h := s[0], s[1]
			got, err := DecodeResize(data, w, h, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			check(fmt.Sprintf("bicubic.%dx%d", w, h), got.Pix)
			check(fmt.Sprintf("mask.%dx%d", w, h), ResizeBilinearGray(BinariseMask(l), w, h).Pix)
		}
	}
	t.Logf("%d cases from %s (Pillow %s)", len(cases), path, f.Metadata["pillow"])
	if jpegValues > 0 {
		frac := float64(jpegBad) / float64(jpegValues)
		t.Logf("JPEG, Go decoder vs libjpeg: %d of %d values differ (%.2f%%), max %d levels", jpegBad, jpegValues, 100*frac, jpegWorst)
		if jpegWorst > jpegMaxLevels || frac > jpegMaxFraction {
			t.Errorf("JPEG differences above the measured bound (%d levels, %.0f%%)", jpegMaxLevels, 100*jpegMaxFraction)
		}
	}
}

func kindString(k map[string]any) string {
	b, _ := json.Marshal(k)
	return string(b)
}
