package dapo

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"slices"

	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"

	"dapo/server/clip"
	"dapo/shared/safetensors"
)

// referenceModules are the state dicts the reference's train.py saves, and
// the prefix their keys get in the flat naming.
var referenceModules = []string{"prompt_learner", "visual_prompt", "linear_adapter"}

// ImportReference reads the reference's learned parameters — a PyTorch
// checkpoint as train.py saves it (a dict of the prompt_learner,
// visual_prompt and linear_adapter state dicts) or a safetensors file with
// the flat reference names — and binds them for config c on backbone bb.
func ImportReference(path string, c Config, bb clip.Config) (*Params, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	var src clip.TensorSource
	if isZip(buf) {
		tensors, err := readTorchCheckpoint(path)
		if err != nil {
			return nil, fmt.Errorf("import %s: %w", path, err)
		}
		src = mapSource(tensors)
	} else {
		f, err := safetensors.Parse(buf)
		if err != nil {
			return nil, fmt.Errorf("import %s: neither a PyTorch zip checkpoint nor safetensors: %w", path, err)
		}
		src = safetensorsSource(f)
	}
	p, err := BindParams(c, bb, src)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	return p, nil
}

func isZip(b []byte) bool { return len(b) >= 4 && bytes.Equal(b[:4], []byte("PK\x03\x04")) }

type torchTensor struct {
	shape []int
	data  []float32
}

// readTorchCheckpoint flattens the three state dicts into reference names
// ("prompt_learner.learnable_normal_tokens", …).
func readTorchCheckpoint(path string) (map[string]torchTensor, error) {
	if _, err := zip.OpenReader(path); err != nil {
		return nil, fmt.Errorf("not a readable zip archive: %w", err)
	}
	obj, err := pytorch.Load(path)
	if err != nil {
		return nil, fmt.Errorf("unpickle: %w", err)
	}
	top, ok := obj.(*types.Dict)
	if !ok {
		return nil, fmt.Errorf("top-level object is %T, want a dict of state dicts", obj)
	}
	out := map[string]torchTensor{}
	for _, module := range referenceModules {
		v, ok := top.Get(module)
		if !ok {
			return nil, fmt.Errorf("no %q state dict (keys: %v)", module, dictKeys(top))
		}
		sd, ok := v.(*types.OrderedDict)
		if !ok {
			return nil, fmt.Errorf("%s is %T, want a state dict", module, v)
		}
		for e := sd.List.Front(); e != nil; e = e.Next() {
			entry := e.Value.(*types.OrderedDictEntry)
			key, _ := entry.Key.(string)
			t, ok := entry.Value.(*pytorch.Tensor)
			if !ok {
				continue
			}
			tt, err := materialise(t)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", module, key, err)
			}
			out[module+"."+key] = tt
		}
	}
	return out, nil
}

func dictKeys(d *types.Dict) []any {
	var keys []any
	for _, e := range *d {
		keys = append(keys, e.Key)
	}
	return keys
}

// materialise copies a (possibly strided) tensor into a dense float32 slice.
func materialise(t *pytorch.Tensor) (torchTensor, error) {
	var data []float32
	switch s := t.Source.(type) {
	case *pytorch.FloatStorage:
		data = s.Data
	case *pytorch.HalfStorage:
		data = s.Data
	case *pytorch.DoubleStorage:
		data = make([]float32, len(s.Data))
		for i, v := range s.Data {
			data[i] = float32(v)
		}
	default:
		return torchTensor{}, fmt.Errorf("unsupported storage %T", t.Source)
	}
	n := 1
	for _, d := range t.Size {
		n *= d
	}
	out := make([]float32, n)
	idx := make([]int, len(t.Size))
	for i := 0; i < n; i++ {
		off := t.StorageOffset
		for d, k := range idx {
			off += k * t.Stride[d]
		}
		if off < 0 || off >= len(data) {
			return torchTensor{}, fmt.Errorf("element offset %d outside storage of %d", off, len(data))
		}
		out[i] = data[off]
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < t.Size[d] {
				break
			}
			idx[d] = 0
		}
	}
	return torchTensor{shape: slices.Clone(t.Size), data: out}, nil
}

func mapSource(m map[string]torchTensor) clip.TensorSource {
	return func(name string, shape []int) ([]float32, error) {
		t, ok := m[name]
		if !ok {
			return nil, fmt.Errorf("tensor %s is missing", name)
		}
		if !slices.Equal(t.shape, shape) {
			return nil, fmt.Errorf("tensor %s has shape %v, want %v", name, t.shape, shape)
		}
		return t.data, nil
	}
}
