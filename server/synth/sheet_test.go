package synth

import (
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// TestContactSheet is a tool for looking at the images, not a check: with
// SYNTH_SHEET=DIR it writes per product and seed a sheet of the good image
// and every defect (masks below), plus each image of seed 1 at 512².
func TestContactSheet(t *testing.T) {
	dir := os.Getenv("SYNTH_SHEET")
	if dir == "" {
		t.Skip("set SYNTH_SHEET=DIR to write contact sheets")
	}
	const size = 256
	for _, p := range catalog() {
		keys := append([]string{Good}, p.Defects...)
		for seed := uint64(1); seed <= 4; seed++ {
			sheet := image.NewRGBA(image.Rect(0, 0, size*len(keys), 2*size))
			for i, k := range keys {
				img, mask, err := Render(p.Name, k, size, seed)
				if err != nil {
					t.Fatal(err)
				}
				draw.Draw(sheet, image.Rect(i*size, 0, (i+1)*size, size), img, image.Point{}, draw.Src)
				draw.Draw(sheet, image.Rect(i*size, size, (i+1)*size, 2*size), mask, image.Point{}, draw.Src)
				if seed == 1 {
					big, _, err := Render(p.Name, k, 2*size, seed)
					if err != nil {
						t.Fatal(err)
					}
					saveSheet(t, filepath.Join(dir, fmt.Sprintf("%s_%s.png", p.Name, k)), big)
				}
			}
			saveSheet(t, filepath.Join(dir, fmt.Sprintf("%s_%d.png", p.Name, seed)), sheet)
		}
	}
}

func saveSheet(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}
