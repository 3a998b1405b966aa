//go:build js && wasm

// Command worker is DAPO's Cloudflare Worker: the API of wasm/edgeapi
// (POST /v1/score a feature bundle → scores and PNG maps) served with
// syumai/workers, and the browser app as the Worker's static assets,
// reached through the ASSETS binding. scripts/build-worker.sh builds it;
// wasm/README.md says how to run and deploy it.
package main

import (
	"log/slog"
	"os"

	"github.com/syumai/workers"

	"dapo/wasm/edgeapi"
)

func main() {
	// wasm_exec.js sends stderr to console.error, which Workers keep in
	// their logs (wrangler tail) and workerd prints.
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	workers.Serve(wholeBodies(edgeapi.New(edgeapi.Config{Assets: assets{}, Logger: log})))
}
