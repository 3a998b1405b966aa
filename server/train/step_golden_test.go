package train_test

import (
	"testing"

	"dapo/server/clip"
	"dapo/server/train"
	"dapo/server/train/traintest"
)

// TestStepGolden runs the reference's two training steps on the golden
// batch through the CPU towers' Step (server/clip): every loss term, every
// gradient and every updated parameter — the same check the device step
// passes on every backend.
func TestStepGolden(t *testing.T) {
	traintest.GoldenSteps(t, func(g traintest.Golden) (traintest.Stepper, error) {
		s, err := train.NewStep(g.Config, g.Dims, g.Head, train.Model{
			Text: clip.NewText(g.Weights), Vision: clip.NewVision(g.Weights), Params: g.Params, IDs: g.IDs})
		if err != nil {
			return nil, err
		}
		return s, nil
	})
}
