//go:build cuda && !dapocuda

package device

// A -tags cuda build also switches gorgonia to its own CUDA mode, which
// needs cuDNN and cannot build the training code: the backend's tag is
// dapocuda (docs/gpu.md). This undefined name makes the compiler say so.
var _ = the_CUDA_backend_builds_with_go_build_tags_dapocuda_not_cuda_see_docs_gpu_md
