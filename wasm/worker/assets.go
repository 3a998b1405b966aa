//go:build js && wasm

package main

import (
	"fmt"
	"io"
	"net/http"

	"github.com/syumai/workers/cloudflare"
	"github.com/syumai/workers/cloudflare/fetch"

	"dapo/wasm/edgeapi"
)

// assetsBinding is the binding name of the static assets: wrangler.toml's
// [assets] binding, and the service binding in workerd.capnp.
const assetsBinding = "ASSETS"

// assets forwards a GET or HEAD to the ASSETS binding. The router in front
// of the Worker already answers requests for existing files; what reaches
// here are paths without a file, which the binding answers as the assets
// config says (404, or a single-page app's index).
type assets struct{}

func (assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	bind := cloudflare.GetBinding(assetsBinding)
	if bind.IsUndefined() {
		edgeapi.WriteError(w, http.StatusNotFound, edgeapi.CodeNotFound, "no "+assetsBinding+" binding")
		return
	}
	// No body: the API handles every method but GET and HEAD itself.
	req, err := fetch.NewRequest(r.Context(), r.Method, r.URL.String(), nil)
	if err != nil {
		edgeapi.WriteError(w, http.StatusInternalServerError, edgeapi.CodeInternal, fmt.Sprintf("assets request: %v", err))
		return
	}
	req.Header = r.Header.Clone()
	// Manual: a redirect (e.g. /index.html → /) goes back to the browser.
	res, err := fetch.NewClient(fetch.WithBinding(bind)).Do(req, &fetch.RequestInit{Redirect: fetch.RedirectModeManual})
	if err != nil {
		edgeapi.WriteError(w, http.StatusBadGateway, edgeapi.CodeInternal, fmt.Sprintf("assets fetch: %v", err))
		return
	}
	defer res.Body.Close()
	for k, vs := range res.Header {
		w.Header()[k] = vs
	}
	if w.Header().Get("Content-Encoding") != "" {
		// fetch hands over the decoded body; its length is not the header's.
		w.Header().Del("Content-Length")
	}
	w.WriteHeader(res.StatusCode)
	// After the status is sent a copy error cannot be reported any more.
	_, _ = io.Copy(w, res.Body)
}
