// Package gpu is the CUDA compute.Backend: the tower kernels of
// kernels/cuda on one GPU, behind the same interface the CPU backend
// implements, so server/compute's towers (and server/compute/bind's DAPO
// encode) run unchanged on the device. Everything but this file needs the
// `dapocuda` build tag; without it the package is empty and server/device
// says how to get a CUDA build.
package gpu
