package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
)

// Tensor is one named tensor to write.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte // little-endian elements
}

// FromFloat32 encodes float32 values as an F32, F16 or BF16 tensor.
func FromFloat32(name string, shape []int, v []float32, dt DType) Tensor {
	t := Tensor{Name: name, DType: dt, Shape: append([]int{}, shape...)}
	switch dt {
	case F16:
		t.Data = make([]byte, 2*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint16(t.Data[2*i:], Float32ToFloat16(x))
		}
	case BF16:
		t.Data = make([]byte, 2*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint16(t.Data[2*i:], Float32ToBFloat16(x))
		}
	default:
		t.DType = F32
		t.Data = make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(t.Data[4*i:], math.Float32bits(x))
		}
	}
	return t
}

// FromInt64 encodes an I64 tensor.
func FromInt64(name string, shape []int, v []int64) Tensor {
	t := Tensor{Name: name, DType: I64, Shape: append([]int{}, shape...), Data: make([]byte, 8*len(v))}
	for i, x := range v {
		binary.LittleEndian.PutUint64(t.Data[8*i:], uint64(x))
	}
	return t
}

// Write encodes tensors (sorted by name, as the reference writer does) with
// optional string metadata.
func Write(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	sorted := append([]Tensor(nil), tensors...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	header := make(map[string]any, len(sorted)+1)
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var off int64
	for i, t := range sorted {
		if i > 0 && sorted[i-1].Name == t.Name {
			return fmt.Errorf("safetensors: duplicate tensor name %q", t.Name)
		}
		numel := 1
		for _, d := range t.Shape {
			numel *= d
		}
		if t.DType.Size() == 0 || numel*t.DType.Size() != len(t.Data) {
			return fmt.Errorf("safetensors: tensor %q: %d bytes do not match shape %v of %s", t.Name, len(t.Data), t.Shape, t.DType)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[t.Name] = headerEntry{DType: t.DType, Shape: shape, DataOffsets: []int64{off, off + int64(len(t.Data))}}
		off += int64(len(t.Data))
	}
	js, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("safetensors: encode header: %w", err)
	}
	// Pad with spaces to a multiple of 8 so that the data section is aligned.
	if pad := (8 - len(js)%8) % 8; pad > 0 {
		js = append(js, bytes.Repeat([]byte(" "), pad)...)
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(js)))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := w.Write(js); err != nil {
		return err
	}
	for _, t := range sorted {
		if _, err := w.Write(t.Data); err != nil {
			return err
		}
	}
	return nil
}
