package bundle

import (
	"bytes"
	"encoding/json"
	"fmt"

	"dapo/shared/safetensors"
	"dapo/shared/scoring"
)

// Tensor names.
const (
	GlobalName = "global"
	TextName   = "text"
	JPEGName   = "image_jpeg"
)

// LayerName is the tensor name of feature layer i (0-based index into
// Meta.FeatureLayers, not the 1-based layer number).
func LayerName(i int) string { return fmt.Sprintf("layer.%d", i) }

// Bundle is one image's precomputed features.
type Bundle struct {
	Meta   Meta
	Global []float32   // [E], L2-normalised
	Layers [][]float32 // per feature layer, [Grid*Grid*E] row-major, raw adapter outputs
	Text   [][]float32 // [len(Classes)][E], L2-normalised
	JPEG   []byte      // optional thumbnail, stored as-is
}

// ScoringInput hands the features to the scoring stage. The slices are
// shared with the bundle, not copied.
func (b *Bundle) ScoringInput() scoring.Input {
	return scoring.Input{
		Global:      b.Global,
		Layers:      b.Layers,
		Text:        b.Text,
		Grid:        b.Meta.Grid,
		Size:        b.Meta.ImageSize,
		Temperature: b.Meta.Temperature,
	}
}

// Encode validates b and writes it as a safetensors file. layerDType (F32 or
// F16) applies to the layer tensors only, which dominate the size; global
// and text are small and always F32. An empty Meta.Format or Meta.Version is
// filled with this package's.
func Encode(b *Bundle, layerDType safetensors.DType) ([]byte, error) {
	if b == nil {
		return nil, fmt.Errorf("bundle: encode: nil bundle")
	}
	if layerDType != safetensors.F32 && layerDType != safetensors.F16 {
		return nil, fmt.Errorf("bundle: encode: layer dtype %q, want F32 or F16", layerDType)
	}
	m := b.Meta
	if m.Format == "" {
		m.Format = Format
	}
	if m.Version == "" {
		m.Version = Version
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("bundle: encode: %w", err)
	}
	if err := checkSlices(&m, b, layerDType); err != nil {
		return nil, fmt.Errorf("bundle: encode: %w", err)
	}
	e, g2 := len(b.Global), m.Grid*m.Grid
	ts := []safetensors.Tensor{
		safetensors.FromFloat32(GlobalName, []int{e}, b.Global, safetensors.F32),
		safetensors.FromFloat32(TextName, []int{len(b.Text), e}, flatten(b.Text), safetensors.F32),
	}
	for i, l := range b.Layers {
		t := safetensors.FromFloat32(LayerName(i), []int{g2, e}, l, layerDType)
		if layerDType == safetensors.F16 {
			// Values beyond ±65504 become Inf in F16, which a reader rejects.
			if err := checkFinite(t.Name, t.Data, safetensors.F16); err != nil {
				return nil, fmt.Errorf("bundle: encode: %w (out of F16 range; use F32)", err)
			}
		}
		ts = append(ts, t)
	}
	if b.JPEG != nil {
		ts = append(ts, safetensors.Tensor{Name: JPEGName, DType: safetensors.U8, Shape: []int{len(b.JPEG)}, Data: b.JPEG})
	}
	js, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("bundle: encode metadata: %w", err)
	}
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, ts, map[string]string{MetadataKey: string(js)}); err != nil {
		return nil, fmt.Errorf("bundle: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// Decode parses and validates a bundle. The returned slices are fresh
// copies; data may be reused afterwards.
func Decode(data []byte) (*Bundle, error) {
	f, err := safetensors.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("bundle: decode: %w", err)
	}
	m, newer, err := parseMeta(f.Metadata)
	if err != nil {
		return nil, fmt.Errorf("bundle: decode: %w", err)
	}
	if err := checkHeader(f, &m, newer); err != nil {
		return nil, fmt.Errorf("bundle: decode: %w", err)
	}
	b := &Bundle{Meta: m}
	if b.Global, err = readFloats(f, GlobalName); err != nil {
		return nil, fmt.Errorf("bundle: decode: %w", err)
	}
	e := len(b.Global)
	for i := range m.FeatureLayers {
		l, err := readFloats(f, LayerName(i))
		if err != nil {
			return nil, fmt.Errorf("bundle: decode: %w", err)
		}
		b.Layers = append(b.Layers, l)
	}
	text, err := readFloats(f, TextName)
	if err != nil {
		return nil, fmt.Errorf("bundle: decode: %w", err)
	}
	for c := range m.Classes {
		b.Text = append(b.Text, text[c*e:(c+1)*e:(c+1)*e])
	}
	if raw, _, err := f.Raw(JPEGName); err == nil {
		b.JPEG = append([]byte{}, raw...)
	}
	if err := checkNorms(b); err != nil {
		return nil, fmt.Errorf("bundle: decode: %w", err)
	}
	return b, nil
}

func flatten(rows [][]float32) []float32 {
	var out []float32
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}
