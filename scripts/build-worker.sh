#!/usr/bin/env bash
# build-worker.sh [OUTDIR [ASSETS_DIR]] — the Cloudflare Worker (wasm/worker)
# into OUTDIR (default build/worker): worker.mjs, runtime.mjs, wasm_exec.js
# (syumai/workers' loader), app.wasm (Go, js/wasm), wrangler.toml (deploy)
# and workerd.capnp (local run), plus the browser app from ASSETS_DIR
# (default build/ui) in OUTDIR/assets — a placeholder page if it is missing,
# so the API can be built and run on its own. Prints raw and gzip -9 sizes:
# the gzipped script and wasm must stay under Cloudflare's 3 MB free-plan
# limit; static assets do not count toward it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-build/worker}")
assets=$(realpath -m "${2:-build/ui}")
go=${GO:-go}

# workers-assets-gen empties its output folder first: refuse obvious mistakes.
case "$out" in
/ | "$root" | "$HOME" | "$root/wasm"*) echo "build-worker.sh: refusing OUTDIR $out" >&2; exit 2 ;;
esac

cd "$root"
"$go" tool workers-assets-gen -mode=go -o "$out"
# GOEXPERIMENT=simd (the Makefile's) only matters for amd64 kernels; clearing
# it keeps one build cache entry for make, the test and plain shells.
GOEXPERIMENT= GOOS=js GOARCH=wasm "$go" build -trimpath -ldflags='-s -w' -o "$out/app.wasm" ./wasm/worker
cp wasm/worker/deploy/wrangler.toml wasm/worker/deploy/workerd.capnp "$out/"

mkdir -p "$out/assets"
if [ -d "$assets" ]; then
	cp -R "$assets/." "$out/assets/"
else
	echo "build-worker.sh: no assets at $assets (make ui builds them); using a placeholder page" >&2
	cat >"$out/assets/index.html" <<'HTML'
<!doctype html>
<meta charset="utf-8">
<title>dapo</title>
<p>dapo Worker: the browser app was not built into this deployment.
<p>API: <code>POST /v1/score</code> with a feature bundle, <code>GET /v1/info</code>, <code>GET /healthz</code>.
HTML
fi

raw=0 gz=0
for f in worker.mjs runtime.mjs wasm_exec.js app.wasm; do
	r=$(wc -c <"$out/$f")
	g=$(gzip -9c "$out/$f" | wc -c)
	printf '%-13s %9d bytes  %8d gzipped\n' "$f" "$r" "$g"
	raw=$((raw + r)) gz=$((gz + g))
done
printf '%-13s %9d bytes  %8d gzipped (limit 3000000; assets not counted)\n' total "$raw" "$gz"
