#!/bin/sh
# Build the inspection app (ui/) into a static folder that `dapo serve
# --static` or any static host can serve: index.html, style.css, sw.js,
# wasm_exec.js and app.wasm. Usage: scripts/build-ui.sh [OUTDIR] (default
# build/ui). Prints the wasm size raw and gzipped.
set -eu
out=${1:-build/ui}
root=$(cd "$(dirname "$0")/.." && pwd)
go=${GO:-go}
mkdir -p "$out"
out=$(cd "$out" && pwd)
# The app needs no SIMD kernels (GOEXPERIMENT=simd is amd64-only anyway).
(cd "$root" && GOEXPERIMENT= GOOS=js GOARCH=wasm $go build -trimpath -ldflags="-s -w" -o "$out/app.wasm.tmp" ./ui/app)
mv "$out/app.wasm.tmp" "$out/app.wasm"
cp "$root/ui/web/index.html" "$root/ui/web/style.css" "$root/ui/web/sw.js" "$out/"
cp "$($go env GOROOT)/lib/wasm/wasm_exec.js" "$out/"
printf '%s/app.wasm: %s bytes, %s gzipped\n' "$out" "$(wc -c < "$out/app.wasm")" "$(gzip -9c "$out/app.wasm" | wc -c)"
