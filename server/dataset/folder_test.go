package dataset

import (
	"path/filepath"
	"testing"
)

func TestFolderFixture(t *testing.T) {
	root := filepath.Join(t.TempDir(), "gearbox")
	writePNG(t, filepath.Join(root, "good", "a.png"), 1)
	writePNG(t, filepath.Join(root, "good", "b.jpeg"), 1)
	writePNG(t, filepath.Join(root, "scratch", "c.png"), 1)
	writePNG(t, filepath.Join(root, "masks", "scratch", "c.png"), 255)
	writePNG(t, filepath.Join(root, "scratch", "d.png"), 1)
	writePNG(t, filepath.Join(root, "scratch", "d_mask.png"), 255)
	writePNG(t, filepath.Join(root, "dent", "e.bmp"), 1)
	writePNG(t, filepath.Join(root, "masks", "dent", "e_mask.png"), 255)
	writePNG(t, filepath.Join(root, "dent", "f.tif"), 1) // no mask: allowed
	writePNG(t, filepath.Join(root, "loose.png"), 1)     // not in a sub-folder: ignored
	writeText(t, filepath.Join(root, "dent", "notes.md"), "x")
	d := load(t, "folder", root)
	want := []itemRow{
		{"dent/e.bmp", "masks/dent/e_mask.png", "gearbox", "dent", true, "test"},
		{"dent/f.tif", "", "gearbox", "dent", true, "test"},
		{"good/a.png", "", "gearbox", "good", false, "test"},
		{"good/b.jpeg", "", "gearbox", "good", false, "test"},
		{"scratch/c.png", "masks/scratch/c.png", "gearbox", "scratch", true, "test"},
		{"scratch/d.png", "scratch/d_mask.png", "gearbox", "scratch", true, "test"},
	}
	compareRows(t, rows(t, d), want)
}

func TestFolderMalformed(t *testing.T) {
	root := t.TempDir()
	writePNG(t, filepath.Join(root, "loose.png"), 1)
	writeText(t, filepath.Join(root, "good", "readme.txt"), "x")
	_, err := Load("folder", root)
	wantLayoutErr(t, err, root)
}
