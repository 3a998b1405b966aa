//go:build dapocuda

package gpu

import (
	"errors"
	"os"
	"testing"

	"dapo/kernels/cuda"
	"dapo/server/compute/bind/bindtest"
	"dapo/server/inference/inferencetest"
	"dapo/server/train/traintest"
)

func openTest(t *testing.T, prec cuda.Precision) *Backend {
	t.Helper()
	b, err := Open(0, prec)
	if err != nil {
		if errors.Is(err, cuda.ErrNoGPU) && os.Getenv("DAPO_REQUIRE_GPU") == "" {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	t.Log(b.Name())
	return b
}

// TestGoldenGPU: the golden forward (plain encoders, DAPO image side) on
// the GPU in exact-F32 mode, against the reference within tolerances.json.
func TestGoldenGPU(t *testing.T) { bindtest.Golden(t, openTest(t, cuda.F32)) }

// TestGoldenGPUOwnKernels is the same without cuBLAS (the own GEMM).
func TestGoldenGPUOwnKernels(t *testing.T) {
	b := openTest(t, cuda.F32)
	b.Dev.DisableBLAS()
	bindtest.Golden(t, b)
}

// TestMatchesCPU: the towers on the GPU against server/clip on the CPU,
// exact-F32 and TF32 (looser: TF32 keeps ≈10 mantissa bits per product).
func TestMatchesCPU(t *testing.T) {
	t.Run("f32", func(t *testing.T) { bindtest.MatchesCPU(t, openTest(t, cuda.F32), 3, 1e-6, 1e-5) })
	t.Run("tf32", func(t *testing.T) { bindtest.MatchesCPU(t, openTest(t, cuda.TF32), 3, 1e-3, 2e-2) })
}

// TestTowerBackward: checkpointed forward and backward through the vision
// blocks on the GPU against server/clip's on the CPU (the tower part of
// the training step).
func TestTowerBackward(t *testing.T) {
	bindtest.TowerBackward(t, openTest(t, cuda.F32), 1e-6, 1e-5)
}

// TestHeadMatchesCPU: the fused loss head (forward and backward) on the
// GPU against compute.CPU's, on random shapes (odd sizes and the default
// 37→518 geometry).
func TestHeadMatchesCPU(t *testing.T) {
	bindtest.HeadMatchesCPU(t, openTest(t, cuda.F32), 1e-6, 1e-5)
}

// TestTrainStepGoldenGPU: the reference's two training steps with the
// whole step (towers, adapters, fused head) on the GPU in exact-F32 mode
// (train.DeviceStep), every loss, gradient and updated parameter within
// tolerances.json — the check server/train runs on compute.CPU.
func TestTrainStepGoldenGPU(t *testing.T) { traintest.GoldenStep(t, openTest(t, cuda.F32)) }

// TestDetectorGoldenGPU: detect's encode path on the GPU reproduces the
// reference's anomaly maps, image scores and pipeline metrics.
func TestDetectorGoldenGPU(t *testing.T) { inferencetest.BackendGolden(t, openTest(t, cuda.F32)) }
