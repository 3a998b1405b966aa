//go:build tools

// Package dapo pins modules that later stages of the project build on, so
// that `go mod tidy` keeps their checked versions (see the toolchain notes):
// gorgonia (training graph) with its required go4 pin and tensor version;
// vugu (ui/), syumai/workers (wasm/worker), chromedp (browser tests) and cu
// (the cuda-tagged backend), all exact pins the proxy only serves as such.
package dapo

import (
	_ "github.com/chromedp/chromedp"
	_ "github.com/schollz/progressbar/v3"
	_ "github.com/syumai/workers"
	_ "github.com/vugu/vugu"
	_ "go4.org/unsafe/assume-no-moving-gc"
	_ "golang.org/x/sys/unix"
	_ "golang.org/x/text/unicode/norm"
	_ "gonum.org/v1/gonum/blas/blas32"
	_ "gonum.org/v1/plot"
	_ "gorgonia.org/cu"
	_ "gorgonia.org/gorgonia"
	_ "gorgonia.org/tensor"
)
