package gallery

import (
	"strings"
	"testing"
)

func TestRoundTripAndMerge(t *testing.T) {
	var ix Index
	if err := ix.Merge(Item{Name: "b.png", Bundle: "b.bundle.safetensors"}, Item{Name: "a.png", Bundle: "a.bundle.safetensors", Mask: "a.mask.png"}); err != nil {
		t.Fatal(err)
	}
	if err := ix.Merge(Item{Name: "b2.png", Bundle: "b.bundle.safetensors"}); err != nil {
		t.Fatal(err)
	}
	data, err := ix.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Items) != 2 || got.Items[0].Bundle != "a.bundle.safetensors" || got.Items[0].Mask != "a.mask.png" || got.Items[1].Name != "b2.png" {
		t.Fatalf("round trip: %+v", got.Items)
	}
}

func TestParseRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"version":  `{"version":2,"items":[]}`,
		"json":     `{"version":1,"items":[`,
		"nobundle": `{"version":1,"items":[{"name":"x"}]}`,
		"parent":   `{"version":1,"items":[{"bundle":"../x.bundle.safetensors"}]}`,
		"absolute": `{"version":1,"items":[{"bundle":"/etc/passwd"}]}`,
		"url":      `{"version":1,"items":[{"bundle":"https://example.com/x"}]}`,
		"mask":     `{"version":1,"items":[{"bundle":"x","mask":"a/../../y.png"}]}`,
	} {
		if _, err := Parse([]byte(doc)); err == nil || !strings.Contains(err.Error(), "gallery index") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"version":1,"items":[{"name":"a","bundle":"a.bundle.safetensors","mask":"a.mask.png"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ix, err := Parse(data)
		if err != nil {
			return
		}
		for _, it := range ix.Items {
			if !local(it.Bundle) || (it.Mask != "" && !local(it.Mask)) {
				t.Fatalf("accepted a path outside the folder: %+v", it)
			}
		}
	})
}
