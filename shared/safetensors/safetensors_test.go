package safetensors

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	v := []float32{0, 1, -2.5, 3.25, 1e-3, -65504, 0.333251953125}
	ints := []int64{-1, 0, 1 << 40}
	var buf bytes.Buffer
	err := Write(&buf, []Tensor{
		FromFloat32("f32", []int{7}, v, F32),
		FromFloat32("f16", []int{7}, v, F16),
		FromFloat32("bf16", []int{7}, v, BF16),
		FromInt64("ids", []int{3}, ints),
		FromFloat32("scalar", []int{}, []float32{2}, F32),
	}, map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	if binary.LittleEndian.Uint64(buf.Bytes())%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", binary.LittleEndian.Uint64(buf.Bytes()))
	}
	f, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata["k"] != "v" {
		t.Errorf("metadata %v", f.Metadata)
	}
	if !slices.Equal(f.Names(), []string{"bf16", "f16", "f32", "ids", "scalar"}) {
		t.Errorf("names %v", f.Names())
	}
	got, shape, err := f.Float32("f32")
	if err != nil || !slices.Equal(got, v) || !slices.Equal(shape, []int{7}) {
		t.Errorf("f32: %v %v %v", got, shape, err)
	}
	// All values but 1e-3 are exact in half precision.
	half, _, _ := f.Float32("f16")
	if math.Abs(float64(half[4])-1e-3) > 1e-6 {
		t.Errorf("f16 1e-3 came back as %g", half[4])
	}
	for i, x := range half {
		if i != 4 && x != v[i] {
			t.Errorf("f16[%d] = %g, want %g", i, x, v[i])
		}
	}
	id, _, err := f.Int64("ids")
	if err != nil || !slices.Equal(id, ints) {
		t.Errorf("ids %v %v", id, err)
	}
	s, shape, _ := f.Float32("scalar")
	if len(s) != 1 || s[0] != 2 || len(shape) != 0 {
		t.Errorf("scalar %v %v", s, shape)
	}
}

// TestFloat16Exhaustive: every half value widens exactly and narrows back
// to itself (NaNs stay NaN).
func TestFloat16Exhaustive(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := Float16ToFloat32(uint16(h))
		back := Float32ToFloat16(f)
		if math.IsNaN(float64(f)) {
			if back&0x7c00 != 0x7c00 || back&0x3ff == 0 {
				t.Fatalf("NaN %#04x came back as %#04x", h, back)
			}
			continue
		}
		if back != uint16(h) {
			t.Fatalf("%#04x -> %g -> %#04x", h, f, back)
		}
	}
}

// TestFloat16Rounding checks round-to-nearest-even against a float64
// computation of the two neighbours.
func TestFloat16Rounding(t *testing.T) {
	for h := 0; h < 0x7bff; h++ {
		lo, hi := float64(Float16ToFloat32(uint16(h))), float64(Float16ToFloat32(uint16(h+1)))
		mid := float32((lo + hi) / 2)
		want := uint16(h)
		if h&1 == 1 {
			want = uint16(h + 1)
		}
		if float64(mid) != (lo+hi)/2 {
			continue // midpoint not representable in float32
		}
		if got := Float32ToFloat16(mid); got != want {
			t.Fatalf("midpoint of %#04x and %#04x rounds to %#04x, want %#04x", h, h+1, got, want)
		}
	}
	if Float32ToFloat16(1e6) != 0x7c00 || Float32ToFloat16(-1e6) != 0xfc00 {
		t.Error("overflow must give infinity")
	}
}

func TestBFloat16(t *testing.T) {
	for _, c := range []struct {
		in   float32
		want uint16
	}{{1, 0x3f80}, {-2, 0xc000}, {math.Float32frombits(0x3f808000), 0x3f80}, {math.Float32frombits(0x3f818000), 0x3f82}, {math.Float32frombits(0x3f808001), 0x3f81}} {
		if got := Float32ToBFloat16(c.in); got != c.want {
			t.Errorf("bf16(%#08x) = %#04x, want %#04x", math.Float32bits(c.in), got, c.want)
		}
	}
	if nan := Float32ToBFloat16(float32(math.NaN())); nan&0x7f80 != 0x7f80 || nan&0x7f == 0 {
		t.Errorf("NaN became %#04x", nan)
	}
}

func TestParseErrors(t *testing.T) {
	header := func(js string) []byte {
		b := make([]byte, 8)
		binary.LittleEndian.PutUint64(b, uint64(len(js)))
		return append(b, js...)
	}
	cases := map[string]struct {
		data []byte
		want string
	}{
		"short":         {[]byte{1, 2}, "shorter"},
		"huge header":   {binary.LittleEndian.AppendUint64(nil, 1<<40), "exceeds"},
		"truncated":     {binary.LittleEndian.AppendUint64(nil, 100), "truncated"},
		"not json":      {header("nope"), "not a JSON object"},
		"bad dtype":     {header(`{"a":{"dtype":"Q8","shape":[1],"data_offsets":[0,1]}}`), "unsupported dtype"},
		"out of range":  {header(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`), "outside"},
		"size mismatch": {append(header(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`), make([]byte, 8)...), "needs 12 bytes"},
		"negative dim":  {append(header(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}`), make([]byte, 0)...), "negative"},
		"bad metadata":  {header(`{"__metadata__":{"a":1}}`), "__metadata__"},
		"overflow":      {header(`{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}`), "overflows"},
	}
	for name, c := range cases {
		_, err := Parse(c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, c.want)
		}
	}
	if err := Write(&bytes.Buffer{}, []Tensor{{Name: "a", DType: F32, Shape: []int{2}, Data: make([]byte, 4)}}, nil); err == nil {
		t.Error("writing mismatched data must fail")
	}
}

// FuzzParse: arbitrary bytes never panic, and every tensor of a file that
// parses can be read within the buffer.
func FuzzParse(f *testing.F) {
	var buf bytes.Buffer
	_ = Write(&buf, []Tensor{FromFloat32("x", []int{2, 2}, []float32{1, 2, 3, 4}, F16), FromInt64("i", []int{1}, []int64{5})}, map[string]string{"m": "1"})
	f.Add(buf.Bytes())
	f.Add([]byte{})
	f.Add([]byte("\x10\x00\x00\x00\x00\x00\x00\x00{}              "))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			return
		}
		for _, name := range file.Names() {
			info, _ := file.Info(name)
			raw, _, err := file.Raw(name)
			if err != nil || int64(len(raw)) != info.End-info.Begin {
				t.Fatalf("%s: raw %d bytes, err %v", name, len(raw), err)
			}
			if _, _, err := file.Float32(name); err != nil {
				_, _, _ = file.Int64(name)
			}
		}
	})
}
