package modelinit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"

	"dapo/server/clip"
	"dapo/shared/safetensors"
)

// File names of the project's backbone layout (what weights.Open reads).
const (
	ConfigFile  = "model_config.json"
	WeightsFile = "backbone.safetensors"
)

// Write writes the backbone of cfg in the project layout into dir:
// model_config.json and backbone.safetensors (open_clip names, sorted as
// the reference writer sorts them, stored as dtype F32, F16 or BF16). The
// safetensors __metadata__ holds meta plus format "pt" and model_config.
//
// Tensors are fetched from src and written one at a time, so only the
// largest tensor is in memory. Each file is written to a temporary name and
// renamed into place; the weights go first, so a folder with a config is
// always complete.
func Write(ctx context.Context, dir string, cfg clip.Config, src clip.TensorSource, meta map[string]string, dtype safetensors.DType) error {
	if err := write(ctx, dir, cfg, src, meta, dtype); err != nil {
		return fmt.Errorf("write backbone to %s: %w", dir, err)
	}
	return nil
}

func write(ctx context.Context, dir string, cfg clip.Config, src clip.TensorSource, meta map[string]string, dtype safetensors.DType) error {
	switch dtype {
	case safetensors.F32, safetensors.F16, safetensors.BF16:
	default:
		return fmt.Errorf("dtype %q is not one of F32, F16, BF16", dtype)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	specs := clip.ParamSpecs(cfg)
	sort.Slice(specs, func(i, j int) bool { return specs[i].Name < specs[j].Name })
	compact, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	md := map[string]string{}
	for k, v := range meta {
		md[k] = v
	}
	md["format"], md["model_config"] = "pt", string(compact)
	header, err := encodeHeader(specs, dtype, md)
	if err != nil {
		return err
	}
	err = writeAtomic(filepath.Join(dir, WeightsFile), func(w *bufio.Writer) error {
		if _, err := w.Write(header); err != nil {
			return err
		}
		for _, s := range specs {
			if err := ctx.Err(); err != nil {
				return err
			}
			v, err := src(s.Name, s.Shape)
			if err != nil {
				return err
			}
			if want := numel(s.Shape); len(v) != want {
				return fmt.Errorf("tensor %q: source gave %d values, shape %v needs %d", s.Name, len(v), s.Shape, want)
			}
			if err := encode(w, v, dtype); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, ConfigFile), func(w *bufio.Writer) error {
		_, err := w.Write(append(cfg.JSON(), '\n'))
		return err
	})
}

// encodeHeader builds the length prefix and JSON header, padded with
// spaces to a multiple of 8 so the data section is aligned (as
// safetensors.Write does; the loader then maps F32 tensors in place).
func encodeHeader(specs []clip.ParamSpec, dtype safetensors.DType, meta map[string]string) ([]byte, error) {
	type entry struct {
		DType       safetensors.DType `json:"dtype"`
		Shape       []int             `json:"shape"`
		DataOffsets [2]int64          `json:"data_offsets"`
	}
	h := map[string]any{"__metadata__": meta}
	var off int64
	for _, s := range specs {
		n := int64(numel(s.Shape)) * int64(dtype.Size())
		shape := s.Shape
		if shape == nil {
			shape = []int{}
		}
		h[s.Name] = entry{dtype, shape, [2]int64{off, off + n}}
		off += n
	}
	js, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("encode safetensors header: %w", err)
	}
	js = append(js, bytes.Repeat([]byte(" "), (8-len(js)%8)%8)...)
	return append(binary.LittleEndian.AppendUint64(nil, uint64(len(js))), js...), nil
}

// encode writes values little-endian in dtype, in chunks, without a second
// full-size copy of the tensor.
func encode(w *bufio.Writer, v []float32, dtype safetensors.DType) error {
	const chunk = 1 << 14
	buf := make([]byte, 0, chunk*4)
	for start := 0; start < len(v); start += chunk {
		buf = buf[:0]
		for _, x := range v[start:min(start+chunk, len(v))] {
			switch dtype {
			case safetensors.F16:
				buf = binary.LittleEndian.AppendUint16(buf, safetensors.Float32ToFloat16(x))
			case safetensors.BF16:
				buf = binary.LittleEndian.AppendUint16(buf, safetensors.Float32ToBFloat16(x))
			default:
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
			}
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// writeAtomic writes path through a temporary file in the same folder,
// synced and then renamed, so readers never see a partial file.
func writeAtomic(path string, fill func(*bufio.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	w := bufio.NewWriterSize(f, 4<<20)
	if err := fill(w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
