#!/usr/bin/env bash
# demo.sh BIN OUTDIR SHARED — the end-to-end path available today:
# a deterministic random backbone, both CLIP towers on real images and on
# DAPO's prompt texts, features written to safetensors files.
set -euo pipefail
bin=$1 out=$2 shared=$3
mkdir -p "$out"
say() { printf '\n== %s\n' "$*"; }

say "1. a deterministic random CLIP backbone (the 'tiny' config; NOT pretrained)"
"$bin" model init --config tiny --seed 42 --out "$out/backbone" --force

images=()
if [ -d "$shared/data/mvtec-mini" ]; then
	while IFS= read -r f; do images+=("$f"); done < <(find "$shared/data/mvtec-mini" -path '*/test/*' -name '*.png' | sort | head -n 8)
fi
if [ ${#images[@]} -gt 0 ]; then
	say "2. encode ${#images[@]} MVTec images (decode, Pillow-exact bicubic resize, CLIP normalisation, vision tower)"
	"$bin" embed --model "$out/backbone" --out "$out/image_features.safetensors" --image "${images[@]}"
	"$bin" weights inspect "$out/image_features.safetensors"
else
	say "2. (skipped: no sample images at $shared/data/mvtec-mini)"
fi

say "3. encode DAPO's anchor texts (CLIP BPE tokenizer, text tower)"
"$bin" embed --model "$out/backbone" --out "$out/text_features.safetensors" \
	--text "a photo of a flawless object" "a photo of a scratch anomaly object" "a photo of a hole anomaly object"
"$bin" weights inspect "$out/text_features.safetensors"

cat <<MSG

The backbone above is RANDOM: the features are deterministic but carry no
meaning. With real CLIP weights the same commands produce real features:
  $bin weights pull ViT-L-14-336
  $bin embed --model ViT-L-14-336 --image-size 518 --image part.png
Prompt learning, anomaly maps and defect types arrive with 'dapo train',
'dapo test' and 'dapo detect'. Outputs are in $out.
MSG
