// Package safetensors reads and writes the safetensors container: an 8-byte
// little-endian header length, a JSON header naming each tensor's dtype,
// shape and byte range, then the raw little-endian data.
//
// The reader works on a byte slice so that callers can hand it a
// memory-mapped file (server side) or a fetched buffer (browser side); it
// never copies tensor data unless a conversion is asked for.
package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
)

// DType names a safetensors element type.
type DType string

// The element types this project reads and writes.
const (
	F64  DType = "F64"
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16"
	I64  DType = "I64"
	I32  DType = "I32"
	I16  DType = "I16"
	I8   DType = "I8"
	U8   DType = "U8"
	Bool DType = "BOOL"
)

// Size is the width of one element in bytes, or 0 for an unknown dtype.
func (d DType) Size() int {
	switch d {
	case F64, I64:
		return 8
	case F32, I32:
		return 4
	case F16, BF16, I16:
		return 2
	case I8, U8, Bool:
		return 1
	}
	return 0
}

// MaxHeaderBytes bounds the JSON header so that a corrupt length field cannot
// make the reader allocate gigabytes.
const MaxHeaderBytes = 100 << 20

// Info describes one tensor of a file.
type Info struct {
	Name  string
	DType DType
	Shape []int
	// Offsets into the data section (after the header).
	Begin, End int64
}

// NumElements is the product of the shape (1 for a scalar).
func (i Info) NumElements() int {
	n := 1
	for _, d := range i.Shape {
		n *= d
	}
	return n
}

// File is a parsed safetensors buffer.
type File struct {
	Metadata map[string]string
	infos    map[string]Info
	names    []string
	data     []byte
}

type headerEntry struct {
	DType       DType   `json:"dtype"`
	Shape       []int   `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// Parse validates buf as a safetensors file. The returned File refers to buf;
// buf must stay alive and unmodified while the File is used.
func Parse(buf []byte) (*File, error) {
	if len(buf) < 8 {
		return nil, errors.New("safetensors: file shorter than its 8-byte header length")
	}
	n := binary.LittleEndian.Uint64(buf[:8])
	if n > MaxHeaderBytes {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the %d-byte limit", n, MaxHeaderBytes)
	}
	if uint64(len(buf)-8) < n {
		return nil, fmt.Errorf("safetensors: truncated: header says %d bytes, file has %d after the length", n, len(buf)-8)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(buf[8:8+n], &raw); err != nil {
		return nil, fmt.Errorf("safetensors: header is not a JSON object: %w", err)
	}
	f := &File{infos: make(map[string]Info, len(raw)), data: buf[8+n:]}
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &f.Metadata); err != nil {
				return nil, fmt.Errorf("safetensors: __metadata__ must map strings to strings: %w", err)
			}
			continue
		}
		var e headerEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %w", name, err)
		}
		info, err := checkEntry(name, e, int64(len(f.data)))
		if err != nil {
			return nil, err
		}
		f.infos[name] = info
		f.names = append(f.names, name)
	}
	sort.Strings(f.names)
	return f, nil
}

func checkEntry(name string, e headerEntry, dataLen int64) (Info, error) {
	size := e.DType.Size()
	if size == 0 {
		return Info{}, fmt.Errorf("safetensors: tensor %q: unsupported dtype %q", name, e.DType)
	}
	if len(e.DataOffsets) != 2 {
		return Info{}, fmt.Errorf("safetensors: tensor %q: data_offsets must have 2 entries", name)
	}
	begin, end := e.DataOffsets[0], e.DataOffsets[1]
	if begin < 0 || end < begin || end > dataLen {
		return Info{}, fmt.Errorf("safetensors: tensor %q: byte range [%d,%d) outside the %d-byte data section (truncated file?)", name, begin, end, dataLen)
	}
	numel := int64(1)
	for _, d := range e.Shape {
		if d < 0 {
			return Info{}, fmt.Errorf("safetensors: tensor %q: negative dimension in shape %v", name, e.Shape)
		}
		if d > 0 && numel > math.MaxInt64/int64(d)/int64(size) {
			return Info{}, fmt.Errorf("safetensors: tensor %q: shape %v overflows", name, e.Shape)
		}
		numel *= int64(d)
	}
	if numel*int64(size) != end-begin {
		return Info{}, fmt.Errorf("safetensors: tensor %q: shape %v of %s needs %d bytes, range holds %d", name, e.Shape, e.DType, numel*int64(size), end-begin)
	}
	shape := e.Shape
	if shape == nil {
		shape = []int{}
	}
	return Info{Name: name, DType: e.DType, Shape: shape, Begin: begin, End: end}, nil
}

// Names lists the tensor names in sorted order.
func (f *File) Names() []string { return append([]string(nil), f.names...) }

// Info returns the description of a tensor.
func (f *File) Info(name string) (Info, bool) {
	i, ok := f.infos[name]
	return i, ok
}

// Raw returns the tensor's bytes without copying.
func (f *File) Raw(name string) ([]byte, Info, error) {
	i, ok := f.infos[name]
	if !ok {
		return nil, Info{}, fmt.Errorf("safetensors: no tensor %q", name)
	}
	return f.data[i.Begin:i.End], i, nil
}

// Float32 returns the tensor converted to float32 (from F32, F16, BF16 or
// F64) together with its shape.
func (f *File) Float32(name string) ([]float32, []int, error) {
	b, info, err := f.Raw(name)
	if err != nil {
		return nil, nil, err
	}
	out := make([]float32, info.NumElements())
	if err := DecodeFloat32(out, b, info.DType); err != nil {
		return nil, nil, fmt.Errorf("safetensors: tensor %q: %w", name, err)
	}
	return out, info.Shape, nil
}

// Int64 returns an integer tensor (I64, I32, I16, I8, U8, BOOL) widened to int64.
func (f *File) Int64(name string) ([]int64, []int, error) {
	b, info, err := f.Raw(name)
	if err != nil {
		return nil, nil, err
	}
	n := info.NumElements()
	out := make([]int64, n)
	switch info.DType {
	case I64:
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
		}
	case I32:
		for i := range out {
			out[i] = int64(int32(binary.LittleEndian.Uint32(b[4*i:])))
		}
	case I16:
		for i := range out {
			out[i] = int64(int16(binary.LittleEndian.Uint16(b[2*i:])))
		}
	case I8:
		for i := range out {
			out[i] = int64(int8(b[i]))
		}
	case U8, Bool:
		for i := range out {
			out[i] = int64(b[i])
		}
	default:
		return nil, nil, fmt.Errorf("safetensors: tensor %q has dtype %s, not an integer type", name, info.DType)
	}
	return out, info.Shape, nil
}

// DecodeFloat32 converts little-endian elements of dtype dt in src into dst,
// which must have exactly as many elements as src holds.
func DecodeFloat32(dst []float32, src []byte, dt DType) error {
	if dt.Size() == 0 || len(src) != len(dst)*dt.Size() {
		return fmt.Errorf("cannot decode %d bytes of %s into %d float32 values", len(src), dt, len(dst))
	}
	switch dt {
	case F32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case F64:
		for i := range dst {
			dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
		}
	case F16:
		for i := range dst {
			dst[i] = Float16ToFloat32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	case BF16:
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(src[2*i:])) << 16)
		}
	default:
		return fmt.Errorf("dtype %s is not a floating-point type", dt)
	}
	return nil
}

// Float16ToFloat32 widens an IEEE 754 half-precision value exactly.
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: normalise
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		mant &= 0x3ff
		return math.Float32frombits(sign | e<<23 | mant<<13)
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// Float32ToFloat16 rounds to the nearest half-precision value (ties to even).
func Float32ToFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff { // Inf or NaN
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint32(14 - e)
		half := uint32(1) << (shift - 1)
		rest := mant & (1<<shift - 1)
		v := mant >> shift
		if rest > half || (rest == half && v&1 == 1) {
			v++
		}
		return sign | uint16(v)
	}
	v := uint32(e)<<10 | mant>>13
	rest := mant & 0x1fff
	if rest > 0x1000 || (rest == 0x1000 && v&1 == 1) {
		v++ // may carry into the exponent, which is the correct rounding
	}
	return sign | uint16(v)
}

// Float32ToBFloat16 rounds to the nearest bfloat16 value (ties to even).
func Float32ToBFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}
