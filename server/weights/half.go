package weights

import (
	"fmt"
	"math"

	"dapo/server/clip"
	"dapo/shared/safetensors"
)

// halfTensor is a half-precision (F16 or BF16) tensor left in the mapped
// file and widened to float32 on demand (clip.Encoded). HF checkpoints
// store in_proj as three parts (q, k, v), stacked here by rows.
type halfTensor struct {
	dt    safetensors.DType
	parts [][]byte // little-endian elements, in order
	n     int      // values in all parts
}

func (h *halfTensor) Len() int { return h.n }

// Decode widens values [from, from+len(dst)) exactly.
func (h *halfTensor) Decode(dst []float32, from int) {
	for _, p := range h.parts {
		k := len(p) / 2
		if from >= k {
			from -= k
			continue
		}
		m := min(k-from, len(dst))
		src := p[2*from : 2*(from+m)]
		if h.dt == safetensors.F16 {
			widenF16(dst[:m], src)
		} else if err := safetensors.DecodeFloat32(dst[:m], src, h.dt); err != nil {
			// The dtype and sizes were checked when the tensor was bound.
			panic(fmt.Sprintf("decode %s: %v", h.dt, err))
		}
		dst, from = dst[m:], 0
		if len(dst) == 0 {
			return
		}
	}
	if len(dst) > 0 {
		panic(fmt.Sprintf("decode %s: %d values past the end of a tensor of %d", h.dt, len(dst), h.n))
	}
}

// widenF16 is safetensors.DecodeFloat32 for F16, exactly (every one of
// the 65 536 inputs is tested against safetensors.Float16ToFloat32), and
// faster: normal values are rebiased with one add and no loop, and the
// rare subnormals normalised by an exact multiplication by 2¹¹². It is
// what LazyHalf pays once per block and forward.
func widenF16(dst []float32, src []byte) {
	src = src[:2*len(dst)]
	for i := range dst {
		h := uint32(src[2*i]) | uint32(src[2*i+1])<<8
		sign, mag := (h&0x8000)<<16, (h&0x7fff)<<13
		switch e := h & 0x7c00; e {
		case 0: // zero, subnormal
			dst[i] = math.Float32frombits(math.Float32bits(math.Float32frombits(mag)*0x1p112) | sign)
		case 0x7c00: // Inf, NaN
			dst[i] = math.Float32frombits(sign | 0x7f800000 | mag)
		default:
			dst[i] = math.Float32frombits(sign | (mag + (127-15)<<23))
		}
	}
}

// half returns the named tensor left encoded when it is F16 or BF16 with
// the expected shape, else nil: the tensor is then bound dense, and
// tensor reports whatever is wrong with it.
func (c *checkpoint) half(name string, want []int) *halfTensor {
	info, ok := c.file.Info(name)
	if !ok || !sameShape(want, info.Shape) || (info.DType != safetensors.F16 && info.DType != safetensors.BF16) {
		return nil
	}
	raw, _, err := c.file.Raw(name)
	if err != nil || len(raw) != 2*info.NumElements() {
		return nil
	}
	c.used[name] = true
	return &halfTensor{dt: info.DType, parts: [][]byte{raw}, n: info.NumElements()}
}

// halfSource is the clip.LazySource of an open_clip-named checkpoint.
func halfSource(c *checkpoint) clip.LazySource {
	return func(name string, shape []int) clip.Encoded {
		if h := c.half(name, shape); h != nil {
			return h
		}
		return nil // not a nil *halfTensor in a non-nil interface
	}
}

// hfHalfSource is the clip.LazySource of an HF checkpoint: copies and
// row stacks (in_proj from q, k, v) of half-precision tensors of one dtype.
func hfHalfSource(c *checkpoint) clip.LazySource {
	return func(name string, shape []int) clip.Encoded {
		r, ok := hfRecipeFor(name)
		if !ok || len(shape) == 0 {
			return nil
		}
		part := shape
		switch r.op {
		case hfCopy:
		case hfStackRows:
			if shape[0]%len(r.from) != 0 {
				return nil
			}
			part = append([]int{shape[0] / len(r.from)}, shape[1:]...)
		default:
			return nil
		}
		var h *halfTensor
		for _, from := range r.from {
			p := c.half(from, part)
			if p == nil || h != nil && p.dt != h.dt {
				return nil
			}
			if h == nil {
				h = p
				continue
			}
			h.parts = append(h.parts, p.parts...)
			h.n += p.n
		}
		if h == nil {
			return nil
		}
		return h
	}
}
