#!/usr/bin/env bash
# cuda-check.sh — compile check of the CUDA backend without a GPU: builds
# and vets everything with -tags dapocuda against the headers and link stubs of
# Debian's CUDA 11.8 (scripts/cuda-sdk.sh, cached outside the clone),
# compiles the cuda test binaries (not run: no GPU), checks that the
# committed PTX is what kernels/cuda/src/dapo.cu compiles to, and assembles
# it for Ampere and Hopper as the driver's JIT will.
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
# The driver JIT-compiles the PTX for the GPU at hand. Assembling it here
# for sm_80 and sm_90 (Hopper, the test machine's H200) fails now on PTX
# the JIT would refuse, and on a kernel that needs more registers or
# static shared memory than its largest block can have: the launchers use
# at most 512 threads (kernels/cuda rowBlock), so 65536/512 = 128
# registers per thread, and 48 KiB of static shared memory.
ptxas=$sdk/usr/bin/ptxas
for arch in sm_80 sm_90; do
	if ! "$ptxas" -arch=$arch -v kernels/cuda/dapo.ptx -o "$tmp/dapo.$arch.cubin" 2>"$tmp/ptxas.$arch.log"; then
		echo "cuda-check: ptxas -arch=$arch rejects kernels/cuda/dapo.ptx:" >&2
		cat "$tmp/ptxas.$arch.log" >&2
		exit 1
	fi
	awk -v arch=$arch '
		/Compiling entry function/ { split($0, q, "\x27"); name = q[2] }
		/Used [0-9]+ registers/ {
			regs = 0; smem = 0
			for (i = 1; i <= NF; i++) {
				if ($(i+1) ~ /^registers/) regs = $i
				if ($(i+1) == "bytes" && $(i+2) ~ /^smem/) smem = $i
			}
			n++
			if (regs > 128 || smem > 49152) { printf "cuda-check: %s on %s: %d registers, %d bytes static shared memory: over a 512-thread block'"'"'s limits\n", name, arch, regs, smem; bad = 1 }
		}
		END { if (n == 0) { print "cuda-check: no ptxas resource report"; exit 1 } printf "cuda-check: %d kernels assemble for %s within the block limits\n", n, arch; exit bad }
	' "$tmp/ptxas.$arch.log" || exit 1
done
echo "cuda-check: ok"
