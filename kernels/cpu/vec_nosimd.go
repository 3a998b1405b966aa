//go:build !(goexperiment.simd && amd64)

package cpu

// vecAuto is the best vecKernel this build has: without
// GOEXPERIMENT=simd on amd64 that is the portable one.
func vecAuto() vecKernel { return vecPortable() }
