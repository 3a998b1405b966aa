// Package device parses the --device setting ("cpu", "cuda", "cuda:N")
// and opens the matching compute.Backend. It never imports CUDA itself: the
// CUDA opener lives in cuda.go behind the `dapocuda` build tag (which links
// server/gpu and gorgonia.org/cu), nocuda.go answers in default builds.
package device

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"dapo/server/compute"
)

// Kind is the kind of device.
type Kind string

const (
	CPU  Kind = "cpu"
	CUDA Kind = "cuda"
)

// Spec is a parsed --device value.
type Spec struct {
	Kind    Kind
	Ordinal int // GPU index for CUDA
}

func (s Spec) String() string {
	if s.Kind == CUDA {
		return fmt.Sprintf("cuda:%d", s.Ordinal)
	}
	return string(s.Kind)
}

// Parse reads "cpu", "cuda" (= cuda:0) or "cuda:N"; case and surrounding
// space are ignored, "" means cpu.
func Parse(s string) (Spec, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	switch {
	case v == "" || v == "cpu":
		return Spec{Kind: CPU}, nil
	case v == "cuda" || v == "gpu":
		return Spec{Kind: CUDA}, nil
	case strings.HasPrefix(v, "cuda:"):
		n, err := strconv.Atoi(v[len("cuda:"):])
		if err != nil || n < 0 {
			return Spec{}, fmt.Errorf("device %q: want cuda:N with N a GPU index ≥ 0", s)
		}
		return Spec{Kind: CUDA, Ordinal: n}, nil
	}
	return Spec{}, fmt.Errorf("device %q: want cpu, cuda or cuda:N", s)
}

// Precision is how a GPU runs matrix products.
type Precision string

const (
	// F32 is exact float32: the golden-parity mode and the default.
	F32 Precision = "f32"
	// TF32 uses tensor cores (TF32 inputs, float32 accumulation).
	TF32 Precision = "tf32"
)

// ParsePrecision reads "f32" or "tf32" ("" means f32).
func ParsePrecision(s string) (Precision, error) {
	switch p := Precision(strings.ToLower(strings.TrimSpace(s))); p {
	case "", F32:
		return F32, nil
	case TF32:
		return TF32, nil
	default:
		return "", fmt.Errorf("precision %q: want f32 or tf32", s)
	}
}

// ErrNoCUDABuild is returned when CUDA is requested from a build without
// the dapocuda tag.
var ErrNoCUDABuild = errors.New("this dapo was built without CUDA support; rebuild with `go build -tags dapocuda` (see README)")

// Open returns the backend for s and a function that releases it.
func Open(s Spec, prec Precision) (compute.Backend, func() error, error) {
	switch s.Kind {
	case CPU:
		return &compute.CPU{}, func() error { return nil }, nil
	case CUDA:
		return openCUDA(s.Ordinal, prec)
	}
	return nil, nil, fmt.Errorf("device %v: unknown kind", s)
}

// CUDABuilt reports whether this binary was built with the dapocuda tag.
func CUDABuilt() bool { return cudaBuilt }
