package inference_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"dapo/server/compute"
	"dapo/server/compute/computetest"
	"dapo/server/inference/inferencetest"
	"dapo/shared/golden"
)

// TestBackendGolden: a Detector whose vision side runs on a compute
// backend reproduces the reference's anomaly maps, image scores and
// pipeline metrics from the golden PNGs. Here the backend is the CPU with
// a GPU's memory rules (computetest.Strict); the GPU bundle runs the same
// check on the GPU.
func TestBackendGolden(t *testing.T) {
	be := &computetest.Strict{}
	inferencetest.BackendGolden(t, be)
	if err := be.Err(); err != nil {
		t.Fatal(err)
	}
}

// serialOnly is the CPU backend recording whether two goroutines ever ran
// its matrix products at once, which a GPU backend does not survive.
type serialOnly struct {
	compute.CPU
	inFlight, overlaps atomic.Int32
}

func (s *serialOnly) Linear(y, x compute.Tensor, rows, in, out int, w, bias compute.Tensor) {
	if s.inFlight.Add(1) > 1 {
		s.overlaps.Add(1)
	}
	defer s.inFlight.Add(-1)
	time.Sleep(time.Millisecond) // widen the window a concurrent caller would hit
	s.CPU.Linear(y, x, rows, in, out, w, bias)
}

// TestBackendSerialised: one Detector on a backend, called from several
// goroutines as serve's workers call it, runs one pass on the backend at a
// time, and every goroutine still gets the single-pass maps.
func TestBackendSerialised(t *testing.T) {
	set := golden.Load(t)
	want, _ := inferencetest.Maps(t, set, &compute.CPU{})
	be := &serialOnly{}
	det := inferencetest.Open(t, set, be, nil)
	defer det.Close()
	var wg sync.WaitGroup
	got := make([][]float32, 4)
	errs := make([]error, len(got))
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _, errs[i] = inferencetest.Score(set, det)
		}()
	}
	wg.Wait()
	if n := be.overlaps.Load(); n > 0 {
		t.Errorf("%d matrix products overlapped on the backend", n)
	}
	for i := range got {
		if errs[i] != nil {
			t.Errorf("goroutine %d: %v", i, errs[i])
		} else if !slices.Equal(got[i], want) {
			t.Errorf("goroutine %d: maps differ from a single pass", i)
		}
	}
}

// failOnce is the CPU backend whose first matrix product fails with a
// sticky error, as a GPU's allocation that does not fit does, and which
// Recover clears.
type failOnce struct {
	compute.CPU
	failed bool
	err    error
}

func (f *failOnce) Linear(y, x compute.Tensor, rows, in, out int, w, bias compute.Tensor) {
	if !f.failed {
		f.failed, f.err = true, errors.New("out of memory")
	}
	f.CPU.Linear(y, x, rows, in, out, w, bias)
}

func (f *failOnce) Err() error { return f.err }

func (f *failOnce) Recover() error { f.err = nil; return nil }

// TestBackendRecovers: after a pass fails on a backend whose errors
// stick, the Detector clears the error, so the next request is served
// (with the golden maps) instead of failing forever.
func TestBackendRecovers(t *testing.T) {
	set := golden.Load(t)
	want, _ := inferencetest.Maps(t, set, &compute.CPU{})
	be := &failOnce{}
	det := inferencetest.Open(t, set, be, nil)
	defer det.Close()
	if _, _, err := inferencetest.Score(set, det); err == nil || !strings.Contains(err.Error(), "out of memory") {
		t.Fatalf("first pass: %v, want the backend's error", err)
	}
	got, _, err := inferencetest.Score(set, det)
	if err != nil {
		t.Fatalf("the pass after a failure: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Error("maps after recovery differ from a clean pass")
	}
}
