package compute_test

import (
	"testing"

	"dapo/server/compute"
	"dapo/server/compute/bind/bindtest"
)

// TestTowerBackwardMatchesClip checks the generic checkpointed forward and
// backward on be against server/clip's on the CPU, for the golden vision
// tower with random input and output gradient.
func TestTowerBackwardMatchesClip(t *testing.T) {
	bindtest.TowerBackward(t, &compute.CPU{}, 0, 2e-6)
}
