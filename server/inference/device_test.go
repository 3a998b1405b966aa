package inference_test

import (
	"testing"

	"dapo/server/compute"
	"dapo/server/inference/inferencetest"
)

// TestBackendGolden: a Detector whose vision side runs on a compute
// backend (here the CPU one; the GPU bundle runs the same check on the
// GPU) reproduces the reference's anomaly maps, image scores and pipeline
// metrics from the golden PNGs.
func TestBackendGolden(t *testing.T) { inferencetest.BackendGolden(t, &compute.CPU{}) }
