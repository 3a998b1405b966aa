package inference

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// DefaultImageThreshold is the reference's decision rule (score ≥ 0.5).
const DefaultImageThreshold = 0.5

// DefaultPixelThreshold is half the number of feature layers: the summed
// map exceeds it where the layers' mean P(abnormal) exceeds 0.5.
func DefaultPixelThreshold(layers int) float32 { return 0.5 * float32(layers) }

// Thresholds are the decision thresholds 'dapo calibrate' writes.
type Thresholds struct {
	Image  float64 `json:"image_threshold"`
	Pixel  float64 `json:"pixel_threshold"`
	Method string  `json:"method"`
	// Alternatives holds other rules computed on the same data (e.g.
	// "max_normal": the largest score / map value over normal images).
	Alternatives map[string]ThresholdPair `json:"alternatives,omitempty"`
	ImageF1      float64                  `json:"image_f1,omitempty"`
	PixelF1      float64                  `json:"pixel_f1,omitempty"`
	Dataset      string                   `json:"dataset,omitempty"`
	Checkpoint   string                   `json:"checkpoint,omitempty"`
	Defects      []string                 `json:"defects,omitempty"`
}

// ThresholdPair is an image and a pixel threshold.
type ThresholdPair struct {
	Image float64 `json:"image_threshold"`
	Pixel float64 `json:"pixel_threshold"`
}

// ThresholdsPath is where calibrate writes by default and detect looks.
func ThresholdsPath(checkpoint string) string {
	return strings.TrimSuffix(checkpoint, ".safetensors") + ".thresholds.json"
}

// LoadThresholds reads a thresholds file; ok is false when it does not exist.
func LoadThresholds(path string) (t Thresholds, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return t, false, nil
	}
	if err != nil {
		return t, false, fmt.Errorf("read thresholds: %w", err)
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return t, false, fmt.Errorf("thresholds %s: %w", path, err)
	}
	if t.Image < 0 || t.Image > 1 || t.Pixel < 0 {
		return t, false, fmt.Errorf("thresholds %s: image threshold %g must lie in [0,1] and pixel threshold %g be non-negative", path, t.Image, t.Pixel)
	}
	return t, true, nil
}

// Save writes the thresholds as indented JSON.
func (t Thresholds) Save(path string) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write thresholds: %w", err)
	}
	return os.Rename(tmp, path)
}
