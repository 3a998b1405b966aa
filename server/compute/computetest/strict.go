package computetest

import (
	"fmt"
	"math"
	"sync"

	"dapo/server/compute"
)

// Strict is compute.CPU with a GPU's memory rules, so that code written
// for the GPU backend shows its ownership mistakes on the CPU:
//   - Alloc hands out memory that is not zeroed (fresh memory is NaN,
//     reused memory holds a freed tensor's NaNs): reading it before writing
//     poisons the result, where compute.CPU's zeroed slices would hide it;
//   - Upload copies, as a host-to-device copy does (compute.CPU aliases);
//   - Free takes back only a live allocation: a view, a freed tensor or a
//     slice Strict did not make is an error (on the GPU it would corrupt
//     the memory pool), and freed memory is poisoned and pooled by size
//     for reuse, as the GPU's pool does;
//   - Live counts the allocations not freed yet, to find leaks.
//
// The first misuse is reported by Err. Safe for concurrent use.
type Strict struct {
	compute.CPU
	mu   sync.Mutex
	live map[*float32]int // base element → length
	pool map[int][][]float32
	err  error
}

var _ compute.Backend = (*Strict)(nil)

// Name is "strict-cpu".
func (s *Strict) Name() string { return "strict-cpu" }

func (s *Strict) fail(format string, args ...any) {
	if s.err == nil {
		s.err = fmt.Errorf("strict backend: "+format, args...)
	}
}

func poison(x []float32) {
	nan := float32(math.NaN())
	for i := range x {
		x[i] = nan
	}
}

func (s *Strict) alloc(n int) compute.Host {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		return compute.Host{}
	}
	if s.live == nil {
		s.live, s.pool = map[*float32]int{}, map[int][][]float32{}
	}
	var b []float32
	if p := s.pool[n]; len(p) > 0 {
		b, s.pool[n] = p[len(p)-1], p[:len(p)-1]
	} else {
		b = make([]float32, n)
		poison(b)
	}
	s.live[&b[0]] = n
	return compute.Host(b)
}

// Alloc returns n floats of undefined (NaN) contents.
func (s *Strict) Alloc(n int) compute.Tensor { return s.alloc(n) }

// Zeros returns n zeroed floats.
func (s *Strict) Zeros(n int) compute.Tensor {
	h := s.alloc(n)
	clear(h)
	return h
}

// Upload copies x into a new allocation.
func (s *Strict) Upload(x []float32) compute.Tensor {
	h := s.alloc(len(x))
	copy(h, x)
	return h
}

// Free returns a live allocation to the pool, poisoned.
func (s *Strict) Free(t compute.Tensor) {
	if t == nil {
		return
	}
	h := t.(compute.Host)
	if len(h) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.live[&h[0]]
	switch {
	case !ok:
		s.fail("free of %d floats that are not a live allocation (a view, freed already, or not made here)", len(h))
		return
	case n != len(h):
		s.fail("free of a %d-float view of a %d-float allocation", len(h), n)
		return
	}
	delete(s.live, &h[0])
	poison(h)
	s.pool[n] = append(s.pool[n], h)
}

// Live is the number of allocations not freed.
func (s *Strict) Live() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live)
}

// Err reports the first misuse, else the CPU's first failure.
func (s *Strict) Err() error {
	s.mu.Lock()
	err := s.err
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.CPU.Err()
}
