package scoring

import (
	"errors"
	"fmt"
	"math"
)

// maxSize bounds the output side so that a bad Size cannot ask for
// gigabytes (8192² floats per class is already 256 MiB).
const maxSize = 8192

// normSlack is how far from 1 the norm of a feature that should be
// L2-normalised may be; it accepts float16 round trips and catches raw
// features passed by mistake.
const normSlack = 1e-2

func (s *Scorer) init(text [][]float32) error {
	if s.grid < 1 || s.size < 1 || s.size > maxSize {
		return fmt.Errorf("scoring: grid %d and size %d must be in [1, %d]", s.grid, s.size, maxSize)
	}
	if !(s.tau > 0) || math.IsInf(float64(s.tau), 0) {
		return fmt.Errorf("scoring: temperature %g must be positive and finite", s.tau)
	}
	s.c = len(text)
	if s.c < 2 || s.c > 256 {
		return fmt.Errorf("scoring: need 2..256 text rows (normal + defects), got %d", s.c)
	}
	s.e = len(text[0])
	if s.e == 0 {
		return errors.New("scoring: empty text features")
	}
	s.text = make([]float32, 0, s.c*s.e)
	for k, row := range text {
		if len(row) != s.e {
			return fmt.Errorf("scoring: text row %d has %d values, row 0 has %d", k, len(row), s.e)
		}
		if err := checkUnit(row, fmt.Sprintf("text row %d", k)); err != nil {
			return err
		}
		s.text = append(s.text, row...)
	}
	a, err := abnormalText(s.text, s.c, s.e)
	if err != nil {
		return err
	}
	s.abnormal = a
	if err := s.initSubset(); err != nil {
		return err
	}
	if sm := s.opts.Smooth; sm.Sigma != 0 {
		k, err := gaussianKernel(sm)
		if err != nil {
			return err
		}
		s.smoothKernel = k
	}
	if t := s.opts.PixelThreshold; math.IsNaN(float64(t)) || math.IsInf(float64(t), 0) || t < 0 {
		return fmt.Errorf("scoring: pixel threshold %g must be finite and non-negative", t)
	}
	s.up = newUpsampler(s.grid, s.grid, s.size, s.size)
	return nil
}

func (s *Scorer) initSubset() error {
	sub := s.opts.Subset
	if len(sub) == 0 {
		return nil
	}
	if len(sub) < 2 || sub[0] != 0 {
		return fmt.Errorf("scoring: subset %v must start with 0 (normal) and name at least one defect", sub)
	}
	seen := make(map[int]bool, len(sub))
	for _, k := range sub {
		if k < 0 || k >= s.c {
			return fmt.Errorf("scoring: subset class %d outside the %d text rows", k, s.c)
		}
		if seen[k] {
			return fmt.Errorf("scoring: subset class %d repeated", k)
		}
		seen[k] = true
	}
	s.subset = append([]int(nil), sub...)
	s.opts.Subset = s.subset // the caller may reuse its slice
	return nil
}

func (s *Scorer) checkImage(global []float32, layers [][]float32) error {
	if len(global) != s.e {
		return fmt.Errorf("scoring: global feature has %d values, text features have %d", len(global), s.e)
	}
	if err := checkUnit(global, "global feature"); err != nil {
		return fmt.Errorf("%w (use ScoreRaw for raw features)", err)
	}
	if len(layers) == 0 {
		return errors.New("scoring: no feature layers")
	}
	want := s.grid * s.grid * s.e
	for li, f := range layers {
		if len(f) != want {
			return fmt.Errorf("scoring: layer %d has %d values, want grid %d² × %d = %d", li, len(f), s.grid, s.e, want)
		}
		if i := firstNonFinite(f); i >= 0 {
			return fmt.Errorf("scoring: layer %d value %d is %g", li, i, f[i])
		}
	}
	return nil
}

func checkUnit(v []float32, what string) error {
	if i := firstNonFinite(v); i >= 0 {
		return fmt.Errorf("scoring: %s value %d is %g", what, i, v[i])
	}
	if n := l2norm(v); math.Abs(float64(n)-1) > normSlack {
		return fmt.Errorf("scoring: %s has norm %g, want an L2-normalised vector", what, n)
	}
	return nil
}

func firstNonFinite(v []float32) int {
	for i, x := range v {
		if !(x >= -math.MaxFloat32 && x <= math.MaxFloat32) { // NaN fails both
			return i
		}
	}
	return -1
}
