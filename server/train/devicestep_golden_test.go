package train_test

import (
	"testing"

	"dapo/server/compute"
	"dapo/server/train/traintest"
)

// TestDeviceStepGolden: the reference's training steps with the whole step
// (towers, adapters, fused head) on compute.CPU; the GPU bundle runs the
// same check on the GPU (server/gpu TestTrainStepGoldenGPU).
func TestDeviceStepGolden(t *testing.T) { traintest.GoldenStep(t, &compute.CPU{}) }
