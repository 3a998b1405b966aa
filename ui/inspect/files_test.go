package inspect

import (
	"strings"
	"testing"
)

func TestClassifyAndStem(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind Kind
		stem string
	}{
		{"pcb_000.bundle.safetensors", KindBundle, "pcb_000"},
		{"X.SAFETENSORS", KindBundle, "X"},
		{"dir/000.mask.png", KindMask, "000.mask"},
		{"000_mask.PNG", KindMask, "000_mask"},
		{"000.png", KindImage, "000"},
		{"photo.JPeG", KindImage, "photo"},
		{".mask.png", KindImage, ".mask"}, // no stem: just a PNG
		{"notes.txt", KindUnknown, "notes.txt"},
	} {
		if k := Classify(tc.name); k != tc.kind {
			t.Errorf("Classify(%q) = %v, want %v", tc.name, k, tc.kind)
		}
		if s := Stem(tc.name); s != tc.stem {
			t.Errorf("Stem(%q) = %q, want %q", tc.name, s, tc.stem)
		}
	}
}

func TestMatchMask(t *testing.T) {
	items := []*Item{
		{Name: "pcb/test/missing/000.png", BundleName: "pcb_test_missing_000.bundle.safetensors"},
		{Name: "washer/test/hole/000.png", BundleName: "w0.bundle.safetensors"},
		{Name: "stone.png", BundleName: "stone.bundle.safetensors"},
	}
	for _, tc := range []struct {
		mask string
		want int
		err  string
	}{
		{"pcb_test_missing_000.mask.png", 0, ""}, // bundle stem / flattened path
		{"washer_test_hole_000_mask.png", 1, ""}, // flattened path
		{"W0.mask.png", 1, ""},                   // bundle stem, any case
		{"stone_mask.png", 2, ""},                // name stem
		{"000_mask.png", -1, "matches both"},     // two products' 000.png
		{"other.mask.png", -1, "no loaded item"}, // nothing
		{"stone.png", -1, "not a mask name"},     // not a mask
	} {
		got, err := MatchMask(tc.mask, items)
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("MatchMask(%q) = %d, %v; want %d, error %q", tc.mask, got, err, tc.want, tc.err)
		}
	}
}
