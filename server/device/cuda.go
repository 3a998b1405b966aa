//go:build dapocuda

package device

import (
	"fmt"

	"dapo/kernels/cuda"
	"dapo/server/compute"
	"dapo/server/gpu"
)

const cudaBuilt = true

// openCUDA opens the GPU; with no usable driver or GPU the error starts
// "no CUDA driver/GPU found: …" and says why.
func openCUDA(ordinal int, prec Precision) (compute.Backend, func() error, error) {
	p := cuda.F32
	if prec == TF32 {
		p = cuda.TF32
	}
	b, err := gpu.Open(ordinal, p)
	if err != nil {
		return nil, nil, fmt.Errorf("device cuda:%d: %w", ordinal, err)
	}
	return b, b.Close, nil
}
