// Package train learns DAPO's prompts and adapters: the gorgonia training
// graph, the optimiser whose state is part of the checkpoint, and the
// training loop.
package train

import (
	"errors"
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Adam is PyTorch's Adam (torch.optim.Adam, no weight decay, no amsgrad)
// behind gorgonia's Solver interface. gorgonia's own AdamSolver keeps its
// moments and step count unexported — so they could not be checkpointed
// for an exact resume — and computes 1−β in float32; this one follows
// PyTorch's float32 arithmetic order with the bias corrections in float64:
//
//	m = β1·m + (1−β1)·g
//	v = β2·v + (1−β2)·g²
//	p −= lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε)
type Adam struct {
	LR, Beta1, Beta2, Eps float64
	// StepCount is the number of steps taken (t of the last step).
	StepCount int
	// M and V are the first and second moments, one slice per parameter in
	// the order the parameters are passed to Step.
	M, V [][]float32
}

// NewAdam returns an optimiser with the reference's settings for DAPO
// (lr 1e-3, betas 0.5/0.999, eps 1e-8) unless overridden.
func NewAdam(lr float64) *Adam {
	return &Adam{LR: lr, Beta1: 0.5, Beta2: 0.999, Eps: 1e-8}
}

// Step implements gorgonia.Solver: it updates every parameter from its
// gradient and then zeroes the gradient, as gorgonia's solvers do (the
// TapeMachine accumulates gradients into the bound dual values).
func (a *Adam) Step(model []gorgonia.ValueGrad) error {
	params := make([][]float32, len(model))
	grads := make([][]float32, len(model))
	for i, vg := range model {
		p, err := float32Data(vg.Value())
		if err != nil {
			return fmt.Errorf("adam: parameter %d: %w", i, err)
		}
		gv, err := vg.Grad()
		if err != nil {
			return fmt.Errorf("adam: gradient %d: %w", i, err)
		}
		g, err := float32Data(gv)
		if err != nil {
			return fmt.Errorf("adam: gradient %d: %w", i, err)
		}
		params[i], grads[i] = p, g
	}
	if err := a.Update(params, grads); err != nil {
		return err
	}
	for _, g := range grads {
		clear(g)
	}
	return nil
}

func float32Data(v gorgonia.Value) ([]float32, error) {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("value is %T, want *tensor.Dense", v)
	}
	f, ok := d.Data().([]float32)
	if !ok {
		return nil, fmt.Errorf("value holds %T, want []float32", d.Data())
	}
	return f, nil
}

// Update applies one Adam step in place to params with grads (same shapes,
// same order at every call).
func (a *Adam) Update(params, grads [][]float32) error {
	if len(params) != len(grads) {
		return fmt.Errorf("adam: %d parameters, %d gradients", len(params), len(grads))
	}
	if a.M == nil {
		for _, p := range params {
			a.M = append(a.M, make([]float32, len(p)))
			a.V = append(a.V, make([]float32, len(p)))
		}
	}
	if len(a.M) != len(params) {
		return fmt.Errorf("adam: state holds %d parameters, got %d", len(a.M), len(params))
	}
	for i := range params {
		if len(params[i]) != len(grads[i]) || len(params[i]) != len(a.M[i]) {
			return fmt.Errorf("adam: parameter %d has %d values, gradient %d, state %d", i, len(params[i]), len(grads[i]), len(a.M[i]))
		}
	}
	for _, g := range grads {
		for _, x := range g {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return errors.New("adam: non-finite gradient; the step is skipped (lower --lr?)")
			}
		}
	}
	a.StepCount++
	t := float64(a.StepCount)
	bc1 := 1 - math.Pow(a.Beta1, t)
	bc2 := 1 - math.Pow(a.Beta2, t)
	stepSize := float32(a.LR / bc1)
	bc2Sqrt := float32(math.Sqrt(bc2))
	b1, omb1 := float32(a.Beta1), float32(1-a.Beta1)
	b2, omb2 := float32(a.Beta2), float32(1-a.Beta2)
	eps := float32(a.Eps)
	for i, p := range params {
		g, m, v := grads[i], a.M[i], a.V[i]
		for j := range p {
			m[j] = m[j]*b1 + omb1*g[j]
			v[j] = v[j]*b2 + omb2*g[j]*g[j]
			denom := float32(math.Sqrt(float64(v[j])))/bc2Sqrt + eps
			p[j] += -stepSize * (m[j] / denom)
		}
	}
	return nil
}
