//go:build !(goexperiment.simd && amd64)

package cpu

func simdTestKernels() []namedKernel { return nil }
