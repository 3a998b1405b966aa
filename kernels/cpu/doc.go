// Package cpu holds the CPU compute kernels the CLIP towers are written
// over: matrix products, layer norm, softmax, activations and multi-head
// attention. Every kernel works on row-major float32 slices with explicit
// sizes, so that the towers stay a readable sequence of kernel calls (the
// llm.c style) and a CUDA backend can mirror the same calls.
package cpu
