package hub

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"dapo/shared/golden"
)

func goldenBackbone(t *testing.T) string {
	t.Helper()
	dir, err := golden.DefaultDir()
	if err != nil {
		t.Skip(err)
	}
	p := filepath.Join(dir, "backbone.safetensors")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("golden backbone not available: %v", err)
	}
	return p
}

// TestInspectGolden derives the expectations from the file's own header,
// decoded here with encoding/json rather than the project's reader.
func TestInspectGolden(t *testing.T) {
	path := goldenBackbone(t)
	raw := readFile(t, path)
	n := binary.LittleEndian.Uint64(raw[:8])
	var header map[string]json.RawMessage
	if err := json.Unmarshal(raw[8:8+n], &header); err != nil {
		t.Fatal(err)
	}
	var wantMeta map[string]string
	json.Unmarshal(header["__metadata__"], &wantMeta)
	delete(header, "__metadata__")
	var names []string
	var wantElems, wantBytes int64
	wantShapes := map[string][]int{}
	wantDTypes := map[string]string{}
	for name, msg := range header {
		var e struct {
			DType       string  `json:"dtype"`
			Shape       []int   `json:"shape"`
			DataOffsets []int64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(msg, &e); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
		el := int64(1)
		for _, d := range e.Shape {
			el *= int64(d)
		}
		wantElems += el
		wantBytes += e.DataOffsets[1] - e.DataOffsets[0]
		if e.Shape == nil {
			e.Shape = []int{}
		}
		wantShapes[name], wantDTypes[name] = e.Shape, e.DType
	}
	sort.Strings(names)

	inv, err := Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Tensors) != len(names) || inv.TotalElements != wantElems || inv.TotalBytes != wantBytes {
		t.Fatalf("%d tensors, %d elements, %d bytes; want %d, %d, %d", len(inv.Tensors), inv.TotalElements, inv.TotalBytes, len(names), wantElems, wantBytes)
	}
	for i, ti := range inv.Tensors {
		if ti.Name != names[i] || ti.DType != wantDTypes[ti.Name] || !reflect.DeepEqual(ti.Shape, wantShapes[ti.Name]) {
			t.Errorf("tensor %d: %+v", i, ti)
		}
	}
	if !reflect.DeepEqual(inv.Metadata, wantMeta) || len(wantMeta) == 0 {
		t.Errorf("metadata %v, want %v", inv.Metadata, wantMeta)
	}
	var sum int64
	for _, b := range inv.BytesByDType {
		sum += b
	}
	if sum != wantBytes {
		t.Errorf("bytes by dtype sum to %d, want %d", sum, wantBytes)
	}

	// The JSON form has the documented keys.
	js, _ := json.Marshal(inv)
	var obj map[string]json.RawMessage
	json.Unmarshal(js, &obj)
	for _, k := range []string{"file", "metadata", "tensors", "total_elements", "total_bytes"} {
		if _, ok := obj[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}

	var text bytes.Buffer
	if err := inv.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"visual.conv1.weight", "logit_scale", "tensors: " + strconv.Itoa(len(names)), "parameters: " + strconv.FormatInt(wantElems, 10), "producer:"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text output lacks %q:\n%s", s, text.String())
		}
	}
}

func TestInspectCorrupt(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	hdr := func(h string) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
		return append(b, h...)
	}
	for name, c := range map[string]struct {
		content []byte
		want    string
	}{
		"empty":     {nil, "shorter than"},
		"text":      {[]byte("not a safetensors file at all"), "exceeds"},
		"bad json":  {hdr("{oops"), "not a JSON object"},
		"truncated": {hdr(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`), "truncated"},
	} {
		t.Run(name, func(t *testing.T) {
			p := write(strings.ReplaceAll(name, " ", "_"), c.content)
			_, err := Inspect(p)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	if _, err := Inspect(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := Inspect(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("directory: %v", err)
	}
}
