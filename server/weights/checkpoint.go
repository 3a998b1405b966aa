package weights

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"unsafe"

	"dapo/shared/safetensors"
)

// checkpoint is one mapped and parsed safetensors file.
type checkpoint struct {
	path    string
	file    *safetensors.File
	header  []byte // length prefix and JSON header: cheap to hash for the identity
	size    int64
	release func() error
	used    map[string]bool // tensors handed out; the rest are reported as extra
}

func openCheckpoint(path string) (*checkpoint, error) {
	data, release, err := mapFile(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	f, err := safetensors.Parse(data)
	if err != nil {
		hint := formatHint(data) // before unmapping data
		release()
		return nil, fmt.Errorf("read %s: %w%s", path, err, hint)
	}
	n := binary.LittleEndian.Uint64(data[:8]) // Parse checked the bounds
	return &checkpoint{
		path:    path,
		file:    f,
		header:  data[:8+n],
		size:    int64(len(data)),
		release: release,
		used:    map[string]bool{},
	}, nil
}

// formatHint names the likely format of a file that is not safetensors:
// PyTorch's .bin/.pth files are zip archives or bare pickles.
func formatHint(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return " (this is a zip archive, probably a PyTorch .bin/.pth checkpoint; convert it to safetensors)"
	case len(data) > 1 && data[0] == 0x80 && data[1] <= 5:
		return " (this looks like a pickled PyTorch checkpoint; convert it to safetensors)"
	}
	return " (not a safetensors file, or truncated)"
}

// tensor returns the named tensor as float32 after checking its shape.
// Aligned F32 data on a little-endian machine is returned as a view of the
// mapping (no copy, read-only memory: writing through it faults); other
// dtypes are converted into a new slice.
func (c *checkpoint) tensor(name string, want []int) ([]float32, error) {
	info, ok := c.file.Info(name)
	if !ok {
		return nil, fmt.Errorf("tensor %q: missing (expected shape %v)", name, fmtShape(want))
	}
	c.used[name] = true
	if !sameShape(want, info.Shape) {
		return nil, fmt.Errorf("tensor %q: expected shape %v, found %v", name, fmtShape(want), fmtShape(info.Shape))
	}
	raw, _, err := c.file.Raw(name)
	if err != nil {
		return nil, err
	}
	if info.DType == safetensors.F32 {
		if v, ok := viewFloat32(raw); ok {
			return v, nil
		}
	}
	out := make([]float32, info.NumElements())
	if err := safetensors.DecodeFloat32(out, raw, info.DType); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", name, err)
	}
	return out, nil
}

// unused lists the tensors of the file nobody asked for, sorted.
func (c *checkpoint) unused() []string {
	var extra []string
	for _, n := range c.file.Names() {
		if !c.used[n] {
			extra = append(extra, n)
		}
	}
	return extra
}

func (c *checkpoint) close() error {
	if c.release == nil {
		return nil
	}
	err := c.release()
	c.release = nil
	if err != nil {
		return fmt.Errorf("unmap %s: %w", c.path, err)
	}
	return nil
}

// viewFloat32 reinterprets little-endian float32 bytes in place when the
// machine is little-endian and the data 4-byte aligned.
func viewFloat32(b []byte) ([]float32, bool) {
	if len(b) == 0 {
		return []float32{}, true
	}
	if !littleEndian() || uintptr(unsafe.Pointer(&b[0]))%4 != 0 {
		return nil, false
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4), true
}

func littleEndian() bool {
	return binary.NativeEndian.Uint16([]byte{1, 0}) == 1
}

// sameShape compares shapes; a scalar also matches a one-element [1]
// tensor, which some exporters write for logit_scale.
func sameShape(want, got []int) bool {
	if slices.Equal(want, got) {
		return true
	}
	return len(want) == 0 && slices.Equal(got, []int{1})
}

// fmtShape prints [] for scalars rather than Go's [] / <nil> ambiguity.
func fmtShape(s []int) string {
	if len(s) == 0 {
		return "[] (scalar)"
	}
	return fmt.Sprint(s)
}
