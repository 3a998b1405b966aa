// Package bind puts server/clip's frozen CLIP towers onto a
// compute.Backend, checking the upload (server/dapo.UploadPrompts does the
// same for the learned parameters, and dapo.EncodeImageOn runs DAPO's
// image side over the result).
package bind

import (
	"fmt"

	"dapo/server/clip"
	"dapo/server/compute"
)

// Vision uploads the vision tower's weights (F32) to be.
func Vision(be compute.Backend, w *clip.Weights) (*compute.VisionTower, error) {
	v := w.VisionOn(be)
	if err := be.Err(); err != nil {
		return nil, fmt.Errorf("upload vision tower to %s: %w", be.Name(), err)
	}
	return v, nil
}

// Text uploads the text tower's weights; causal as plain CLIP (DAPO's
// prompt encoder sets Tower.Causal = false).
func Text(be compute.Backend, w *clip.Weights) (*compute.TextTower, error) {
	t := w.TextOn(be)
	if err := be.Err(); err != nil {
		return nil, fmt.Errorf("upload text tower to %s: %w", be.Name(), err)
	}
	return t, nil
}
