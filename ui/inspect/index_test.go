package inspect

import (
	"strings"
	"testing"
)

func TestParseIndex(t *testing.T) {
	const doc = `{"version":1,"items":[
		{"name":"pcb/test/missing/000.png","bundle":"pcb_test_missing_000.bundle.safetensors","mask":"masks/pcb_test_missing_000.mask.png"},
		{"bundle":"sub/b.bundle.safetensors"}]}`
	got, err := ParseIndex([]byte(doc), "http://127.0.0.1:8080/app/gallery/index.json")
	if err != nil {
		t.Fatal(err)
	}
	want := []IndexEntry{
		{Name: "pcb/test/missing/000.png",
			BundleURL: "http://127.0.0.1:8080/app/gallery/pcb_test_missing_000.bundle.safetensors",
			MaskURL:   "http://127.0.0.1:8080/app/gallery/masks/pcb_test_missing_000.mask.png"},
		{Name: "sub/b.bundle.safetensors", BundleURL: "http://127.0.0.1:8080/app/gallery/sub/b.bundle.safetensors"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestParseIndexErrors(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{`{`, "gallery index"},
		{`{"items":[]}`, "version 0"},
		{`{"version":2,"items":[]}`, "version 2"},
		{`{"version":1,"items":[{"name":"a"}]}`, "item 0 has no bundle"},
		{`{"version":1,"items":[{"bundle":"http://evil/x"}]}`, "leaves the folder"},
		{`{"version":1,"items":[{"bundle":"/etc/x"}]}`, "leaves the folder"},
		{`{"version":1,"items":[{"bundle":"../x"}]}`, "leaves the folder"},
		{`{"version":1,"items":[{"bundle":"a","mask":"//host/m.png"}]}`, "item 0: path"},
	} {
		_, err := ParseIndex([]byte(tc.doc), "http://h/gallery/index.json")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.doc, err, tc.want)
		}
	}
}
