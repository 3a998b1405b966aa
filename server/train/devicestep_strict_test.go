package train_test

import (
	"testing"

	G "gorgonia.org/gorgonia"

	"dapo/server/compute/computetest"
	"dapo/server/train"
	"dapo/server/train/traintest"
)

// liveAfterApply records the backend's live allocations after each step.
type liveAfterApply struct {
	traintest.Stepper
	be   *computetest.Strict
	live *[]int
}

func (l liveAfterApply) Apply(s G.Solver) error {
	err := l.Stepper.Apply(s)
	*l.live = append(*l.live, l.be.Live())
	return err
}

// TestDeviceStepStrict: the device step under a GPU's memory rules
// (computetest.Strict: allocations not zeroed, uploads copied, only live
// allocations freed, freed memory poisoned and reused) passes the golden
// steps in both tape modes, holds the same allocations after every step
// (nothing leaks per step), and gives back all but the bound weights on
// Close.
func TestDeviceStepStrict(t *testing.T) {
	for _, full := range []bool{false, true} {
		name := map[bool]string{false: "checkpointed", true: "full-tapes"}[full]
		t.Run(name, func(t *testing.T) {
			be := &computetest.Strict{}
			var live []int
			var bound int
			traintest.GoldenSteps(t, func(g traintest.Golden) (traintest.Stepper, error) {
				dm, err := train.BindDevice(be, g.Weights, g.Params, g.IDs)
				if err != nil {
					return nil, err
				}
				bound = be.Live()
				dm.FullTapes = full
				step, err := train.NewDeviceStep(g.Config, g.Dims, g.Head, dm)
				if err != nil {
					return nil, err
				}
				return liveAfterApply{step, be, &live}, nil
			})
			if err := be.Err(); err != nil {
				t.Fatal(err)
			}
			if len(live) < 2 {
				t.Fatalf("%d steps ran, want at least 2", len(live))
			}
			for i := 1; i < len(live); i++ {
				if live[i] != live[0] {
					t.Errorf("live allocations after each step: %v", live)
					break
				}
			}
			// GoldenSteps has closed the step.
			if got := be.Live(); got != bound {
				t.Errorf("after Close %d allocations live, %d after binding the weights", got, bound)
			}
		})
	}
}
