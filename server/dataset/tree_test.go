package dataset

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"dapo/server/dataset/datasettest"
	"dapo/shared/defects"
)

// TestMVTecMini loads the real MVTec sample and compares with counts taken
// from the disk by an independent walk.
func TestMVTecMini(t *testing.T) {
	root := datasettest.MVTecMini(t)
	d := load(t, "mvtec", root)
	want := datasettest.WalkMVTec(t, root)
	if len(want.Images) == 0 {
		t.Fatal("walk found no images")
	}
	got := d.Counts()
	if len(got) != len(want.Images) {
		t.Errorf("products %q, walk found %d", d.Products(), len(want.Images))
	}
	total := 0
	for product, splits := range want.Images {
		for split, keys := range splits {
			for defect, n := range keys {
				total += n
				c := got[product][split][defect]
				if c.Images != n {
					t.Errorf("%s/%s/%s: %d images, walk found %d", product, split, defect, c.Images, n)
				}
				wantMasks := 0
				if defect != "good" {
					wantMasks = want.Masks[product][defect]
					if c.Anomalous != n {
						t.Errorf("%s/%s/%s: %d anomalous of %d", product, split, defect, c.Anomalous, n)
					}
				}
				if c.Masks != wantMasks {
					t.Errorf("%s/%s/%s: %d masks, walk found %d", product, split, defect, c.Masks, wantMasks)
				}
			}
		}
		for split, keys := range got[product] {
			for defect := range keys {
				if _, ok := want.Images[product][split][defect]; !ok {
					t.Errorf("loader invented %s/%s/%s", product, split, defect)
				}
			}
		}
	}
	if len(d.Items) != total {
		t.Errorf("%d items, walk found %d images", len(d.Items), total)
	}
	for _, it := range d.Items {
		if it.Anomalous {
			wantMask := filepath.Join(root, it.Product, "ground_truth", it.DefectKey,
				strings.TrimSuffix(filepath.Base(it.ImagePath), ".png")+"_mask.png")
			if it.MaskPath != wantMask {
				t.Errorf("%s: mask %s, want %s", it.ImagePath, it.MaskPath, wantMask)
			}
		}
		// Every MVTec folder must have a defect word for multi-type scoring.
		if _, ok := defects.DefectWord("mvtec", it.DefectKey); !ok {
			t.Errorf("defect folder %q has no vocabulary word", it.DefectKey)
		}
		if _, err := os.Stat(it.ImagePath); err != nil {
			t.Error(err)
		}
	}
	if !slices.IsSortedFunc(d.Items, func(a, b Item) int {
		return cmpStrings(a.Product, b.Product, a.Split, b.Split, a.DefectKey, b.DefectKey, a.ImagePath, b.ImagePath)
	}) {
		t.Error("items not sorted")
	}
	again := load(t, "mvtec", root)
	if !reflect.DeepEqual(d.Items, again.Items) {
		t.Error("two loads differ")
	}
}

// mvtecFixture writes a two-product MVTec tree with noise files a real
// release has (license.txt, readme.txt) and some it might (.DS_Store).
func mvtecFixture(t *testing.T) string {
	root := t.TempDir()
	writeText(t, filepath.Join(root, "license.txt"), "licence")
	for _, p := range []string{"widget", "bolt"} {
		writeText(t, filepath.Join(root, p, "readme.txt"), "readme")
		writePNG(t, filepath.Join(root, p, "train", "good", "000.png"), 10)
		writePNG(t, filepath.Join(root, p, "train", "good", "001.PNG"), 10)
		writePNG(t, filepath.Join(root, p, "test", "good", "000.png"), 10)
		writePNG(t, filepath.Join(root, p, "test", "scratch_head", "000.png"), 200)
		writePNG(t, filepath.Join(root, p, "ground_truth", "scratch_head", "000_mask.png"), 255)
		writeText(t, filepath.Join(root, p, "test", "scratch_head", "notes.txt"), "not an image")
		writeText(t, filepath.Join(root, p, "test", "good", ".DS_Store"), "")
	}
	writePNG(t, filepath.Join(root, "bolt", "test", "thread_top", "003.jpg"), 90)
	writePNG(t, filepath.Join(root, "bolt", "ground_truth", "thread_top", "003_mask.png"), 255)
	return root
}

func TestMVTecFixture(t *testing.T) {
	root := mvtecFixture(t)
	d := load(t, "mvtec", root)
	want := []itemRow{
		{"bolt/test/good/000.png", "", "bolt", "good", false, "test"},
		{"bolt/test/scratch_head/000.png", "bolt/ground_truth/scratch_head/000_mask.png", "bolt", "scratch_head", true, "test"},
		{"bolt/test/thread_top/003.jpg", "bolt/ground_truth/thread_top/003_mask.png", "bolt", "thread_top", true, "test"},
		{"bolt/train/good/000.png", "", "bolt", "good", false, "train"},
		{"bolt/train/good/001.PNG", "", "bolt", "good", false, "train"},
		{"widget/test/good/000.png", "", "widget", "good", false, "test"},
		{"widget/test/scratch_head/000.png", "widget/ground_truth/scratch_head/000_mask.png", "widget", "scratch_head", true, "test"},
		{"widget/train/good/000.png", "", "widget", "good", false, "train"},
		{"widget/train/good/001.PNG", "", "widget", "good", false, "train"},
	}
	compareRows(t, rows(t, d), want)
	if d.Format != "mvtec" || d.Root != root {
		t.Errorf("Format %q Root %q", d.Format, d.Root)
	}

	// One product folder given directly is read as that product.
	one := load(t, "MVTec", filepath.Join(root, "widget"))
	if p := one.Products(); !slices.Equal(p, []string{"widget"}) || len(one.Items) != 4 {
		t.Errorf("single product: products %q, %d items", p, len(one.Items))
	}
}

func TestMPDDFixture(t *testing.T) {
	root := t.TempDir()
	writePNG(t, filepath.Join(root, "metal_plate", "train", "good", "000.png"), 1)
	writePNG(t, filepath.Join(root, "metal_plate", "test", "good", "000.png"), 1)
	writePNG(t, filepath.Join(root, "metal_plate", "test", "total_rust", "000.png"), 1)
	writePNG(t, filepath.Join(root, "metal_plate", "ground_truth", "total_rust", "000_mask.png"), 255)
	writePNG(t, filepath.Join(root, "tubes", "test", "flattening", "007.png"), 1)
	writePNG(t, filepath.Join(root, "tubes", "ground_truth", "flattening", "007_mask.png"), 255)
	d := load(t, "mpdd", root)
	want := []itemRow{
		{"metal_plate/test/good/000.png", "", "metal_plate", "good", false, "test"},
		{"metal_plate/test/total_rust/000.png", "metal_plate/ground_truth/total_rust/000_mask.png", "metal_plate", "total_rust", true, "test"},
		{"metal_plate/train/good/000.png", "", "metal_plate", "good", false, "train"},
		{"tubes/test/flattening/007.png", "tubes/ground_truth/flattening/007_mask.png", "tubes", "flattening", true, "test"},
	}
	compareRows(t, rows(t, d), want)
	for _, it := range d.Items {
		if i, ok := defects.ProductClassIndex("mpdd", it.Product, it.DefectKey); !ok || (i == 0) == it.Anomalous {
			t.Errorf("%s: product class index %d, %v", it.ImagePath, i, ok)
		}
	}
}

func TestTreeMalformed(t *testing.T) {
	t.Run("missing mask", func(t *testing.T) {
		root := mvtecFixture(t)
		mask := filepath.Join(root, "widget", "ground_truth", "scratch_head", "000_mask.png")
		if err := os.Remove(mask); err != nil {
			t.Fatal(err)
		}
		_, err := Load("mvtec", root)
		wantLayoutErr(t, err, mask)
	})
	t.Run("missing ground_truth folder", func(t *testing.T) {
		root := mvtecFixture(t)
		if err := os.RemoveAll(filepath.Join(root, "bolt", "ground_truth")); err != nil {
			t.Fatal(err)
		}
		_, err := Load("mpdd", root)
		wantLayoutErr(t, err, filepath.Join(root, "bolt", "ground_truth", "scratch_head", "000_mask.png"))
	})
	t.Run("product without test", func(t *testing.T) {
		root := mvtecFixture(t)
		writePNG(t, filepath.Join(root, "stray", "train", "good", "0.png"), 1)
		_, err := Load("mvtec", root)
		wantLayoutErr(t, err, filepath.Join(root, "stray", "test"))
	})
	t.Run("no products", func(t *testing.T) {
		root := t.TempDir()
		writeText(t, filepath.Join(root, "readme.txt"), "x")
		_, err := Load("mvtec", root)
		wantLayoutErr(t, err, root)
	})
	t.Run("missing root", func(t *testing.T) {
		root := filepath.Join(t.TempDir(), "absent")
		_, err := Load("mad-sim", root)
		wantLayoutErr(t, err, root)
	})
}
