#!/usr/bin/env bash
# bench.sh BIN OUT.md — time the vision tower (random weights, batch 1) with
# dapo and with PyTorch on this machine and write a Markdown table.
set -euo pipefail
bin=$1 out=$2
n=${BENCH_N:-5}
cases=${BENCH_CASES:-"ViT-B-16-quickgelu:224 ViT-L-14-336-quickgelu:336"}
# OpenBLAS core-type overrides set on some machines slow PyTorch down; the
# comparison runs PyTorch as a user would, without them.
torch() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 scripts/bench_torch.py "$@"; }
field() { /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
{
	echo "# Benchmarks"
	echo
	echo "Machine: $cpu, $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(go version | cut -d' ' -f3); PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)') (Debian python3-torch), $(nproc) threads."
	echo "Measured $(date -u +%Y-%m-%d) by \`make bench\`: vision tower, random weights, batch 1, median of $n runs after a warm-up."
	echo
	echo "| model | image | dapo s/image | dapo GFLOP/s | PyTorch s/image | dapo / PyTorch |"
	echo "|---|---|---|---|---|---|"
} >"$out.tmp"
for c in $cases; do
	cfg=${c%%:*} size=${c##*:}
	echo "bench $cfg @ $size" >&2
	gj=$("$bin" bench vision --config "$cfg" --image-size "$size" --n "$n" --json)
	tj=$(torch --config "$cfg" --image-size "$size" --n "$n")
	g=$(echo "$gj" | field median_seconds_per_image)
	gf=$(echo "$gj" | field gflops_per_second)
	t=$(echo "$tj" | field median_seconds_per_image)
	printf '| %s | %s | %.3f | %.1f | %.3f | %.2f× |\n' "$cfg" "$size" "$g" "$gf" "$t" "$(/usr/bin/python3 -c "print($g / $t)")" >>"$out.tmp"
done
mv "$out.tmp" "$out"
cat "$out"
