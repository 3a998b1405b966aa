package dataset

import (
	"os"
	"path/filepath"
	"testing"

	"dapo/shared/defects"
)

func TestMADSimFixture(t *testing.T) {
	root := t.TempDir()
	toy := filepath.Join(root, "02Unicorn")
	writePNG(t, filepath.Join(toy, "train", "good", "27.png"), 5)
	writePNG(t, filepath.Join(toy, "test", "good", "1.png"), 5)
	writePNG(t, filepath.Join(toy, "ground_truth", "good", "1_mask.png"), 0) // all-zero mask of a good image
	writePNG(t, filepath.Join(toy, "test", "good", "2.png"), 5)              // good image without mask file
	writePNG(t, filepath.Join(toy, "test", "Stains", "30.png"), 5)
	writePNG(t, filepath.Join(toy, "ground_truth", "Stains", "30_mask.png"), 255)
	writePNG(t, filepath.Join(toy, "test", "Burrs", "4.png"), 5)
	writePNG(t, filepath.Join(toy, "ground_truth", "Burrs", "4_mask.png"), 255)
	writePNG(t, filepath.Join(root, "11Pheonix", "test", "Missing", "0.png"), 5)
	writePNG(t, filepath.Join(root, "11Pheonix", "ground_truth", "Missing", "0_mask.png"), 255)
	d := load(t, "mad-sim", root)
	want := []itemRow{
		{"11Pheonix/test/Missing/0.png", "11Pheonix/ground_truth/Missing/0_mask.png", "Pheonix", "Missing", true, "test"},
		{"02Unicorn/test/Burrs/4.png", "02Unicorn/ground_truth/Burrs/4_mask.png", "Unicorn", "Burrs", true, "test"},
		{"02Unicorn/test/Stains/30.png", "02Unicorn/ground_truth/Stains/30_mask.png", "Unicorn", "Stains", true, "test"},
		{"02Unicorn/test/good/1.png", "02Unicorn/ground_truth/good/1_mask.png", "Unicorn", "good", false, "test"},
		{"02Unicorn/test/good/2.png", "", "Unicorn", "good", false, "test"},
		{"02Unicorn/train/good/27.png", "", "Unicorn", "good", false, "train"},
	}
	compareRows(t, rows(t, d), want)
	for _, it := range d.Items {
		if _, err := defects.ProductClasses("mad-sim", it.Product); err != nil {
			t.Errorf("product %q unknown to the vocabulary: %v", it.Product, err)
		}
	}
}

func TestMADRealFixture(t *testing.T) {
	root := t.TempDir()
	writeJPEG(t, filepath.Join(root, "Parrot", "train", "good", "24.jpg"))
	writeJPEG(t, filepath.Join(root, "Parrot", "test", "good", "1.jpg"))
	writePNG(t, filepath.Join(root, "Parrot", "ground_truth", "good", "1.png"), 0)
	writeJPEG(t, filepath.Join(root, "Parrot", "test", "Missing", "3.jpg"))
	writePNG(t, filepath.Join(root, "Parrot", "ground_truth", "Missing", "3.png"), 255)
	writeText(t, filepath.Join(root, "Parrot", "test", "Missing", "Thumbs.db"), "x")
	d := load(t, "mad-real", root)
	want := []itemRow{
		{"Parrot/test/Missing/3.jpg", "Parrot/ground_truth/Missing/3.png", "Parrot", "Missing", true, "test"},
		{"Parrot/test/good/1.jpg", "Parrot/ground_truth/good/1.png", "Parrot", "good", false, "test"},
		{"Parrot/train/good/24.jpg", "", "Parrot", "good", false, "train"},
	}
	compareRows(t, rows(t, d), want)

	mask := filepath.Join(root, "Parrot", "ground_truth", "Missing", "3.png")
	if err := os.Remove(mask); err != nil {
		t.Fatal(err)
	}
	_, err := Load("mad-real", root)
	wantLayoutErr(t, err, mask) // names the documented <stem>.png
}
