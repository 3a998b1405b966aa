#!/usr/bin/env bash
# cuda-ptx.sh [OUT] — compile kernels/cuda/src/dapo.cu to PTX (default:
# kernels/cuda/dapo.ptx, the committed file that kernels/cuda embeds).
# Uses $NVCC when set (e.g. the GPU machine's own nvcc), else the nvcc of
# the cached SDK (scripts/cuda-sdk.sh). The target is sm_80 (Ampere: TF32
# tensor cores); newer drivers JIT-compile it for the GPU at hand.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-kernels/cuda/dapo.ptx}
if [ -z "${NVCC:-}" ]; then
	sdk=$(scripts/cuda-sdk.sh)
	NVCC=$sdk/usr/lib/nvidia-cuda-toolkit/bin/nvcc
fi
host=$(command -v g++-12 || command -v g++)
# The host compiler only preprocesses here; Debian's CUDA 11.8 nvcc
# predates gcc 12, hence -allow-unsupported-compiler.
"$NVCC" -ptx -arch=sm_80 -O3 -ccbin "$host" -allow-unsupported-compiler \
	-o "$out.tmp" kernels/cuda/src/dapo.cu
# The header names the compiler build; keep the file reproducible across
# nvcc builds of the same release only by content below it.
mv "$out.tmp" "$out"
