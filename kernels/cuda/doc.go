// Package cuda is the CUDA backend's kernel layer: the project's own
// kernels (src/dapo.cu, compiled to the committed dapo.ptx and embedded),
// launched through gorgonia.org/cu (the driver API), with GEMM through
// cuBLAS when a libcublas is present at run time (loaded by name, so the
// binary does not depend on one CUDA release) and the own kernels
// otherwise.
//
// Everything except this file is behind the `dapocuda` build tag: cu's init
// exits the process when no driver is present, so the default build (and
// the wasm build of ./kernels/...) must not link it. The tag is not the
// plain `cuda`: gorgonia reads that one too and switches to its own CUDA
// mode, which needs cuDNN (unavailable here), so a `-tags cuda` build of
// anything that imports gorgonia (server/train, hence the dapo binary)
// cannot compile. Build with
// `go build -tags dapocuda`; `make cuda-check` compiles and vets it without a
// GPU (scripts/cuda-check.sh).
//
// The kernels mirror kernels/cpu operation for operation — same epsilon,
// float64 reductions in layer norm and softmax, the same QuickGELU and
// GELU — so the golden tolerances hold on the GPU in the exact-F32 mode.
// The TF32 mode runs the matrix products on tensor cores (TF32 inputs,
// float32 accumulation).
package cuda

//go:generate ../../scripts/cuda-ptx.sh
//go:generate go run ./internal/launchgen
