//go:build tools

// Package dapo pins modules that later stages of the project build on, so
// that `go mod tidy` keeps their checked versions (see the toolchain notes):
// gorgonia (training graph) with its required go4 pin and tensor version.
package dapo

import (
	_ "github.com/schollz/progressbar/v3"
	_ "go4.org/unsafe/assume-no-moving-gc"
	_ "golang.org/x/sys/unix"
	_ "golang.org/x/text/unicode/norm"
	_ "gonum.org/v1/gonum/blas/blas32"
	_ "gonum.org/v1/plot"
	_ "gorgonia.org/gorgonia"
	_ "gorgonia.org/tensor"
)
