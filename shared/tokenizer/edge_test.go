package tokenizer

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// TestPythonEdgeCases compares with testdata/edge_cases.json, written by
// testdata/gen_edge_cases.py from open_clip's tokenizer code under CPython
// and the regex module: HTML references, Python-only whitespace, final
// sigma, IGNORECASE quirks and scripts the golden set does not cover.
func TestPythonEdgeCases(t *testing.T) {
	b, err := os.ReadFile("testdata/edge_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []struct {
			Text    string   `json:"text"`
			Cleaned string   `json:"cleaned"`
			Pieces  []string `json:"pieces"`
			IDs     []int    `json:"ids"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("parse edge_cases.json: %v", err)
	}
	tok, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range doc.Cases {
		if got := clean(c.Text); got != c.Cleaned {
			t.Errorf("clean(%q) = %q, want %q", c.Text, got, c.Cleaned)
		}
		if got := tok.Encode(c.Text); !slices.Equal(got, c.IDs) {
			t.Errorf("Encode(%q):\n got %v\nwant %v", c.Text, got, c.IDs)
		}
		if got := tok.Pieces(c.Text); !slices.Equal(got, c.Pieces) {
			t.Errorf("Pieces(%q):\n got %q\nwant %q", c.Text, got, c.Pieces)
		}
	}
}
