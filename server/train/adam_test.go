package train

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestAdamGolden feeds the reference's gradients of both training steps
// to the optimiser, starting from the reference's initial parameters, and
// compares the updated parameters with the reference's after each step.
func TestAdamGolden(t *testing.T) {
	gs0 := loadGoldenSetup(t)
	set, cfg, bb, params := gs0.set, gs0.cfg, gs0.bb, gs0.params
	named := params.Tensors(cfg, bb.Config)
	opt := gs0.adam
	for step := 1; set.HasTensor(t, "train_step", fmt.Sprintf("step%d.param.%s", step, named[0].Name)); step++ {
		var ps, gs [][]float32
		for _, nt := range named {
			g, _ := set.Float32(t, "train_step", fmt.Sprintf("step%d.grad.%s", step, nt.Name))
			ps, gs = append(ps, nt.Data), append(gs, g)
		}
		if err := opt.Update(ps, gs); err != nil {
			t.Fatal(err)
		}
		for _, nt := range named {
			set.CompareFloat32(t, "train_step", fmt.Sprintf("step%d.param.%s", step, nt.Name), nt.Data)
		}
	}
	if opt.StepCount < 2 {
		t.Errorf("golden set has %d steps, want at least 2", opt.StepCount)
	}
}

type valueGrad struct{ v, g *tensor.Dense }

func (vg valueGrad) Value() gorgonia.Value         { return vg.v }
func (vg valueGrad) Grad() (gorgonia.Value, error) { return vg.g, nil }

// TestAdamSolverInterface: through gorgonia's Solver interface the update
// equals Update's, and the gradient is zeroed afterwards.
func TestAdamSolverInterface(t *testing.T) {
	p := []float32{0.5, -1, 2}
	g := []float32{0.1, -0.2, 0}
	vg := valueGrad{tensor.New(tensor.WithBacking(slices.Clone(p))), tensor.New(tensor.WithBacking(slices.Clone(g)))}
	var solver gorgonia.Solver = NewAdam(1e-3)
	for i := 0; i < 2; i++ {
		copy(vg.g.Data().([]float32), g)
		if err := solver.Step([]gorgonia.ValueGrad{vg}); err != nil {
			t.Fatal(err)
		}
	}
	ref := NewAdam(1e-3)
	want := slices.Clone(p)
	for i := 0; i < 2; i++ {
		if err := ref.Update([][]float32{want}, [][]float32{slices.Clone(g)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := vg.v.Data().([]float32); !slices.Equal(got, want) {
		t.Errorf("solver gave %v, Update %v", got, want)
	}
	if !slices.Equal(vg.g.Data().([]float32), []float32{0, 0, 0}) {
		t.Errorf("gradient not zeroed: %v", vg.g.Data())
	}
	bad := valueGrad{tensor.New(tensor.WithBacking([]float32{1, 2})), tensor.New(tensor.WithBacking([]float32{0, float32(math.NaN())}))}
	if err := NewAdam(1e-3).Step([]gorgonia.ValueGrad{bad}); err == nil || !strings.Contains(err.Error(), "non-finite") {
		t.Error("a NaN gradient must be refused")
	}
}
