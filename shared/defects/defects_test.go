package defects

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestEmbeddedCopyMatchesTeamFolder keeps the embedded file a verbatim copy
// of the team folder's, so a vocabulary change there is not silently lost.
func TestEmbeddedCopyMatchesTeamFolder(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	var team string
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			team = filepath.Join(dir, "..", "shared", "docs", "defect-vocab.json")
			break
		}
		if filepath.Dir(dir) == dir {
			t.Fatal("no go.mod above the test")
		}
	}
	want, err := os.ReadFile(team)
	if err != nil {
		t.Skipf("team folder not beside the checkout: %v", err)
	}
	if !bytes.Equal(want, VocabJSON()) {
		t.Fatalf("shared/defects/defect-vocab.json differs from %s: copy it again", team)
	}
}

// TestTrainStatesSpec checks train.py's 20 states against spec §4.1.
func TestTrainStatesSpec(t *testing.T) {
	states, err := TrainStates("mvtec")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"bent", "broken", "discoloration", "compound", "contamination",
		"crack", "cut", "fabric", "faulty imprint", "gluing",
		"hole", "missing", "puncture", "rough", "scratch",
		"compressed", "threading", "liquid", "misaligned", "wear",
	}
	if !slices.Equal(states, want) {
		t.Fatalf("states = %q\nwant %q", states, want)
	}
	// Rows of the §4.1 folder table, including the screw quirk of §7.8.
	for folder, id := range map[string]int{
		"good": 0, "bent_lead": 1, "manipulated_front": 1, "broken_teeth": 2, "color": 3,
		"metal_contamination": 5, "cut_outer_insulation": 7, "print": 9, "glue_strip": 10,
		"missing_cable": 12, "poke_insulation": 13, "squeezed_teeth": 16, "oil": 18,
		"split_teeth": 19, "pill_type": 20,
	} {
		got, ok := TrainClass("mvtec", folder)
		if !ok || got != id {
			t.Errorf("TrainClass(mvtec, %s) = %d, %v; want %d", folder, got, ok, id)
		}
	}
	if _, ok := TrainClass("mvtec", "no_such_folder"); ok {
		t.Error("unknown folder mapped to a class")
	}
	if _, err := TrainStates("visa"); !errors.Is(err, ErrUnknownDataset) {
		t.Errorf("TrainStates(visa) error = %v, want ErrUnknownDataset (train.py is MVTec-only)", err)
	}
}

// TestMultiTypeSpec checks values quoted in spec §5.1 and §5.4.
func TestMultiTypeSpec(t *testing.T) {
	mpdd := map[string][]string{
		"bracket_black": {"good", "hole", "scratch"},
		"bracket_brown": {"good", "mismatch", "bent"},
		"bracket_white": {"good", "defective painting", "scratch"},
		"connector":     {"good", "mismatch"},
		"metal_plate":   {"good", "rust", "scratch"},
		"tubes":         {"good", "flattening"},
	}
	products, err := Products("mpdd")
	if err != nil {
		t.Fatal(err)
	}
	if len(products) != len(mpdd) {
		t.Errorf("mpdd products = %q, want the 6 of §5.4", products)
	}
	for p, want := range mpdd {
		got, err := ProductClasses("mpdd", p)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ProductClasses(mpdd, %s) = %q, %v; want %q", p, got, err, want)
		}
	}
	for _, c := range []struct {
		dataset, product string
		want             []string
	}{
		{"mvtec", "bottle", []string{"good", "broken", "contamination"}},
		{"mvtec", "cable", []string{"good", "bent", "misplaced", "combined", "cut", "missing", "poke"}},
		{"mvtec", "capsule", []string{"good", "crack", "faulty imprint", "poke", "scratch", "squeeze"}},
		{"mvtec", "screw", []string{"good", "fabric", "scratch", "thread"}},
		{"visa", "candle", []string{"normal", "damage", "weird wick", "partical", "melded", "spot", "extra", "missing"}},
		{"visa", "pcb2", []string{"normal", "scratch", "melt", "bent", "missing"}},
	} {
		got, err := ProductClasses(c.dataset, c.product)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ProductClasses(%s, %s) = %q, %v; want %q", c.dataset, c.product, got, err, c.want)
		}
	}
	visa, err := Classes("visa")
	if err != nil {
		t.Fatal(err)
	}
	wantVisa := []string{"normal", "damage", "scratch", "breakage", "burnt", "weird wick", "stuck", "crack",
		"wrong place", "partical", "bubble", "melded", "hole", "melt", "bent", "spot", "extra", "chip", "missing"}
	if !slices.Equal(visa, wantVisa) {
		t.Errorf("visa classes = %q\nwant %q", visa, wantVisa)
	}
	// §7.8: manipulated_front is "fabric" in multi-type scoring.
	for _, c := range []struct{ dataset, key, word string }{
		{"mvtec", "manipulated_front", "fabric"},
		{"mvtec", "bent_lead", "bent"},
		{"mvtec", "good", "good"},
		{"mvtec", "faulty imprint", "faulty imprint"},
		{"mpdd", "total_rust", "rust"},
		{"mpdd", "bend_and_parts_mismatch", "bent"},
		{"mad-sim", "Stains", "Stains"},
		{"mad-real", "missing", "Missing"},
		{"visa", "chip", "chip"},
		{"visa", "good", "normal"},
		{"visa", "chunk of wax missing", "missing"},
		{"visa", "Weird Candle Wick", "weird wick"},
		{"real-iad", "AK", "pit"},
		{"real-iad", "OK", "good"},
		{"real-iad", "foreign", "foreign"},
	} {
		got, ok := DefectWord(c.dataset, c.key)
		if !ok || got != c.word {
			t.Errorf("DefectWord(%s, %q) = %q, %v; want %q", c.dataset, c.key, got, ok, c.word)
		}
	}
	for _, c := range []struct{ dataset, key string }{
		{"visa", "scratch,chip"},  // several defects: no single word
		{"visa", "other"},         // VisA's catch-all label
		{"mvtec", "no_such"},      // unknown folder
		{"nosuchdataset", "bent"}, // unknown dataset
	} {
		if w, ok := DefectWord(c.dataset, c.key); ok {
			t.Errorf("DefectWord(%s, %q) = %q, want no word", c.dataset, c.key, w)
		}
	}
	if i, ok := ProductClassIndex("mvtec", "screw", "manipulated_front"); !ok || i != 1 {
		t.Errorf("ProductClassIndex(mvtec, screw, manipulated_front) = %d, %v; want 1", i, ok)
	}
	if i, ok := ProductClassIndex("mad-sim", "Unicorn", "Missing"); !ok || i != 3 {
		t.Errorf("ProductClassIndex(mad-sim, Unicorn, Missing) = %d, %v; want 3", i, ok)
	}
}

func TestTestWords(t *testing.T) {
	words, err := TestWords("mvtec")
	if err != nil {
		t.Fatal(err)
	}
	// §7.2: test.py's MVTec words differ from the training states.
	if len(words) != 20 || words[2] != "color" || words[19] != "damaged" {
		t.Errorf("mvtec test words = %q", words)
	}
	words[0] = "mutated"
	if again, _ := TestWords("mvtec"); again[0] != "bent" {
		t.Error("TestWords returned the shared slice")
	}
	if w, err := TestWords("MAD-Sim"); err != nil || !slices.Equal(w, []string{"missing", "stains", "burrs"}) {
		t.Errorf("TestWords(MAD-Sim) = %q, %v", w, err)
	}
	_, err = TestWords("nope")
	if !errors.Is(err, ErrUnknownDataset) || !strings.Contains(err.Error(), "mvtec") {
		t.Errorf("TestWords(nope) error = %v; want ErrUnknownDataset listing known datasets", err)
	}
	if _, err := ProductClasses("mvtec", "nope"); !errors.Is(err, ErrUnknownProduct) {
		t.Errorf("ProductClasses(mvtec, nope) error = %v; want ErrUnknownProduct", err)
	}
	ds := Datasets()
	for _, want := range []string{"asic", "mad-real", "mad-sim", "mpdd", "mvtec", "mvtec_loco", "real-iad", "visa"} {
		if !slices.Contains(ds, want) {
			t.Errorf("Datasets() = %q lacks %q", ds, want)
		}
	}
	if !slices.IsSorted(ds) {
		t.Errorf("Datasets() not sorted: %q", ds)
	}
}

// TestConsistency checks the raw file independently of Parse's own checks:
// every folder maps into the class list, every product list is made of
// known classes, every test-word list is non-empty.
func TestConsistency(t *testing.T) {
	var raw struct {
		Train map[string]struct {
			States        []string       `json:"states"`
			FolderToClass map[string]int `json:"folder_to_class"`
		} `json:"train"`
		TestWords map[string][]string `json:"test_words"`
		Multitype map[string]struct {
			FolderToClass map[string]int      `json:"folder_to_class"`
			LabelToClass  map[string]int      `json:"label_to_class"`
			Classes       []string            `json:"classes"`
			Products      map[string][]string `json:"products"`
		} `json:"multitype"`
	}
	if err := json.Unmarshal(VocabJSON(), &raw); err != nil {
		t.Fatal(err)
	}
	for ds, tr := range raw.Train {
		seen := map[int]bool{}
		for f, id := range tr.FolderToClass {
			if id < 0 || id > len(tr.States) {
				t.Errorf("train %s: %s → %d out of range", ds, f, id)
			}
			seen[id] = true
		}
		for id := 0; id <= len(tr.States); id++ {
			if !seen[id] {
				t.Errorf("train %s: class %d has no folder", ds, id)
			}
		}
	}
	for ds, m := range raw.Multitype {
		keys := m.FolderToClass
		if keys == nil {
			keys = m.LabelToClass
		}
		if len(keys) == 0 {
			t.Errorf("multitype %s: no folder or label map", ds)
		}
		for k, id := range keys {
			if id < 0 || id >= len(m.Classes) {
				t.Errorf("multitype %s: %s → %d out of range", ds, k, id)
				continue
			}
			if w, ok := DefectWord(ds, k); !ok || w != m.Classes[id] {
				t.Errorf("DefectWord(%s, %s) = %q, %v; want %q", ds, k, w, ok, m.Classes[id])
			}
		}
		for p, list := range m.Products {
			for i, w := range list {
				if !slices.Contains(m.Classes, w) {
					t.Errorf("multitype %s: product %s lists unknown class %q", ds, p, w)
				}
				if i == 0 && w != m.Classes[0] {
					t.Errorf("multitype %s: product %s starts with %q", ds, p, w)
				}
			}
		}
	}
	for ds, w := range raw.TestWords {
		if len(w) == 0 {
			t.Errorf("test_words %s empty", ds)
		}
	}
}

// TestAliasesResolve checks every alias lands on a class of its dataset.
func TestAliasesResolve(t *testing.T) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(aliasJSON), &raw); err != nil {
		t.Fatal(err)
	}
	for ds, body := range raw {
		if ds == "about" {
			continue
		}
		var m map[string]string
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		for from, to := range m {
			if got, ok := Alias(ds, from); !ok || got != to {
				t.Errorf("Alias(%s, %q) = %q, %v; want %q", ds, from, got, ok, to)
			}
			if _, ok := DefectWord(ds, from); !ok {
				t.Errorf("alias %s %q has no defect word", ds, from)
			}
		}
	}
}

func TestParseRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"syntax":         `{"train":`,
		"id range":       `{"multitype":{"x":{"folder_to_class":{"good":0,"a":5},"classes":["good","a"]}}}`,
		"product head":   `{"multitype":{"x":{"folder_to_class":{"good":0,"a":1},"classes":["good","a"],"products":{"p":["a"]}}}}`,
		"product class":  `{"multitype":{"x":{"folder_to_class":{"good":0,"a":1},"classes":["good","a"],"products":{"p":["good","b"]}}}}`,
		"collision":      `{"multitype":{"x":{"folder_to_class":{"good":0,"a_b":1,"a b":2},"classes":["good","a","b"]}}}`,
		"train range":    `{"train":{"x":{"states":["a"],"folder_to_class":{"good":0,"a":2}}}}`,
		"no states":      `{"train":{"x":{"states":[],"folder_to_class":{}}}}`,
		"empty words":    `{"test_words":{"x":[]}}`,
		"one class only": `{"multitype":{"x":{"folder_to_class":{"good":0},"classes":["good"]}}}`,
	} {
		if _, err := Parse([]byte(doc), nil); err == nil {
			t.Errorf("%s: Parse accepted %s", name, doc)
		}
	}
	base := `{"multitype":{"x":{"folder_to_class":{"good":0,"a":1},"classes":["good","a"]}}}`
	if _, err := Parse([]byte(base), []byte(`{"x":{"raw":"zzz"}}`)); err == nil {
		t.Error("Parse accepted an alias to no key")
	}
	if _, err := Parse([]byte(base), []byte(`{"y":{"raw":"a"}}`)); !errors.Is(err, ErrUnknownDataset) {
		t.Errorf("alias for unknown dataset: error = %v", err)
	}
	v, err := Parse([]byte(base), []byte(`{"x":{"Raw Label":"a"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if w, ok := v.DefectWord("x", "raw_label"); !ok || w != "a" {
		t.Errorf("alias lookup = %q, %v", w, ok)
	}
}
