// Package golden gives tests access to a set of reference outputs produced by
// the official PyTorch implementation (the folder named by DAPO_GOLDEN) and
// compares results against them with the set's own tolerances.
//
// Nothing here knows the shapes of the dev set: every shape, setting and
// tolerance is read from the folder, so the same tests run against other
// golden sets.
package golden

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"dapo/shared/safetensors"
)

// EnvVar names the environment variable that selects the golden folder.
const EnvVar = "DAPO_GOLDEN"

// Set is one golden folder.
type Set struct {
	Dir   string
	tol   map[string]tolEntry
	mu    sync.Mutex
	files map[string]*safetensors.File
}

type tolEntry struct {
	SuggestedAtol json.RawMessage `json:"suggested_atol"`
}

// DefaultDir returns the folder the tests use: $DAPO_GOLDEN, or the team
// folder's dev set beside the checkout (found by walking up to go.mod).
func DefaultDir() (string, error) {
	if d := os.Getenv(EnvVar); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "testdata", "golden"), nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("golden: no go.mod above %s", wd)
		}
	}
}

// Load opens the golden set for a test. A missing folder fails the test when
// DAPO_GOLDEN names it explicitly and skips it otherwise (a checkout without
// the team folder beside it).
func Load(t testing.TB) *Set {
	t.Helper()
	dir, err := DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tolerances.json")); err != nil {
		if os.Getenv(EnvVar) != "" {
			t.Fatalf("golden: %s=%s is not a golden folder: %v", EnvVar, dir, err)
		}
		t.Skipf("golden: no golden folder at %s (set %s)", dir, EnvVar)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Open reads a golden folder's tolerance table.
func Open(dir string) (*Set, error) {
	b, err := os.ReadFile(filepath.Join(dir, "tolerances.json"))
	if err != nil {
		return nil, fmt.Errorf("golden: %w", err)
	}
	var doc struct {
		Tensors map[string]tolEntry `json:"tensors"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("golden: parse tolerances.json: %w", err)
	}
	return &Set{Dir: dir, tol: doc.Tensors, files: map[string]*safetensors.File{}}, nil
}

// Path joins a file name to the folder.
func (s *Set) Path(name ...string) string {
	return filepath.Join(append([]string{s.Dir}, name...)...)
}

// File opens (once) a safetensors file of the set, by stem ("dapo_forward").
func (s *Set) File(t testing.TB, stem string) *safetensors.File {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.files[stem]; ok {
		return f
	}
	b, err := os.ReadFile(s.Path(stem + ".safetensors"))
	if err != nil {
		t.Fatalf("golden: %v", err)
	}
	f, err := safetensors.Parse(b)
	if err != nil {
		t.Fatalf("golden: %s: %v", stem, err)
	}
	s.files[stem] = f
	return f
}

// JSON decodes a JSON file of the set into v.
func (s *Set) JSON(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(s.Path(name))
	if err != nil {
		t.Fatalf("golden: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("golden: parse %s: %v", name, err)
	}
}

// Tolerance is an absolute bound, or a bound relative to max|golden|.
type Tolerance struct {
	Value    float64
	Relative bool
}

// Bound is the absolute bound for a golden tensor with the given max |value|.
func (tl Tolerance) Bound(maxAbs float64) float64 {
	if tl.Relative {
		return tl.Value * maxAbs
	}
	return tl.Value
}

// Tol returns the tolerance of "stem/tensor". A key absent from
// tolerances.json fails the test: a golden set without a bound for a tensor
// is a broken set, and guessing a bound would hide that.
func (s *Set) Tol(t testing.TB, key string) Tolerance {
	t.Helper()
	e, ok := s.tol[key]
	if !ok {
		t.Fatalf("golden: tolerances.json has no entry for %q", key)
	}
	var num float64
	if err := json.Unmarshal(e.SuggestedAtol, &num); err == nil {
		return Tolerance{Value: num}
	}
	var str string
	if err := json.Unmarshal(e.SuggestedAtol, &str); err == nil && strings.HasPrefix(str, "rel:") {
		v, err := strconv.ParseFloat(strings.TrimPrefix(str, "rel:"), 64)
		if err == nil {
			return Tolerance{Value: v, Relative: true}
		}
	}
	t.Fatalf("golden: cannot read tolerance %s for %q", e.SuggestedAtol, key)
	return Tolerance{}
}

// HasTensor reports whether stem/name exists in the set.
func (s *Set) HasTensor(t testing.TB, stem, name string) bool {
	_, ok := s.File(t, stem).Info(name)
	return ok
}

// Float32 reads a golden float tensor and its shape.
func (s *Set) Float32(t testing.TB, stem, name string) ([]float32, []int) {
	t.Helper()
	v, shape, err := s.File(t, stem).Float32(name)
	if err != nil {
		t.Fatalf("golden: %s: %v", stem, err)
	}
	return v, shape
}

// Int64 reads a golden integer tensor and its shape.
func (s *Set) Int64(t testing.TB, stem, name string) ([]int64, []int) {
	t.Helper()
	v, shape, err := s.File(t, stem).Int64(name)
	if err != nil {
		t.Fatalf("golden: %s: %v", stem, err)
	}
	return v, shape
}

// CompareFloat32 checks got against golden tensor stem/name with the set's
// tolerance, and reports the max abs difference on success (go test -v).
func (s *Set) CompareFloat32(t testing.TB, stem, name string, got []float32) {
	t.Helper()
	want, shape := s.Float32(t, stem, name)
	key := stem + "/" + name
	if len(got) != len(want) {
		t.Errorf("%s: got %d values, golden has %d (shape %v)", key, len(got), len(want), shape)
		return
	}
	tol := s.Tol(t, key)
	maxAbs, maxDiff, at := 0.0, 0.0, -1
	for i := range want {
		maxAbs = math.Max(maxAbs, math.Abs(float64(want[i])))
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if d > maxDiff || math.IsNaN(d) {
			maxDiff, at = d, i
			if math.IsNaN(d) {
				maxDiff = math.Inf(1)
				break
			}
		}
	}
	bound := tol.Bound(maxAbs)
	if maxDiff > bound {
		t.Errorf("%s: max |diff| %.3g at flat index %d (got %g, want %g) exceeds tolerance %.3g", key, maxDiff, at, got[at], want[at], bound)
		return
	}
	t.Logf("%s: max |diff| %.3g within %.3g", key, maxDiff, bound)
}

// CompareInt64 checks an integer tensor for exact equality.
func (s *Set) CompareInt64(t testing.TB, stem, name string, got []int64) {
	t.Helper()
	want, shape := s.Int64(t, stem, name)
	key := stem + "/" + name
	if len(got) != len(want) {
		t.Errorf("%s: got %d values, golden has %d (shape %v)", key, len(got), len(want), shape)
		return
	}
	bad := 0
	first := -1
	for i := range want {
		if got[i] != want[i] {
			if first < 0 {
				first = i
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values differ (first at %d: got %d, want %d)", key, bad, len(want), first, got[first], want[first])
	}
}
