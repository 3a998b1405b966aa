#!/usr/bin/env bash
# demo.sh BIN OUTDIR — the main job on embedded defaults, on CPU:
# synthetic datasets A and B, a deterministic random backbone, DAPO trained
# on A, evaluated zero-shot on B (other products, three defect types never
# seen in training), heatmaps and detections written.
set -euo pipefail
bin=$1 out=$2
size=${DEMO_IMAGE_SIZE:-112}
epochs=${DEMO_EPOCHS:-5}
mkdir -p "$out"
say() { printf '\n== %s\n' "$*"; }

say "1. synthetic data: family A (training) and family B (unseen products)"
"$bin" synth --family A --n 40 --size 128 --seed 1 --out "$out/A" --force
"$bin" synth --family B --n 24 --size 128 --seed 2 --out "$out/B" --force
"$bin" data summary --format mvtec --root "$out/B"

say "2. a deterministic RANDOM CLIP backbone (the 'tiny' config; not pretrained)"
"$bin" model init --config tiny --seed 42 --out "$out/backbone" --force

say "3. train DAPO on A ($epochs epochs at ${size}px, CPU)"
rm -rf "$out/run"
"$bin" train --format mvtec --root "$out/A" --model "$out/backbone" --image-size "$size" \
	--epochs "$epochs" --batch 8 --out "$out/run"

say "4. evaluate zero-shot on B (crack, missing and bent never appear in A)"
"$bin" test --format mvtec --root "$out/B" --checkpoint "$out/run/last.safetensors" --model "$out/backbone" \
	--defects scratch,hole,contamination,discoloration,crack,missing,bent --out "$out/eval"

say "5. detect on a few B images (JSON, heatmap, overlay, mask per image)"
"$bin" detect "$out/B/pcb/test/missing" "$out/B/washer/test/crack" --checkpoint "$out/run/last.safetensors" \
	--model "$out/backbone" --defects scratch,hole,contamination,discoloration,crack,missing,bent --out "$out/detect"

say "6. the browser app with B's test images: feature bundles (+ ground truth) in its gallery"
rm -rf "$out/site"
./scripts/build-ui.sh "$out/site" >/dev/null
"$bin" features "$out/B"/*/test --checkpoint "$out/run/last.safetensors" --model "$out/backbone" \
	--defects scratch,hole,contamination,discoloration,crack,missing,bent --f16 --out "$out/site/gallery" >/dev/null
echo "$(ls "$out/site/gallery" | grep -c bundle.safetensors) bundles in $out/site/gallery"

cat <<MSG

The backbone above is RANDOM (deterministic, not pretrained): the numbers
show the whole pipeline working — training, zero-shot transfer to unseen
products and defect words, metrics, heatmaps — not DAPO's accuracy. With
real CLIP weights the same commands run the reference setup:
  $bin weights pull ViT-L-14-336
  $bin train --format mvtec --root MVTEC_AD --model ViT-L-14-336 --out runs/mvtec   # 518 px; GPU advised
  $bin test --format visa --root VISA --checkpoint runs/mvtec/epoch_1.safetensors --model ViT-L-14-336 --out eval/visa
Results: $out/eval (metrics.md, heatmaps/, curves/, embedding.png), $out/detect,
and the browser app with the gallery in $out/site (any static host serves it;
re-scoring runs in the page, offline once loaded).
MSG

[ "${DEMO_SERVE:-1}" = 0 ] && exit 0
addr=${DEMO_ADDR:-127.0.0.1:8080}
# A busy port should not end the demo: take a free one and print its URL.
if (exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}") 2>/dev/null; then
	echo "$addr is in use; picking a free port" >&2
	addr=${addr%:*}:0
fi
say "7. serving the app (and the API) — open the URL below; Ctrl-C stops"
[ "${addr##*:}" != 0 ] && echo "    http://$addr/"
exec "$bin" serve --addr "$addr" --model "$out/backbone" --checkpoint "$out/run/last.safetensors" \
	--defects scratch,hole,contamination,discoloration,crack,missing,bent --static "$out/site"
