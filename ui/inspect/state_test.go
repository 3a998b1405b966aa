package inspect

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"reflect"
	"testing"

	"dapo/shared/bundle"
	"dapo/shared/bundle/bundletest"
	"dapo/shared/safetensors"
	"dapo/wasm/scoreapi"
)

var small = bundletest.Shape{Grid: 4, Size: 32, E: 16, Classes: 4, Layers: 2, Width: 48, Height: 32}

// testItem makes an item from a random bundle, with a red JPEG thumbnail
// when withJPEG.
func testItem(t *testing.T, seed int64, name string, withJPEG bool) *Item {
	t.Helper()
	data, err := bundletest.RandomBundle(seed, small)
	if err != nil {
		t.Fatal(err)
	}
	if withJPEG {
		b, err := bundle.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		img := image.NewRGBA(image.Rect(0, 0, 24, 16))
		for i := 0; i < len(img.Pix); i += 4 {
			img.Pix[i], img.Pix[i+3] = 250, 255
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
			t.Fatal(err)
		}
		b.JPEG = buf.Bytes()
		if data, err = bundle.Encode(b, safetensors.F32); err != nil {
			t.Fatal(err)
		}
	}
	it, err := NewItem(name, name+BundleSuffix, data)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func TestSettingsOptions(t *testing.T) {
	it := testItem(t, 1, "a", false)
	s := DefaultSettings()
	o, err := s.Options(it)
	if err != nil || o.Subset != nil || o.PixelThreshold != nil || *o.ImageThreshold != 0.5 || *o.Alpha != 0 {
		t.Fatalf("defaults: %+v, %v", o, err)
	}
	s.PixelThreshold = 0.7
	s.Disabled["defect2"] = true
	o, err = s.Options(it)
	if err != nil || *o.PixelThreshold != 0.7 || !reflect.DeepEqual(o.Subset, []string{"defect1", "defect3"}) {
		t.Fatalf("threshold and subset: %+v, %v", o, err)
	}
	s.Disabled["defect1"], s.Disabled["defect3"] = true, true
	if _, err := s.Options(it); err == nil {
		t.Error("no error with every defect type off")
	}
}

func TestScoreMatchesScoreAPI(t *testing.T) {
	it := testItem(t, 2, "a", false)
	s := DefaultSettings()
	s.PixelThreshold = 0.9
	s.Disabled["defect1"] = true
	did, err := s.Score(it)
	if err != nil || !did {
		t.Fatalf("Score: %v, %v", did, err)
	}
	pt := 0.9
	want, err := scoreapi.Score(it.Bundle, scoreapi.Options{PixelThreshold: &pt, Subset: []string{"defect2", "defect3"}})
	if err != nil {
		t.Fatal(err)
	}
	r := it.Result
	if r.Score != want.Score || !reflect.DeepEqual(r.Mask, want.Mask) || !reflect.DeepEqual(r.DefectTypes, want.DefectTypes) {
		t.Errorf("item result differs from scoreapi: %v %v vs %v %v", r.Score, r.DefectTypes, want.Score, want.DefectTypes)
	}
	if did, _ := s.Score(it); did {
		t.Error("re-scored with unchanged settings")
	}
	s.PixelThreshold = 1.1
	if did, _ := s.Score(it); !did || it.Result.PixelThreshold != 1.1 {
		t.Errorf("not re-scored after a threshold change (did %v, threshold %v)", did, it.Result.PixelThreshold)
	}
}

func TestSorted(t *testing.T) {
	s := DefaultSettings()
	var items []*Item
	for i, n := range []string{"c", "a", "d", "b"} {
		it := testItem(t, int64(10+i), n, false)
		if n != "d" { // d stays unscored
			if _, err := s.Score(it); err != nil {
				t.Fatal(err)
			}
		}
		items = append(items, it)
	}
	got := Sorted(items)
	for i := 0; i < 2; i++ {
		if got[i].Result.Score < got[i+1].Result.Score {
			t.Errorf("position %d score %v < next %v", i, got[i].Result.Score, got[i+1].Result.Score)
		}
	}
	if got[3].Name != "d" || len(got) != 4 {
		t.Errorf("unscored item not last: %v", names(got))
	}
	if items[0].Name != "c" {
		t.Error("Sorted reordered its argument")
	}
	// Equal scores fall back to the name.
	x, y := &Item{Name: "y", Result: &scoreapi.Result{Score: 1}}, &Item{Name: "x", Result: &scoreapi.Result{Score: 1}}
	if got := Sorted([]*Item{x, y}); got[0].Name != "x" {
		t.Errorf("tie order %v", names(got))
	}
}

func names(items []*Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}

func TestSetGT(t *testing.T) {
	it := testItem(t, 3, "a", false)
	img := image.NewGray(image.Rect(0, 0, 64, 64)) // 2× the 32×32 map
	for y := 10; y < 30; y++ {
		for x := 20; x < 40; x++ {
			img.SetGray(x, y, color.Gray{Y: 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	if err := it.SetGT("a.mask.png", buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	if len(it.GT) != 32*32 || Count(it.GT) != 100 || it.GTName != "a.mask.png" {
		t.Errorf("GT: %d pixels, %d set (want 100), name %q", len(it.GT), Count(it.GT), it.GTName)
	}
}
