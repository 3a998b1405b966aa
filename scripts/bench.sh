#!/usr/bin/env bash
# bench.sh BIN OUT.md — time dapo beside PyTorch on this machine and write
# a Markdown report: the vision tower (random weights, batch 1), DAPO's text
# side, the SGEMM rate OpenBLAS reaches (the ceiling the towers are held
# against) and the peak memory of `dapo detect`.
#
# Each dapo case runs right before its PyTorch twin, so both see the same
# machine state. Environment: BENCH_N timed runs per case (default 5);
# BENCH_CASES vision cases CONFIG:SIZE:TARGET (TARGET the dapo/PyTorch
# ratio to meet); BENCH_TEXT text case CONFIG:TARGET (empty: skip);
# BENCH_RSS detect case CONFIG:SIZE (empty: skip; writes a random backbone
# of that config, 1.7 GB for ViT-L, to a temporary folder).
set -euo pipefail
# The SGEMM benchmark below builds with the SIMD kernels, as `make` does.
export GOEXPERIMENT=${GOEXPERIMENT-simd}
bin=$1 out=$2
n=${BENCH_N:-5}
cases=${BENCH_CASES-"ViT-B-16-quickgelu:224:0.7 ViT-L-14-336-quickgelu:336:0.75 ViT-L-14-336-quickgelu:518:0.85"}
text=${BENCH_TEXT-"ViT-L-14-336-quickgelu:0.9"}
rss=${BENCH_RSS-"ViT-L-14-336-quickgelu:518"}
sgemmCase=ViT-L-14-336-quickgelu:336 # the tower held against OpenBLAS
sgemmTarget=0.70
rssBudgetMB=600

# OpenBLAS core-type overrides set on some machines slow PyTorch down; the
# comparison runs PyTorch as a user would, without them.
torch() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 scripts/bench_torch.py "$@"; }
field() { /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
calc() { /usr/bin/python3 -c "print($1)"; }
verdict() { if [ "$(calc "$1 <= $2")" = True ]; then echo met; else echo "**not met**"; fi; }

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'avx512f|avx512_bf16|avx512_vnni|avx2' | tr '\n' ' ' | sed 's/ $//')
load=$(cut -d' ' -f1-3 /proc/loadavg)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

vision=() towerGF=""
for c in $cases; do
	IFS=: read -r cfg size target <<<"$c"
	echo "bench vision $cfg @ $size" >&2
	gj=$("$bin" bench vision --config "$cfg" --image-size "$size" --n "$n" --json)
	tj=$(torch --config "$cfg" --image-size "$size" --n "$n")
	g=$(echo "$gj" | field median_seconds_per_image)
	gf=$(echo "$gj" | field gflops_per_second)
	t=$(echo "$tj" | field median_seconds_per_image)
	r=$(calc "$g / $t")
	[ "$cfg:$size" = "$sgemmCase" ] && towerGF=$gf
	vision+=("$(printf '| %s | %s | %.3f | %.1f | %.3f | %.1f | %.2f× | ≤ %s× | %s |' "$cfg" "$size" "$g" "$gf" "$t" "$(calc "$gf * $g / $t")" "$r" "$target" "$(verdict "$r" "$target")")")
done

textRow=""
if [ -n "$text" ]; then
	IFS=: read -r cfg target <<<"$text"
	echo "bench text $cfg" >&2
	gj=$("$bin" bench text --config "$cfg" --n "$n" --json)
	tj=$(torch --text --config "$cfg" --n "$n")
	g=$(echo "$gj" | field median_seconds)
	gf=$(echo "$gj" | field gflops_per_second)
	t=$(echo "$tj" | field median_seconds)
	r=$(calc "$g / $t")
	textRow=$(printf '| %s text tower, 211 × 81 tokens | %.2f | %.1f | %.2f | %.1f | %.2f× | ≤ %s× | %s |' "$cfg" "$g" "$gf" "$t" "$(calc "$gf * $g / $t")" "$r" "$target" "$(verdict "$r" "$target")")
fi

echo "bench SGEMM n=2048" >&2
blas=$(torch --sgemm 2048 --n "$n" | field gflops_per_second)
goSgemm=$(go test -run '^$' -bench 'Sgemm/square_2048_NN/auto$' -benchtime "${n}x" ./kernels/cpu | awk '/GFLOP\/s/{print $(NF-1)}')

rssRow=""
if [ -n "$rss" ]; then
	IFS=: read -r cfg size <<<"$rss"
	echo "bench detect RSS $cfg @ $size" >&2
	"$bin" model init --config "$cfg" --seed 1 --out "$tmp/model" >&2
	"$bin" checkpoint init --model "$tmp/model" --seed 1 --out "$tmp/ckpt.safetensors" >&2
	"$bin" synth --out "$tmp/synth" --family A --n 1 --size "$size" >&2
	img=$(find "$tmp/synth" -path '*/test/*' -name '*.png' | sort | head -1)
	/usr/bin/time -f '%M' -o "$tmp/rss" "$bin" detect "$img" --checkpoint "$tmp/ckpt.safetensors" --model "$tmp/model" \
		--image-size "$size" --batch 1 --out "$tmp/detect" >/dev/null 2>&1
	peakMB=$(calc "$(tail -1 "$tmp/rss") * 1024 / 1e6")
	weightsMB=$(calc "$(stat -c %s "$tmp/model/backbone.safetensors") / 1e6")
	over=$(calc "$peakMB - $weightsMB")
	rssRow=$(printf '| `dapo detect`, %s @ %s, batch 1 | %.0f MB | %.0f MB | %+.0f MB | ≤ +%s MB | %s |' "$cfg" "$size" "$peakMB" "$weightsMB" "$over" "$rssBudgetMB" "$(verdict "$over" "$rssBudgetMB")")
fi

{
	echo "# Benchmarks"
	echo
	echo "Machine: $cpu ($flags), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(go version | cut -d' ' -f3); PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)') (Debian python3-torch, OpenBLAS), $(nproc) threads."
	echo "Measured $(date -u +%Y-%m-%d) by \`make bench\` (load average at the start: $load): random weights, median of $n runs after a warm-up, each dapo case run right before its PyTorch twin."
	echo
	echo "## Vision tower, batch 1"
	echo
	echo "| model | image | dapo s/image | dapo GFLOP/s | PyTorch s/image | PyTorch GFLOP/s | dapo / PyTorch | target | |"
	echo "|---|---|---|---|---|---|---|---|---|"
	printf '%s\n' "${vision[@]}"
	if [ -n "$textRow" ]; then
		echo
		echo "## DAPO text side"
		echo
		echo "1 normal + 20 MVTec states × 10 prompt groups = 211 sequences of 77 + 4 deep-prompt tokens through the text tower's blocks, no causal mask (\`dapo bench text\`, \`bench_torch.py --text\`)."
		echo
		echo "| case | dapo s | dapo GFLOP/s | PyTorch s | PyTorch GFLOP/s | dapo / PyTorch | target | |"
		echo "|---|---|---|---|---|---|---|---|"
		echo "$textRow"
	fi
	echo
	echo "## Against the SGEMM ceiling"
	echo
	echo "| OpenBLAS SGEMM n=2048 (torch.mm) | dapo SGEMM n=2048 | ${sgemmCase%%:*} @ ${sgemmCase##*:} tower | tower / OpenBLAS | target | |"
	echo "|---|---|---|---|---|---|"
	if [ -n "$towerGF" ]; then
		r=$(calc "$towerGF / $blas")
		met=met
		[ "$(calc "$r >= $sgemmTarget")" = True ] || met="**not met**"
		printf '| %.0f GFLOP/s | %.0f GFLOP/s | %.0f GFLOP/s | %.0f %% | ≥ %.0f %% | %s |\n' "$blas" "$goSgemm" "$towerGF" "$(calc "100 * $r")" "$(calc "100 * $sgemmTarget")" "$met"
	else
		printf '| %.0f GFLOP/s | %.0f GFLOP/s | (not run) | | | |\n' "$blas" "$goSgemm"
	fi
	if [ -n "$rssRow" ]; then
		echo
		echo "## Memory"
		echo
		echo "Peak resident set of one \`dapo detect\` run (random F32 backbone, memory-mapped, so its pages count once touched; untrained checkpoint; one synthetic image), from \`/usr/bin/time\`."
		echo
		echo "| case | peak RSS | weights file | peak − weights | target | |"
		echo "|---|---|---|---|---|---|"
		echo "$rssRow"
	fi
	# How the kernels were chosen and where the time goes: hand-written,
	# from the profiles (it quotes figures, so re-read it after a run).
	if [ -f scripts/bench_notes.md ]; then
		echo
		cat scripts/bench_notes.md
	fi
} >"$out.tmp"
mv "$out.tmp" "$out"
cat "$out"
