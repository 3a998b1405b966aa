package dataset

import (
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writePNG writes a small grey PNG (value fills it), creating folders.
func writePNG(t *testing.T, path string, value uint8) {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 4, 3))
	for i := range img.Pix {
		img.Pix[i] = value
	}
	f := create(t, path)
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	closeFile(t, f)
}

// writeJPEG writes a small JPEG, for layouts that ship .jpg images.
func writeJPEG(t *testing.T, path string) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 17)
	}
	img.Set(0, 0, color.RGBA{200, 10, 10, 255})
	f := create(t, path)
	if err := jpeg.Encode(f, img, nil); err != nil {
		t.Fatal(err)
	}
	closeFile(t, f)
}

func writeText(t *testing.T, path, text string) {
	t.Helper()
	f := create(t, path)
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	closeFile(t, f)
}

func create(t *testing.T, path string) *os.File {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func closeFile(t *testing.T, f *os.File) {
	t.Helper()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// load runs Load and fails the test on error.
func load(t *testing.T, format, root string) *Dataset {
	t.Helper()
	d, err := Load(format, root)
	if err != nil {
		t.Fatalf("Load(%s, %s): %v", format, root, err)
	}
	return d
}

// wantLayoutErr checks err is a *LayoutError whose path is path and whose
// message names it.
func wantLayoutErr(t *testing.T, err error, path string) {
	t.Helper()
	var le *LayoutError
	if !errors.As(err, &le) {
		t.Fatalf("error %v (%T), want a *LayoutError for %s", err, err, path)
	}
	if le.Path != path {
		t.Errorf("LayoutError.Path = %s, want %s (error: %v)", le.Path, path, err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
}

// rel turns item paths back into root-relative slash paths for comparison.
func rel(t *testing.T, root, p string) string {
	t.Helper()
	if p == "" {
		return ""
	}
	r, err := filepath.Rel(root, p)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.ToSlash(r)
}

// itemRow is an Item with root-relative paths, for table comparisons.
type itemRow struct {
	Image, Mask, Product, Defect string
	Anomalous                    bool
	Split                        string
}

func rows(t *testing.T, d *Dataset) []itemRow {
	t.Helper()
	out := make([]itemRow, len(d.Items))
	for i, it := range d.Items {
		out[i] = itemRow{rel(t, d.Root, it.ImagePath), rel(t, d.Root, it.MaskPath), it.Product, it.DefectKey, it.Anomalous, it.Split}
	}
	return out
}

func compareRows(t *testing.T, got, want []itemRow) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d items, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("item %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	for i := len(want); i < len(got); i++ {
		t.Errorf("extra item %+v", got[i])
	}
	for i := len(got); i < len(want); i++ {
		t.Errorf("missing item %+v", want[i])
	}
}
