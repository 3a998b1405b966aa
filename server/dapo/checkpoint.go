package dapo

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"dapo/server/clip"
	"dapo/shared/safetensors"
)

// CheckpointFormat and CheckpointVersion identify the project's checkpoint:
// one safetensors file whose tensors carry the reference's parameter names
// and whose metadata key "dapo" holds a Meta JSON object.
const (
	CheckpointFormat  = "dapo-checkpoint"
	CheckpointVersion = 1
	metadataKey       = "dapo"
)

// Meta is the checkpoint's JSON metadata.
type Meta struct {
	Format   string       `json:"format"`
	Version  int          `json:"version"`
	Config   Config       `json:"config"`
	Backbone BackboneInfo `json:"backbone"`
	Training *Training    `json:"training,omitempty"`
	Created  time.Time    `json:"created"`
	Source   string       `json:"source,omitempty"` // e.g. the imported reference file
}

// BackboneInfo identifies the backbone the prompts were learned on; its
// config fixes the parameter shapes.
type BackboneInfo struct {
	ID     string      `json:"id"`
	Config clip.Config `json:"config"`
}

// Training records how a checkpoint was trained (filled by dapo train).
type Training struct {
	Step    int             `json:"step"`
	Epoch   int             `json:"epoch"`
	Dataset string          `json:"dataset,omitempty"`
	Extra   json.RawMessage `json:"extra,omitempty"`
}

// Checkpoint is a loaded checkpoint.
type Checkpoint struct {
	Meta   Meta
	Params *Params
	// Extra holds tensors beyond the parameters (optimizer state).
	Extra []safetensors.Tensor
}

// Save writes the checkpoint atomically: a temp file in the same folder,
// synced, then renamed over path.
func (ck *Checkpoint) Save(path string) error {
	ck.Meta.Format, ck.Meta.Version = CheckpointFormat, CheckpointVersion
	if ck.Meta.Created.IsZero() {
		ck.Meta.Created = time.Now().UTC()
	}
	meta, err := json.Marshal(ck.Meta)
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	var tensors []safetensors.Tensor
	for _, t := range ck.Params.Tensors(ck.Meta.Config, ck.Meta.Backbone.Config) {
		tensors = append(tensors, safetensors.FromFloat32(t.Name, t.Shape, t.Data, safetensors.F32))
	}
	tensors = append(tensors, ck.Extra...)
	return writeAtomic(path, func(f *os.File) error {
		return safetensors.Write(f, tensors, map[string]string{metadataKey: string(meta)})
	})
}

func writeAtomic(path string, write func(*os.File) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// LoadCheckpoint reads a project checkpoint.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load checkpoint: %w", err)
	}
	ck, err := ParseCheckpoint(buf)
	if err != nil {
		return nil, fmt.Errorf("load checkpoint %s: %w", path, err)
	}
	return ck, nil
}

// ParseCheckpoint decodes a checkpoint from bytes.
func ParseCheckpoint(buf []byte) (*Checkpoint, error) {
	f, err := safetensors.Parse(buf)
	if err != nil {
		return nil, err
	}
	raw, ok := f.Metadata[metadataKey]
	if !ok {
		return nil, fmt.Errorf("not a dapo checkpoint (no %q metadata); reference files are converted with 'dapo checkpoint import'", metadataKey)
	}
	var meta Meta
	if err := json.Unmarshal([]byte(raw), &meta); err != nil {
		return nil, fmt.Errorf("checkpoint metadata: %w", err)
	}
	if meta.Format != CheckpointFormat {
		return nil, fmt.Errorf("checkpoint format %q, want %q", meta.Format, CheckpointFormat)
	}
	if meta.Version > CheckpointVersion {
		return nil, fmt.Errorf("checkpoint version %d is newer than this dapo understands (%d)", meta.Version, CheckpointVersion)
	}
	meta.Config.fillDefaults()
	bb := meta.Backbone.Config
	if err := bb.Validate(); err != nil {
		return nil, fmt.Errorf("checkpoint backbone: %w", err)
	}
	if err := meta.Config.Validate(bb.Vision.Layers, bb.Text.Layers); err != nil {
		return nil, err
	}
	params, err := BindParams(meta.Config, bb, safetensorsSource(f))
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, s := range ParamSpecs(meta.Config, bb) {
		known[s.Name] = true
	}
	ck := &Checkpoint{Meta: meta, Params: params}
	for _, name := range f.Names() {
		if known[name] {
			continue
		}
		b, info, _ := f.Raw(name)
		ck.Extra = append(ck.Extra, safetensors.Tensor{Name: name, DType: info.DType, Shape: info.Shape, Data: slices.Clone(b)})
	}
	return ck, nil
}

// safetensorsSource reads float tensors by name with a shape check.
func safetensorsSource(f *safetensors.File) clip.TensorSource {
	return func(name string, shape []int) ([]float32, error) {
		info, ok := f.Info(name)
		if !ok {
			return nil, fmt.Errorf("tensor %s is missing", name)
		}
		if !slices.Equal(info.Shape, shape) {
			return nil, fmt.Errorf("tensor %s has shape %v, want %v", name, info.Shape, shape)
		}
		v, _, err := f.Float32(name)
		return v, err
	}
}
