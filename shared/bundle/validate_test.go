package bundle

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"dapo/shared/safetensors"
)

// edit describes how to corrupt a valid bundle's file: its metadata JSON,
// its tensor list, or the metadata map itself.
type edit struct {
	meta    func(m map[string]any)
	tensors func(ts []safetensors.Tensor) []safetensors.Tensor
	md      func(md map[string]string)
}

// rawFile writes b with edits applied, bypassing Encode's validation.
func rawFile(t *testing.T, b *Bundle, ed edit) []byte {
	t.Helper()
	js, _ := json.Marshal(b.Meta)
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	if ed.meta != nil {
		ed.meta(m)
	}
	js, _ = json.Marshal(m)
	md := map[string]string{MetadataKey: string(js)}
	if ed.md != nil {
		ed.md(md)
	}
	f, err := safetensors.Parse(mustEncode(t, b, safetensors.F32))
	if err != nil {
		t.Fatal(err)
	}
	var ts []safetensors.Tensor
	for _, n := range f.Names() {
		raw, info, _ := f.Raw(n)
		ts = append(ts, safetensors.Tensor{Name: n, DType: info.DType, Shape: info.Shape, Data: raw})
	}
	if ed.tensors != nil {
		ts = ed.tensors(ts)
	}
	var sb strings.Builder
	if err := safetensors.Write(&sb, ts, md); err != nil {
		t.Fatal(err)
	}
	return []byte(sb.String())
}

func drop(name string) func([]safetensors.Tensor) []safetensors.Tensor {
	return func(ts []safetensors.Tensor) []safetensors.Tensor {
		var out []safetensors.Tensor
		for _, x := range ts {
			if x.Name != name {
				out = append(out, x)
			}
		}
		return out
	}
}

func replace(t safetensors.Tensor) func([]safetensors.Tensor) []safetensors.Tensor {
	return func(ts []safetensors.Tensor) []safetensors.Tensor { return append(drop(t.Name)(ts), t) }
}

func set(key string, v any) func(map[string]any) {
	return func(m map[string]any) { m[key] = v }
}

func TestDecodeRejects(t *testing.T) {
	b := testBundle(8, 2, 2, 3, 7)
	const e, g2 = 8, 4
	nanLayer := append([]float32{}, b.Layers[1]...)
	nanLayer[5] = float32(math.NaN())
	infText := make([]float32, 3*e)
	infText[9] = float32(math.Inf(-1))
	f16Inf := safetensors.FromFloat32(LayerName(0), []int{g2, e}, b.Layers[0], safetensors.F16)
	binary.LittleEndian.PutUint16(f16Inf.Data[6:], 0x7c00)
	unnorm := append([]float32{}, b.Global...)
	unnorm[0] += 0.5
	cases := []struct {
		name string
		ed   edit
		want string
	}{
		{"no dapo key", edit{md: func(md map[string]string) { delete(md, MetadataKey); md["x"] = "y" }}, `no "dapo" metadata key`},
		{"extra key", edit{md: func(md map[string]string) { md["extra"] = "1" }}, "metadata has 2 keys"},
		{"not json", edit{md: func(md map[string]string) { md[MetadataKey] = "{oops" }}, "not a JSON object"},
		{"format", edit{meta: set("format", "other")}, `format "other"`},
		{"version form", edit{meta: set("version", "1")}, "not major.minor"},
		{"version sign", edit{meta: set("version", "+1.0")}, "not major.minor"},
		{"major", edit{meta: set("version", "2.0")}, "unsupported major version 2"},
		{"major zero", edit{meta: set("version", "0.9")}, "unsupported major version 0"},
		{"unknown field same minor", edit{meta: set("extra", 1)}, `unknown field "extra"`},
		{"unexpected tensor", edit{tensors: replace(safetensors.FromFloat32("layer.2", []int{g2, e}, b.Layers[0], safetensors.F32))}, `unexpected tensor "layer.2"`},
		{"backbone id", edit{meta: set("backbone", map[string]any{"name": "x"})}, "backbone.id"},
		{"checkpoint id", edit{meta: set("checkpoint", map[string]any{})}, "checkpoint.id"},
		{"grid 0", edit{meta: set("grid", 0)}, "grid 0 < 1"},
		{"size < grid", edit{meta: set("image_size", 1)}, "image_size 1"},
		{"size cap", edit{meta: set("image_size", MaxImageSize+1)}, "image_size"},
		{"no layers", edit{meta: set("feature_layers", []int{})}, "feature_layers has 0"},
		{"layer 0", edit{meta: set("feature_layers", []int{0, 3})}, "feature_layers[0] = 0"},
		{"layer dup", edit{meta: set("feature_layers", []int{3, 3})}, "feature_layers[1] = 3"},
		{"one class", edit{meta: set("classes", []string{"normal"})}, "classes has 1"},
		{"first class", edit{meta: set("classes", []string{"good", "a", "b"})}, `classes[0] = "good"`},
		{"dup class", edit{meta: set("classes", []string{"normal", "a", "a"})}, `classes[2] = "a"`},
		{"temperature", edit{meta: set("temperature", 0)}, "temperature"},
		{"image size", edit{meta: set("image", map[string]any{"name": "a", "width": 0, "height": 3})}, "image width"},
		{"missing global", edit{tensors: drop(GlobalName)}, `missing tensor "global"`},
		{"missing layer", edit{tensors: drop("layer.1")}, `missing tensor "layer.1"`},
		{"missing text", edit{tensors: drop(TextName)}, `missing tensor "text"`},
		{"global rank", edit{tensors: replace(safetensors.FromFloat32(GlobalName, []int{1, e}, b.Global, safetensors.F32))}, `tensor "global": shape [1 8], want rank 1`},
		{"global dtype", edit{tensors: replace(safetensors.FromFloat32(GlobalName, []int{e}, b.Global, safetensors.BF16))}, `tensor "global": dtype BF16`},
		{"global empty", edit{tensors: replace(safetensors.Tensor{Name: GlobalName, DType: safetensors.F32, Shape: []int{0}})}, "embedding width 0"},
		{"layer shape", edit{tensors: replace(safetensors.FromFloat32("layer.0", []int{e, g2}, b.Layers[0], safetensors.F32))}, `tensor "layer.0": shape [8 4], want [4 8]`},
		{"layer dtype", edit{tensors: replace(safetensors.FromInt64("layer.0", []int{g2, e}, make([]int64, g2*e)))}, `tensor "layer.0": dtype I64`},
		{"text rows", edit{tensors: replace(safetensors.FromFloat32(TextName, []int{2, e}, flatten(b.Text[:2]), safetensors.F32))}, `tensor "text": shape [2 8], want [3 8]`},
		{"nan layer", edit{tensors: replace(safetensors.FromFloat32("layer.1", []int{g2, e}, nanLayer, safetensors.F32))}, `tensor "layer.1": element 5 is NaN`},
		{"inf f16 layer", edit{tensors: replace(f16Inf)}, `tensor "layer.0": element 3 is NaN or Inf`},
		{"inf text", edit{tensors: replace(safetensors.FromFloat32(TextName, []int{3, e}, infText, safetensors.F32))}, `tensor "text": element 9`},
		{"global norm", edit{tensors: replace(safetensors.FromFloat32(GlobalName, []int{e}, unnorm, safetensors.F32))}, `tensor "global" has L2 norm`},
		{"jpeg dtype", edit{tensors: replace(safetensors.FromFloat32(JPEGName, []int{2}, []float32{1, 2}, safetensors.F32))}, `tensor "image_jpeg": dtype F32`},
		{"jpeg marker", edit{tensors: replace(safetensors.Tensor{Name: JPEGName, DType: safetensors.U8, Shape: []int{3}, Data: []byte{1, 2, 3}})}, `"image_jpeg": not a JPEG`},
		{"jpeg rank", edit{tensors: replace(safetensors.Tensor{Name: JPEGName, DType: safetensors.U8, Shape: []int{1, 2}, Data: []byte{0xFF, 0xD8}})}, `"image_jpeg": shape [1 2]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(rawFile(t, b, tc.ed))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestDecodeCorrupt(t *testing.T) {
	data := mustEncode(t, testBundle(8, 2, 2, 3, 8), safetensors.F16)
	for _, n := range []int{0, 7, 8, 20, len(data) / 2, len(data) - 1} {
		if _, err := Decode(data[:n]); err == nil || !strings.HasPrefix(err.Error(), "bundle: decode: safetensors:") {
			t.Errorf("truncated to %d bytes: error %v", n, err)
		}
	}
	bad := append([]byte{}, data...)
	binary.LittleEndian.PutUint64(bad, 1<<62)
	if _, err := Decode(bad); err == nil || !strings.Contains(err.Error(), "header length") {
		t.Errorf("huge header length: %v", err)
	}
}

func TestNewerMinorAccepted(t *testing.T) {
	b := testBundle(8, 2, 2, 3, 9)
	data := rawFile(t, b, edit{
		meta:    func(m map[string]any) { m["version"] = "1.12"; m["future_field"] = []int{1} },
		tensors: replace(safetensors.FromFloat32("future.tensor", []int{2}, []float32{1, 2}, safetensors.F32)),
	})
	got, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if got.Meta.Version != "1.12" {
		t.Errorf("version %q", got.Meta.Version)
	}
	// Required content still matters in a newer minor.
	data = rawFile(t, b, edit{meta: set("version", "1.3"), tensors: drop(TextName)})
	if _, err := Decode(data); err == nil || !strings.Contains(err.Error(), `missing tensor "text"`) {
		t.Errorf("newer minor without text: %v", err)
	}
}

// TestSizeCap declares more tensor bytes than MaxTensorBytes by pointing
// many (newer-minor, unknown) tensors at one shared data range.
func TestSizeCap(t *testing.T) {
	b := testBundle(8, 2, 1, 2, 10)
	base := rawFile(t, b, edit{meta: set("version", "1.1")})
	hlen := binary.LittleEndian.Uint64(base)
	var header map[string]any
	if err := json.Unmarshal(base[8:8+hlen], &header); err != nil {
		t.Fatal(err)
	}
	const chunk = 32 << 20
	oldData := base[8+hlen:]
	for i := 0; i*chunk <= MaxTensorBytes; i++ {
		header[fmt.Sprintf("pad.%d", i)] = map[string]any{"dtype": "U8", "shape": []int{chunk}, "data_offsets": []int{len(oldData), len(oldData) + chunk}}
	}
	hj, _ := json.Marshal(header)
	data := make([]byte, 8+len(hj)+len(oldData)+chunk)
	binary.LittleEndian.PutUint64(data, uint64(len(hj)))
	copy(data[8:], hj)
	copy(data[8+len(hj):], oldData)
	if _, err := Decode(data); err == nil || !strings.Contains(err.Error(), "over the") {
		t.Fatalf("error %v, want the size limit", err)
	}
}

func TestEncodeRejects(t *testing.T) {
	cases := []struct {
		name string
		mod  func(b *Bundle)
		dt   safetensors.DType
		want string
	}{
		{"dtype", func(b *Bundle) {}, safetensors.BF16, `layer dtype "BF16"`},
		{"format", func(b *Bundle) { b.Meta.Format = "x" }, safetensors.F32, `format "x"`},
		{"major", func(b *Bundle) { b.Meta.Version = "3.1" }, safetensors.F32, "unsupported major version 3"},
		{"grid", func(b *Bundle) { b.Meta.Grid = 0 }, safetensors.F32, "grid 0"},
		{"classes", func(b *Bundle) { b.Meta.Classes[0] = "ok" }, safetensors.F32, `classes[0] = "ok"`},
		{"layer count", func(b *Bundle) { b.Layers = b.Layers[:1] }, safetensors.F32, "1 layer tensors for 2 feature_layers"},
		{"layer length", func(b *Bundle) { b.Layers[1] = b.Layers[1][1:] }, safetensors.F32, `tensor "layer.1": 31 values`},
		{"text rows", func(b *Bundle) { b.Text = b.Text[:2] }, safetensors.F32, `tensor "text": 2 rows for 3 classes`},
		{"text width", func(b *Bundle) { b.Text[2] = b.Text[2][1:] }, safetensors.F32, `row 2 (hole) has 7 values`},
		{"empty global", func(b *Bundle) { b.Global = nil }, safetensors.F32, `tensor "global" is empty`},
		{"nan global", func(b *Bundle) { b.Global[1] = float32(math.NaN()) }, safetensors.F32, `tensor "global": element 1`},
		{"inf layer", func(b *Bundle) { b.Layers[0][2] = float32(math.Inf(1)) }, safetensors.F32, `tensor "layer.0": element 2`},
		{"f16 overflow", func(b *Bundle) { b.Layers[0][3] = 70000 }, safetensors.F16, `tensor "layer.0": element 3 is NaN or Inf (out of F16 range`},
		{"text norm", func(b *Bundle) { b.Text[1][0] += 1 }, safetensors.F32, `tensor "text" row 1 has L2 norm`},
		{"jpeg", func(b *Bundle) { b.JPEG = []byte{1} }, safetensors.F32, "not a JPEG"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := testBundle(8, 2, 2, 3, 11)
			tc.mod(b)
			_, err := Encode(b, tc.dt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := Encode(nil, safetensors.F32); err == nil {
		t.Error("nil bundle encoded")
	}
}
