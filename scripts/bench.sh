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
# BENCH_RSS detect case CONFIG:SIZE (empty: skip; writes random F32 and
# then F16 backbones of that config, 1.7 and 0.86 GB for ViT-L, one at a
# time, to a temporary folder); BENCH_TRAIN
# 1 (default) or 0: one DAPO training step of ViT-B/16@224 at batch 2 (`go
# test -bench TrainStepViTB16/cpu-step ./server/train` beside
# scripts/dapo_torch_step.py --bench), after the PyTorch step has passed the
# golden set's train_step check (DAPO_GOLDEN, default ../shared/testdata/golden);
# BENCH_TRAIN_N timed steps per side (default 3; a step takes tens of seconds).
set -euo pipefail
# The SGEMM benchmark below builds with the SIMD kernels, as `make` does.
export GOEXPERIMENT=${GOEXPERIMENT-simd}
bin=$1 out=$2
n=${BENCH_N:-5}
cases=${BENCH_CASES-"ViT-B-16-quickgelu:224:0.7 ViT-L-14-336-quickgelu:336:0.75 ViT-L-14-336-quickgelu:518:0.85"}
text=${BENCH_TEXT-"ViT-L-14-336-quickgelu:0.9"}
rss=${BENCH_RSS-"ViT-L-14-336-quickgelu:518"}
trainStep=${BENCH_TRAIN-1}
trainN=${BENCH_TRAIN_N:-3}
trainTarget=1.0 # issue #6: no slower than PyTorch autograd
golden=${DAPO_GOLDEN:-../shared/testdata/golden}
sgemmCase=ViT-L-14-336-quickgelu:336 # the tower held against OpenBLAS
sgemmTarget=0.70
rssBudgetMB=600

# OpenBLAS core-type overrides set on some machines slow PyTorch down; the
# comparison runs PyTorch as a user would, without them.
torch() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 scripts/bench_torch.py "$@"; }
torchstep() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 scripts/dapo_torch_step.py "$@"; }
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
	textRow=$(printf '| %s text tower, 210 × 81 tokens | %.2f | %.1f | %.2f | %.1f | %.2f× | ≤ %s× | %s |' "$cfg" "$g" "$gf" "$t" "$(calc "$gf * $g / $t")" "$r" "$target" "$(verdict "$r" "$target")")
fi

trainRow=""
if [ -n "$trainStep" ] && [ "$trainStep" != 0 ]; then
	# The same step on both sides: the PyTorch step must first reproduce the
	# reference's losses, gradients and Adam updates on the golden set.
	echo "golden check of scripts/dapo_torch_step.py" >&2
	if [ ! -f "$golden/train_step.safetensors" ]; then
		check="not checked (no golden set at \`$golden\`)"
	elif gout=$(torchstep --golden "$golden" 2>&1); then
		check=$(echo "$gout" | tail -1 | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print('passed (%d values of %d steps, worst %.2f of tolerance)' % (d['compared'], d['steps'], d['worst_err_over_tol']))")
	else
		echo "$gout" | grep -v ' ok$' >&2 || true
		check="**failed**"
	fi
	echo "bench train step ViT-B-16-quickgelu @ 224, batch 2" >&2
	g=$(go test -run '^$' -bench 'TrainStepViTB16$/^cpu-step$' -benchtime "${trainN}x" -count 1 -timeout 60m ./server/train |
		awk '/^BenchmarkTrainStepViTB16\/cpu-step/{for (i = 1; i < NF; i++) if ($(i+1) == "ns/op") print $i / 1e9}' | sort -g |
		/usr/bin/python3 -c "import statistics,sys; print(statistics.median(float(l) for l in sys.stdin))")
	tj=$(torchstep --bench --config ViT-B-16-quickgelu --image-size 224 --batch 2 --n "$trainN")
	t=$(echo "$tj" | field median_seconds_per_step)
	r=$(calc "$g / $t")
	v=$(verdict "$r" "$trainTarget")
	[ "$check" = "**failed**" ] && v="**not comparable** (golden check failed)"
	trainRow=$(printf '| ViT-B-16-quickgelu @ 224, batch 2 | %s | %.1f | %.1f | %.2f× | ≤ %s× | %s |' "$check" "$g" "$t" "$r" "$trainTarget" "$v")
fi

echo "bench SGEMM n=2048" >&2
blas=$(torch --sgemm 2048 --n "$n" | field gflops_per_second)
goSgemm=$(go test -run '^$' -bench 'Sgemm/square_2048_NN/auto$' -benchtime "${n}x" ./kernels/cpu | awk '/GFLOP\/s/{print $(NF-1)}')

rssRows=()
if [ -n "$rss" ]; then
	IFS=: read -r cfg size <<<"$rss"
	"$bin" synth --out "$tmp/synth" --family A --n 1 --size "$size" >&2
	img=$(find "$tmp/synth" -path '*/test/*' -name '*.png' | sort | head -1)
	# F32 is used in place from the mapping; F16 block matrices stay mapped
	# and are widened per block (weights.Options.LazyHalf).
	for dtype in f32 f16; do
		echo "bench detect RSS $cfg @ $size, $dtype" >&2
		"$bin" model init --config "$cfg" --seed 1 --dtype "$dtype" --out "$tmp/model" >&2
		"$bin" checkpoint init --model "$tmp/model" --seed 1 --out "$tmp/ckpt.safetensors" >&2
		/usr/bin/time -f '%M' -o "$tmp/rss" "$bin" detect "$img" --checkpoint "$tmp/ckpt.safetensors" --model "$tmp/model" \
			--image-size "$size" --batch 1 --out "$tmp/detect" >/dev/null 2>&1
		peakMB=$(calc "$(tail -1 "$tmp/rss") * 1024 / 1e6")
		weightsMB=$(calc "$(stat -c %s "$tmp/model/backbone.safetensors") / 1e6")
		over=$(calc "$peakMB - $weightsMB")
		rssRows+=("$(printf '| `dapo detect`, %s @ %s, %s weights, batch 1 | %.0f MB | %.0f MB | %+.0f MB | ≤ +%s MB | %s |' "$cfg" "$size" "${dtype^^}" "$peakMB" "$weightsMB" "$over" "$rssBudgetMB" "$(verdict "$over" "$rssBudgetMB")")")
		rm -rf "$tmp/model" "$tmp/ckpt.safetensors" "$tmp/detect"
	done
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
		echo "(1 normal + 20 MVTec states) × 10 prompt groups = 210 sequences of 77 + 4 deep-prompt tokens through the text tower's blocks, no causal mask (\`dapo bench text\`, \`bench_torch.py --text\`)."
		echo
		echo "| case | dapo s | dapo GFLOP/s | PyTorch s | PyTorch GFLOP/s | dapo / PyTorch | target | |"
		echo "|---|---|---|---|---|---|---|---|"
		echo "$textRow"
	fi
	if [ -n "$trainRow" ]; then
		echo
		echo "## Training step"
		echo
		echo "One DAPO training step (both towers forward and backward with the deep prompts, adapters, head, focal + dice + image CE losses, Adam) with random weights, the reference's DAPO config fitted to the backbone (feature layers 3, 6, 9, 12; deep prompts on every block) and MVTec's 20 training states: 210 text sequences of 81 tokens and 2 images per step. dapo: \`go test -bench TrainStepViTB16/cpu-step ./server/train\`, mean of $trainN consecutive steps after the graph is built (the first included: \`-benchtime ${trainN}x\`); PyTorch: \`scripts/dapo_torch_step.py --bench\` (autograd, \`torch.optim.Adam\`, frozen CLIP weights without gradients), median of $trainN steps after a warm-up step. The golden check runs the PyTorch step on the golden set (\`--golden\`) against the reference's losses, gradients and updated parameters of two steps under tolerances.json."
		echo
		echo "| case | PyTorch step vs golden | dapo s/step | PyTorch s/step | dapo / PyTorch | target | |"
		echo "|---|---|---|---|---|---|---|"
		echo "$trainRow"
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
	if [ ${#rssRows[@]} -gt 0 ]; then
		echo
		echo "## Memory"
		echo
		echo "Peak resident set of one \`dapo detect\` run (random backbone, memory-mapped, so its pages count once touched: F32 tensors are used in place, F16 block matrices widened to float32 one block at a time; untrained checkpoint; one synthetic image), from \`/usr/bin/time\`."
		echo
		echo "| case | peak RSS | weights file | peak − weights | target | |"
		echo "|---|---|---|---|---|---|"
		printf '%s\n' "${rssRows[@]}"
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
