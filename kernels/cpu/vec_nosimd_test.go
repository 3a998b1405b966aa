//go:build !(goexperiment.simd && amd64)

package cpu

func simdVecKernels() []namedVec { return nil }
