package bind_test

import (
	"testing"

	"dapo/server/compute"
	"dapo/server/compute/bind/bindtest"
)

// The generic tower on the CPU backend makes the same kernel calls as
// server/clip and server/dapo. It agrees to float32 rounding, not bit for
// bit: buffers of other sizes and alignments take other SGEMM blockings.
func TestGoldenCPU(t *testing.T) { bindtest.Golden(t, &compute.CPU{}) }

func TestMatchesClipCPU(t *testing.T) { bindtest.MatchesCPU(t, &compute.CPU{}, 2, 0, 2e-6) }
