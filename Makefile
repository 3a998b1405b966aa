# dapo — build, test, demo and benchmark targets.
# The two set-up commands on a fresh machine are `make demo` and `make test`;
# each installs what it needs (Go modules; Debian packages when missing).

GO      ?= go
# The SIMD SGEMM kernels need Go's experimental simd package; builds without
# it (and the wasm build) use the portable kernel.
export GOEXPERIMENT := simd
BIN     := bin/dapo
DEMO    ?= build/demo
GOFILES := $(shell find . -name '*.go' -not -path './build/*' -not -path './bin/*')

.PHONY: all build test test-deps vet fmt-check wasm-check wasm ui worker demo bench fuzz cuda-check gpu-bundle clean help

all: build

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

build: ## build bin/dapo
	$(GO) build -o $(BIN) ./server/cmd/dapo

test: test-deps fmt-check vet wasm-check ## run every test (golden parity, fuzz seeds, CLI, Chromium, workerd)
	DAPO_REQUIRE_BROWSER=1 $(GO) test -count=1 ./...
	GOEXPERIMENT= $(GO) test -count=1 ./kernels/... ./server/clip/

vet:
	$(GO) vet ./...

# Node runs the wasm module's test, Chromium the app's; installed from Debian
# when missing (workerd comes from npm, cached outside the clone by its test).
test-deps:
	@command -v node >/dev/null && command -v npm >/dev/null || ./scripts/ensure-packages.sh nodejs npm
	@command -v chromium >/dev/null || ./scripts/ensure-packages.sh chromium

fmt-check:
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# shared/ and kernels/ must stay buildable for the browser.
wasm-check:
	GOOS=js GOARCH=wasm $(GO) build ./shared/... ./kernels/... ./wasm/... ./ui/...
	GOOS=js GOARCH=wasm $(GO) vet ./shared/... ./wasm/... ./ui/...

wasm: ## browser scoring module -> build/wasm/ (prints its size)
	mkdir -p build/wasm
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags="-s -w" -o build/wasm/scorer.wasm ./wasm/scorer
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" build/wasm/
	@printf 'build/wasm/scorer.wasm: %s bytes, %s gzipped\n' $$(wc -c < build/wasm/scorer.wasm) $$(gzip -9c build/wasm/scorer.wasm | wc -c)

ui: ## the browser inspection app (vugu, wasm) -> build/ui/, a static folder
	./scripts/build-ui.sh build/ui

worker: ui ## the Cloudflare Worker (scoring API + the app as assets) -> build/worker/
	./scripts/build-worker.sh build/worker build/ui

demo: build ## synthetic data, random backbone, train on A, test zero-shot on B, then serve the app (CPU, minutes)
	./scripts/demo.sh $(BIN) $(DEMO)

bench: build ## Go benchmarks beside PyTorch on this machine -> docs/benchmarks.md
	./scripts/ensure-packages.sh python3-torch
	./scripts/bench.sh $(BIN) docs/benchmarks.md

cuda-check: ## compile-check the CUDA backend (-tags dapocuda) without a GPU; caches Debian's CUDA 11.8 SDK once
	./scripts/cuda-check.sh

gpu-bundle: ## build/gpu-bundle: CUDA test binaries, golden data, PyTorch script and run.sh for a GPU machine (< 64 MiB)
	./scripts/gpu-bundle.sh build/gpu-bundle

fuzz: ## run each fuzz target for FUZZTIME (default 30s)
	./scripts/fuzz.sh $${FUZZTIME:-30s}

clean:
	rm -rf bin build
