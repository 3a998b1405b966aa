package bundle

import (
	"encoding/binary"
	"fmt"
	"math"

	"dapo/shared/safetensors"
)

// checkHeader validates the tensor table against the metadata before any
// tensor is decoded, so that a bad bundle costs no allocation.
func checkHeader(f *safetensors.File, m *Meta, newerMinor bool) error {
	var total int64
	known := map[string]bool{GlobalName: true, TextName: true, JPEGName: true}
	for i := range m.FeatureLayers {
		known[LayerName(i)] = true
	}
	for _, name := range f.Names() {
		info, _ := f.Info(name)
		total += info.End - info.Begin
		if !known[name] && !newerMinor {
			return fmt.Errorf("unexpected tensor %q (version %s)", name, m.Version)
		}
	}
	if total > MaxTensorBytes {
		return fmt.Errorf("tensors declare %d bytes, over the %d-byte limit", total, MaxTensorBytes)
	}
	g, err := tensorInfo(f, GlobalName, 1)
	if err != nil {
		return err
	}
	e := g.Shape[0]
	if e < 1 {
		return fmt.Errorf("tensor %q: embedding width 0", GlobalName)
	}
	for i := range m.FeatureLayers {
		if err := wantShape(f, LayerName(i), m.Grid*m.Grid, e); err != nil {
			return err
		}
	}
	if err := wantShape(f, TextName, len(m.Classes), e); err != nil {
		return err
	}
	if info, ok := f.Info(JPEGName); ok {
		raw, _, _ := f.Raw(JPEGName)
		if err := checkJPEG(info.DType, info.Shape, raw); err != nil {
			return err
		}
	}
	return nil
}

// tensorInfo returns a required float tensor of the given rank.
func tensorInfo(f *safetensors.File, name string, rank int) (safetensors.Info, error) {
	info, ok := f.Info(name)
	if !ok {
		return info, fmt.Errorf("missing tensor %q", name)
	}
	if info.DType != safetensors.F32 && info.DType != safetensors.F16 {
		return info, fmt.Errorf("tensor %q: dtype %s, want F32 or F16", name, info.DType)
	}
	if len(info.Shape) != rank {
		return info, fmt.Errorf("tensor %q: shape %v, want rank %d", name, info.Shape, rank)
	}
	return info, nil
}

func wantShape(f *safetensors.File, name string, rows, cols int) error {
	info, err := tensorInfo(f, name, 2)
	if err != nil {
		return err
	}
	if info.Shape[0] != rows || info.Shape[1] != cols {
		return fmt.Errorf("tensor %q: shape %v, want [%d %d]", name, info.Shape, rows, cols)
	}
	return nil
}

func checkJPEG(dt safetensors.DType, shape []int, raw []byte) error {
	if dt != safetensors.U8 {
		return fmt.Errorf("tensor %q: dtype %s, want U8", JPEGName, dt)
	}
	if len(shape) != 1 {
		return fmt.Errorf("tensor %q: shape %v, want rank 1", JPEGName, shape)
	}
	// Only the start-of-image marker: decoding is the browser's job.
	if len(raw) < 2 || raw[0] != 0xFF || raw[1] != 0xD8 {
		return fmt.Errorf("tensor %q: not a JPEG (no FF D8 start marker)", JPEGName)
	}
	return nil
}

// readFloats decodes a float tensor whose dtype and shape checkHeader
// accepted, rejecting NaN and Inf.
func readFloats(f *safetensors.File, name string) ([]float32, error) {
	raw, info, err := f.Raw(name)
	if err != nil {
		return nil, err
	}
	if err := checkFinite(name, raw, info.DType); err != nil {
		return nil, err
	}
	out := make([]float32, info.NumElements())
	if err := safetensors.DecodeFloat32(out, raw, info.DType); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", name, err)
	}
	return out, nil
}

// checkFinite scans encoded F32 or F16 elements for NaN and Inf (all-ones
// exponent), reporting the first offending element.
func checkFinite(name string, raw []byte, dt safetensors.DType) error {
	switch dt {
	case safetensors.F16:
		for i := 0; i+2 <= len(raw); i += 2 {
			if binary.LittleEndian.Uint16(raw[i:])&0x7c00 == 0x7c00 {
				return fmt.Errorf("tensor %q: element %d is NaN or Inf", name, i/2)
			}
		}
	case safetensors.F32:
		for i := 0; i+4 <= len(raw); i += 4 {
			if binary.LittleEndian.Uint32(raw[i:])&0x7f800000 == 0x7f800000 {
				return fmt.Errorf("tensor %q: element %d is NaN or Inf", name, i/4)
			}
		}
	default:
		return fmt.Errorf("tensor %q: dtype %s, want F32 or F16", name, dt)
	}
	return nil
}

func finiteSlice(name string, v []float32) error {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("tensor %q: element %d is NaN or Inf", name, i)
		}
	}
	return nil
}

// checkSlices is checkHeader for an in-memory bundle about to be encoded.
func checkSlices(m *Meta, b *Bundle, layerDType safetensors.DType) error {
	e := len(b.Global)
	if e < 1 {
		return fmt.Errorf("tensor %q is empty", GlobalName)
	}
	if len(b.Layers) != len(m.FeatureLayers) {
		return fmt.Errorf("%d layer tensors for %d feature_layers", len(b.Layers), len(m.FeatureLayers))
	}
	if len(b.Text) != len(m.Classes) {
		return fmt.Errorf("tensor %q: %d rows for %d classes", TextName, len(b.Text), len(m.Classes))
	}
	g2 := m.Grid * m.Grid
	total := int64(4 * e * (1 + len(b.Text)))
	for i, l := range b.Layers {
		if len(l) != g2*e {
			return fmt.Errorf("tensor %q: %d values, want grid²·E = %d·%d", LayerName(i), len(l), g2, e)
		}
		total += int64(len(l) * layerDType.Size())
	}
	total += int64(len(b.JPEG))
	if total > MaxTensorBytes {
		return fmt.Errorf("tensors need %d bytes, over the %d-byte limit", total, MaxTensorBytes)
	}
	if b.JPEG != nil {
		if err := checkJPEG(safetensors.U8, []int{len(b.JPEG)}, b.JPEG); err != nil {
			return err
		}
	}
	if err := finiteSlice(GlobalName, b.Global); err != nil {
		return err
	}
	for i, l := range b.Layers {
		if err := finiteSlice(LayerName(i), l); err != nil {
			return err
		}
	}
	for c, row := range b.Text {
		if len(row) != e {
			return fmt.Errorf("tensor %q: row %d (%s) has %d values, want E = %d", TextName, c, m.Classes[c], len(row), e)
		}
		if err := finiteSlice(TextName, row); err != nil {
			return fmt.Errorf("row %d: %w", c, err)
		}
	}
	return checkNorms(b)
}

// checkNorms rejects global and text features that are not unit vectors:
// the scoring stage takes them as already normalised.
func checkNorms(b *Bundle) error {
	if n := norm(b.Global); math.Abs(n-1) > normTol {
		return fmt.Errorf("tensor %q has L2 norm %.4g, want 1", GlobalName, n)
	}
	for c, row := range b.Text {
		if n := norm(row); math.Abs(n-1) > normTol {
			return fmt.Errorf("tensor %q row %d has L2 norm %.4g, want 1", TextName, c, n)
		}
	}
	return nil
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}
