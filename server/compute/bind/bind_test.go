package bind_test

import (
	"testing"

	"dapo/server/compute"
	"dapo/server/compute/bind/bindtest"
)

// TestGoldenCPU: the towers as bound for a device, run on the CPU backend,
// against the reference (the GPU bundle runs the same check on the GPU).
func TestGoldenCPU(t *testing.T) { bindtest.Golden(t, &compute.CPU{}) }
