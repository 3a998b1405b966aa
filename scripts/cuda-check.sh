#!/usr/bin/env bash
# cuda-check.sh — compile check of the CUDA backend without a GPU: builds
# and vets everything with -tags dapocuda against the headers and link stubs of
# Debian's CUDA 11.8 (scripts/cuda-sdk.sh, cached outside the clone),
# compiles the cuda test binaries (not run: no GPU), and checks that the
# committed PTX is what kernels/cuda/src/dapo.cu compiles to.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOEXPERIMENT=${GOEXPERIMENT-simd}
sdk=$(scripts/cuda-sdk.sh)
export CGO_ENABLED=1
export CGO_CFLAGS="-I$sdk/usr/include ${CGO_CFLAGS:-}"
export CGO_LDFLAGS="-L$sdk/usr/lib/x86_64-linux-gnu/stubs ${CGO_LDFLAGS:-}"
go=${GO:-go}

echo "cuda-check: go build -tags dapocuda ./..."
$go build -tags dapocuda ./...
echo "cuda-check: go vet -tags dapocuda ./..."
$go vet -tags dapocuda ./...

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for pkg in $($go list -tags dapocuda -f '{{if .TestGoFiles}}{{.ImportPath}}{{end}}' ./kernels/cuda/... ./server/gpu/... ./server/device/...); do
	echo "cuda-check: go test -c -tags dapocuda $pkg"
	$go test -c -tags dapocuda -o "$tmp/$(basename "$pkg").test" "$pkg"
done

if scripts/cuda-ptx.sh "$tmp/dapo.ptx" 2>"$tmp/nvcc.log"; then
	# Compare without the header comments (they name the compiler build).
	if ! diff -q <(grep -v '^//' "$tmp/dapo.ptx") <(grep -v '^//' kernels/cuda/dapo.ptx) >/dev/null; then
		echo "cuda-check: kernels/cuda/dapo.ptx is stale: run scripts/cuda-ptx.sh (go generate ./kernels/cuda)" >&2
		exit 1
	fi
	echo "cuda-check: committed PTX matches kernels/cuda/src/dapo.cu"
else
	echo "cuda-check: nvcc unavailable, PTX not re-checked:" >&2
	cat "$tmp/nvcc.log" >&2
fi
echo "cuda-check: ok"
