package cli

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"dapo/server/dataset"
	"dapo/server/dataset/datasettest"
)

// TestDataSummaryJSON checks the JSON document against counts taken from
// the disk by an independent walk of mvtec-mini.
func TestDataSummaryJSON(t *testing.T) {
	root := datasettest.MVTecMini(t)
	out, err := runCLI(t, "data", "summary", "--format", "mvtec", "--root", root, "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var doc map[string]map[string]map[string]map[string]int
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("output is not {products: {product: {split: {defect: count}}}}: %v\n%s", err, out)
	}
	if len(doc) != 1 || doc["products"] == nil {
		t.Fatalf("top-level keys: %v, want only products", doc)
	}
	want := datasettest.WalkMVTec(t, root)
	got := doc["products"]
	if len(got) != len(want.Images) {
		t.Errorf("%d products, walk found %d", len(got), len(want.Images))
	}
	for product, splits := range want.Images {
		if len(got[product]) != len(splits) {
			t.Errorf("%s: splits %v, want %v", product, got[product], splits)
		}
		for split, keys := range splits {
			if len(got[product][split]) != len(keys) {
				t.Errorf("%s/%s: %v, want %v", product, split, got[product][split], keys)
			}
			for key, n := range keys {
				if got[product][split][key] != n {
					t.Errorf("%s/%s/%s = %d, want %d", product, split, key, got[product][split][key], n)
				}
			}
		}
	}
	for product, splits := range got {
		for split := range splits {
			if split != dataset.SplitTrain && split != dataset.SplitTest {
				t.Errorf("%s: split %q", product, split)
			}
		}
	}
}

func TestDataSummaryTable(t *testing.T) {
	root := datasettest.MVTecMini(t)
	out, err := runCLI(t, "data", "summary", "--format", "mvtec", "--root", root)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := datasettest.WalkMVTec(t, root)
	images, masks := 0, 0
	for product, splits := range want.Images {
		for _, keys := range splits {
			for _, n := range keys {
				images += n
			}
		}
		for _, n := range want.Masks[product] {
			masks += n
		}
	}
	if !strings.Contains(out, "PRODUCT") || !strings.Contains(out, "MASKS") {
		t.Errorf("no table header:\n%s", out)
	}
	if !strings.Contains(out, " "+strconv.Itoa(images)+" images") || !strings.Contains(out, " "+strconv.Itoa(masks)+" masks") {
		t.Errorf("totals do not say %d images, %d masks:\n%s", images, masks, out)
	}
	// One row per product/split/defect plus header, blank line and total.
	rows := 0
	for _, splits := range want.Images {
		for _, keys := range splits {
			rows += len(keys)
		}
	}
	if n := strings.Count(strings.TrimSpace(out), "\n") + 1; n != rows+3 {
		t.Errorf("%d lines, want %d:\n%s", n, rows+3, out)
	}
}

func TestDataSummaryErrors(t *testing.T) {
	if _, err := runCLI(t, "data", "summary", "--root", "x"); err == nil {
		t.Error("missing --format accepted")
	}
	if _, err := runCLI(t, "data", "summary", "--format", "nope", "--root", t.TempDir()); err == nil || !strings.Contains(err.Error(), "mvtec") {
		t.Errorf("unknown format: error %v should list the formats", err)
	}
	root := t.TempDir()
	_, err := runCLI(t, "data", "summary", "--format", "visa", "--root", root)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(root, "split_csv", "1cls.csv")) {
		t.Errorf("malformed layout: error %v should name 1cls.csv", err)
	}
	out, err := runCLI(t, "data", "summary", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range dataset.Formats() {
		if !strings.Contains(out, f.Name) {
			t.Errorf("help does not list format %s", f.Name)
		}
	}
}
