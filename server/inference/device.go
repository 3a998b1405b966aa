package inference

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"dapo/server/compute"
	"dapo/server/compute/bind"
	"dapo/server/dapo"
)

// deviceVision runs the vision side on a compute backend (a GPU): the
// tower's weights and the visual prompts and adapters are uploaded once.
// A backend is not safe for concurrent use (the GPU's memory pool and
// context), so one pass runs at a time; image decoding and scoring around
// it stay parallel (serve's workers).
type deviceVision struct {
	mu      sync.Mutex
	tower   *compute.VisionTower
	prompts *dapo.Prompts
	release func() error
	name    string // the backend's
}

func newDeviceVision(d *Detector, be compute.Backend, release func() error) (*deviceVision, error) {
	tower, err := bind.Vision(be, d.Backbone.Weights)
	if err != nil {
		return nil, fmt.Errorf("vision tower on %s: %w", be.Name(), err)
	}
	prompts, err := dapo.UploadPrompts(be, d.Params)
	if err != nil {
		return nil, fmt.Errorf("prompts on %s: %w", be.Name(), err)
	}
	return &deviceVision{tower: tower, prompts: prompts, release: release, name: be.Name()}, nil
}

func (v *deviceVision) encode(ctx context.Context, c dapo.Config, pixels []float32, batch int) (*dapo.ImageFeatures, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	out, err := dapo.EncodeImageOn(ctx, c, v.tower, v.prompts, pixels, batch, nil)
	if err != nil {
		// One failed request (say, a batch that did not fit in memory)
		// must not fail every later one on a backend whose errors stick.
		if r, ok := v.tower.Tower.Backend.(compute.Recoverer); ok {
			if rerr := r.Recover(); rerr != nil {
				slog.Error("compute device unusable after a failed pass", "device", v.name, "err", rerr)
			}
		}
	}
	return out, err
}
