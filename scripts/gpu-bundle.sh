#!/usr/bin/env bash
# gpu-bundle.sh [OUTDIR] — the prepared GPU check (default build/gpu-bundle).
# The GPU machine has the NVIDIA driver, CUDA 13 and PyTorch but no Go and
# no network, so everything is built here: the cuda test binaries, a CUDA
# build of dapo, the golden files the tests read, PyTorch's benchmark
# script and run.sh, which runs it all on the GPU machine in under 8 minutes
# and writes the results to $OUT (default OUTDIR/results). The folder must
# stay under 64 MiB (checked at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/gpu-bundle}
export GOEXPERIMENT=${GOEXPERIMENT-simd}
sdk=$(scripts/cuda-sdk.sh)
export CGO_ENABLED=1
export CGO_CFLAGS="-I$sdk/usr/include ${CGO_CFLAGS:-}"
export CGO_LDFLAGS="-L$sdk/usr/lib/x86_64-linux-gnu/stubs ${CGO_LDFLAGS:-}"
go=${GO:-go}
flags=(-tags dapocuda -trimpath -ldflags="-s -w")

rm -rf "$out"
mkdir -p "$out/bin" "$out/golden"
for pkg in ./kernels/cuda ./server/gpu ./server/device ./shared/metrics; do
	name=$(basename "$pkg")
	echo "gpu-bundle: go test -c $pkg" >&2
	$go test -c "${flags[@]}" -o "$out/bin/$name.test" "$pkg"
done
echo "gpu-bundle: go build dapo" >&2
$go build "${flags[@]}" -o "$out/bin/dapo" ./server/cmd/dapo
# The binaries travel gzipped (the training step links gorgonia into
# gpu.test; uncompressed the bundle would pass 64 MiB); run.sh unpacks them.
gzip -9 "$out"/bin/*

# Golden data: the set's top-level files (the GPU tests read the tensors,
# the reference checkpoint and the PNGs; shared/metrics the metric cases),
# from $DAPO_GOLDEN or the team folder.
golden=${DAPO_GOLDEN:-../shared/testdata/golden}
find "$golden" -maxdepth 1 -type f ! -name README.md -exec cp {} "$out/golden/" \;

cp scripts/bench_torch_gpu.py "$out/"
cp kernels/cuda/src/dapo.cu kernels/cuda/src/head.cu "$out/"
cat >"$out/run.sh" <<'RUN'
#!/usr/bin/env bash
# run.sh — the GPU check. Results go to $OUT (default ./results): one log
# per step, summary.txt with each step's status and wall time. Each step
# has a timeout; the total stays under 8 minutes.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here/results}
mkdir -p "$out"
export DAPO_GOLDEN=$here/golden DAPO_REQUIRE_GPU=1
summary=$out/summary.txt
: >"$summary"
step() { # step NAME SECONDS CMD...
	local name=$1 limit=$2; shift 2
	local t0=$(date +%s)
	timeout --kill-after=10 "$limit" "$@" >"$out/$name.log" 2>&1
	local rc=$?
	printf '%-14s rc=%-3s %4ss  %s\n' "$name" "$rc" "$(( $(date +%s) - t0 ))" "$*" >>"$summary"
}
cd "$here"
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
for f in "$here"/bin/*.gz; do
	gunzip -c "$f" >"$bin/$(basename "$f" .gz)" && chmod +x "$bin/$(basename "$f" .gz)"
done
{ nvidia-smi || true; echo; nvcc --version 2>/dev/null || true; ls -l /usr/lib/x86_64-linux-gnu/libcublas.so* /usr/local/cuda/lib64/libcublas.so* 2>/dev/null || true; } >"$out/machine.txt" 2>&1
# cuBLAS from the toolkit or from PyTorch's wheel, whichever is found.
torchlib=$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))' 2>/dev/null || true)
nvlib=$(python3 -c 'import nvidia.cublas, os; print(os.path.join(list(nvidia.cublas.__path__)[0], "lib"))' 2>/dev/null || true)
export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}:/usr/local/cuda/lib64:$torchlib:$nvlib

# Timeouts sum to 470 s, inside the 8-minute budget.
step device          20 "$bin"/device.test -test.v
step kernels         70 "$bin"/cuda.test -test.v
step golden-gpu      80 "$bin"/gpu.test -test.v -test.run 'TestGolden|TestMatchesCPU|TestTowerBackward|TestHeadMatchesCPU|TestTrainStepGoldenGPU|TestDetectorGoldenGPU'
step metrics         10 "$bin"/metrics.test -test.v -test.run 'Golden'
step bench-go       100 "$bin"/gpu.test -test.run '^$' -test.bench 'ViTL14|Head' -test.benchtime 3x -test.v
step bench-dapo      60 "$bin"/gpu.test -test.run '^$' -test.bench 'DAPOTrainStep' -test.benchtime 1x -test.v
step bench-torch     70 python3 bench_torch_gpu.py --iters 3 --out "$out/torch.json"
step bench-torch-dapo 30 python3 bench_torch_gpu.py --dapo --iters 2 --out "$out/torch_dapo.json"
step dapo-cli        30 "$bin"/dapo bench vision --config ViT-L-14-336-quickgelu --image-size 518 --batch 8 --n 2 --device cuda --precision tf32
echo "done; see $summary" >&2
RUN
chmod +x "$out/run.sh"

size=$(du -sk "$out" | cut -f1)
echo "gpu-bundle: $out is $((size / 1024)) MiB" >&2
if [ "$size" -ge $((64 * 1024)) ]; then
	echo "gpu-bundle: over the 64 MiB limit" >&2
	exit 1
fi
