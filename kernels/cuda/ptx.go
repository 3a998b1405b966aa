//go:build dapocuda

package cuda

import _ "embed"

// ptx is kernels/cuda/src/dapo.cu compiled for sm_80 (scripts/cuda-ptx.sh);
// the driver JIT-compiles it for the GPU at hand.
//
//go:embed dapo.ptx
var ptx string
