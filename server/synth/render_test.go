package synth

import (
	"bytes"
	"image"
	"slices"
	"strings"
	"testing"
)

// TestDefectChangesOnlyInsideMask renders every product with every defect
// and without, from the same seed, and checks that the mask holds exactly
// the defect's footprint: every pixel that differs is inside the mask (no
// tolerance: outside it the pixels are the defect-free render's), the mask
// is 0/255 and non-empty, and the defect visibly changes its mask.
func TestDefectChangesOnlyInsideMask(t *testing.T) {
	for _, size := range []int{77, 128} {
		testDefectsInsideMask(t, size)
	}
}

func testDefectsInsideMask(t *testing.T, size int) {
	for _, p := range catalog() {
		for _, d := range p.Defects {
			for seed := uint64(1); seed <= 6; seed++ {
				good, goodMask, err := Render(p.Name, Good, size, seed)
				if err != nil {
					t.Fatal(err)
				}
				if n := countMask(t, goodMask); n != 0 {
					t.Fatalf("%s good seed %d: mask has %d pixels, want none", p.Name, seed, n)
				}
				bad, mask, err := Render(p.Name, d, size, seed)
				if err != nil {
					t.Fatal(err)
				}
				inMask := countMask(t, mask)
				if inMask == 0 {
					t.Errorf("%s/%s size %d seed %d: empty mask", p.Name, d, size, seed)
					continue
				}
				changed, outside := 0, 0
				for k := range size * size {
					if !bytes.Equal(good.Pix[4*k:4*k+4], bad.Pix[4*k:4*k+4]) {
						changed++
						if mask.Pix[k] == 0 {
							outside++
						}
					}
				}
				if outside > 0 {
					t.Errorf("%s/%s size %d seed %d: %d changed pixels outside the mask", p.Name, d, size, seed, outside)
				}
				// A warp moves texture that may be locally flat, so bent only
				// needs to change something; the others must change most of
				// their mask.
				min := inMask / 2
				if d == Bent {
					min = 1
				}
				if changed < min {
					t.Errorf("%s/%s size %d seed %d: %d of %d mask pixels changed, want at least %d", p.Name, d, size, seed, changed, inMask, min)
				}
			}
		}
	}
}

func countMask(t *testing.T, m *image.Gray) int {
	t.Helper()
	n := 0
	for _, v := range m.Pix {
		switch v {
		case 255:
			n++
		case 0:
		default:
			t.Fatalf("mask value %d, want 0 or 255", v)
		}
	}
	return n
}

func TestRenderDeterministicAndVaried(t *testing.T) {
	for _, p := range catalog() {
		a, am, err := Render(p.Name, p.Defects[0], 96, 7)
		if err != nil {
			t.Fatal(err)
		}
		b, bm, _ := Render(p.Name, p.Defects[0], 96, 7)
		if !bytes.Equal(a.Pix, b.Pix) || !bytes.Equal(am.Pix, bm.Pix) {
			t.Errorf("%s: two renders of one seed differ", p.Name)
		}
		// Normal images must differ from one another (pose, colour, light).
		g1, _, _ := Render(p.Name, Good, 96, 1)
		g2, _, _ := Render(p.Name, Good, 96, 2)
		diff := 0
		for i := range g1.Pix {
			if g1.Pix[i] != g2.Pix[i] {
				diff++
			}
		}
		if diff < len(g1.Pix)/2 {
			t.Errorf("%s: seeds 1 and 2 differ in %d of %d bytes", p.Name, diff, len(g1.Pix))
		}
		if a.Bounds() != image.Rect(0, 0, 96, 96) || am.Bounds() != a.Bounds() {
			t.Errorf("%s: bounds %v and mask %v, want 96x96", p.Name, a.Bounds(), am.Bounds())
		}
	}
}

func TestRenderErrors(t *testing.T) {
	for _, tc := range []struct {
		product, defect string
		size            int
		want            string
	}{
		{"gear", Good, 64, "unknown product"},
		{"wood", Crack, 64, "has no defect"},
		{"wood", "dent", 64, "has no defect"},
		{"pcb", Good, MinSize - 1, "outside"},
		{"pcb", Good, MaxSize + 1, "outside"},
	} {
		_, _, err := Render(tc.product, tc.defect, tc.size, 0)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Render(%q, %q, %d) error %v, want %q", tc.product, tc.defect, tc.size, err, tc.want)
		}
	}
}

// TestFamilies checks the shift between the families: disjoint products,
// and defects only B shows.
func TestFamilies(t *testing.T) {
	a, err := Products("a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Products(" B ")
	if err != nil {
		t.Fatal(err)
	}
	if len(a) < 3 || len(b) < 3 {
		t.Fatalf("%d products in A, %d in B, want at least 3 each", len(a), len(b))
	}
	for _, pa := range a {
		for _, pb := range b {
			if pa.Name == pb.Name {
				t.Errorf("product %s is in both families", pa.Name)
			}
		}
	}
	defectsOf := func(ps []Product) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Defects...)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	da, db := defectsOf(a), defectsOf(b)
	for _, d := range da {
		if !slices.Contains(db, d) {
			t.Errorf("defect %s of A is not in B", d)
		}
	}
	var onlyB []string
	for _, d := range db {
		if !slices.Contains(da, d) {
			onlyB = append(onlyB, d)
		}
	}
	if !slices.Equal(onlyB, []string{Bent, Crack, Missing}) {
		t.Errorf("defects only in B: %v, want [bent crack missing]", onlyB)
	}
	for _, dt := range DefectTypes() {
		wantFam := []string{FamilyA, FamilyB}
		if slices.Contains(onlyB, dt.Key) {
			wantFam = []string{FamilyB}
		}
		if !slices.Equal(dt.Families, wantFam) {
			t.Errorf("%s: families %v, want %v", dt.Key, dt.Families, wantFam)
		}
		if dt.Word != dt.Key || strings.ContainsAny(dt.Key, " /") {
			t.Errorf("%s: word %q; keys must be folder-safe words", dt.Key, dt.Word)
		}
	}
	if _, err := Products("C"); err == nil {
		t.Error("family C accepted")
	}
	if Word("faulty_imprint") != "faulty imprint" {
		t.Errorf("Word(faulty_imprint) = %q", Word("faulty_imprint"))
	}
}

func TestCounts(t *testing.T) {
	defects := []string{"a", "b", "c", "d"}
	for _, tc := range []struct {
		n, good int
		bad     []int
	}{
		{1, 0, []int{1, 0, 0, 0}},
		{2, 1, []int{1, 0, 0, 0}},
		{5, 2, []int{1, 1, 1, 0}},
		{10, 4, []int{2, 2, 1, 1}},
		{20, 8, []int{3, 3, 3, 3}},
	} {
		good, bad := Counts(tc.n, defects)
		total := good
		for i, d := range defects {
			total += bad[d]
			if bad[d] != tc.bad[i] {
				t.Errorf("n=%d: %s = %d, want %d", tc.n, d, bad[d], tc.bad[i])
			}
		}
		if good != tc.good || total != tc.n {
			t.Errorf("n=%d: good %d (want %d), total %d", tc.n, good, tc.good, total)
		}
	}
}

// TestSmallSizesKeepDefects: defects scale with the image, but never below
// a few pixels, so even the smallest images get a non-empty mask.
func TestSmallSizesKeepDefects(t *testing.T) {
	for _, size := range []int{MinSize, 45, 64} {
		for _, p := range catalog() {
			for _, d := range p.Defects {
				for seed := uint64(0); seed < 12; seed++ {
					_, mask, err := Render(p.Name, d, size, seed)
					if err != nil {
						t.Fatalf("%s/%s size %d seed %d: %v", p.Name, d, size, seed, err)
					}
					if countMask(t, mask) == 0 {
						t.Errorf("%s/%s size %d seed %d: empty mask", p.Name, d, size, seed)
					}
				}
			}
		}
	}
}
