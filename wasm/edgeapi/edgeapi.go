// Package edgeapi is the Cloudflare Worker's HTTP API as a plain
// net/http handler: POST /v1/score scores a feature bundle with
// wasm/scoreapi, GET /v1/info and /healthz describe the Worker, and every
// other GET goes to the static assets (the browser app). wasm/worker wires
// it to syumai/workers; natively it runs under httptest, so the whole API is
// tested without a JavaScript runtime. It imports only shared/, wasm/scoreapi
// and the standard library.
package edgeapi

import (
	"fmt"
	"log/slog"
	"net/http"

	"dapo/shared/bundle"
	"dapo/shared/render"
	"dapo/wasm/scoreapi"
)

// DefaultMaxBody bounds the request body. The largest production bundle
// (ViT-L/14 @518, F32 layers) is about 17 MB; a Worker has 128 MB of memory
// in all, and the body, its decoded copy and the scoring buffers must fit.
const DefaultMaxBody = 32 << 20

// ServedByHeader and ServedBy mark every response of this handler.
const (
	ServedByHeader = "X-Served-By"
	ServedBy       = "dapo-worker"
)

// Config configures the handler; the zero value is usable.
type Config struct {
	// Assets answers every GET or HEAD outside the API (the browser app);
	// nil answers 404.
	Assets http.Handler
	// MaxBody bounds the request body in bytes (DefaultMaxBody if ≤ 0).
	MaxBody int64
	// Logger receives internal errors (slog.Default() if nil).
	Logger *slog.Logger
}

type handler struct {
	assets  http.Handler
	maxBody int64
	log     *slog.Logger
	mux     *http.ServeMux
}

// New returns the Worker's handler.
func New(cfg Config) http.Handler {
	h := &handler{assets: cfg.Assets, maxBody: cfg.MaxBody, log: cfg.Logger, mux: http.NewServeMux()}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBody
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.mux.Handle("/v1/score", allow(http.MethodPost, h.handleScore))
	h.mux.Handle("/v1/info", allow(http.MethodGet, h.handleInfo))
	h.mux.Handle("/healthz", allow(http.MethodGet, handleHealth))
	h.mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no endpoint " + r.URL.Path, Code: CodeNotFound})
	})
	h.mux.Handle("/", allow(http.MethodGet, h.handleAssets))
	return h
}

// ServeHTTP routes the request. A panic becomes a 500 instead of stopping
// the Go runtime, which in a Worker would fail every later request of the
// instance.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Marks what the Go side answered, as opposed to files the assets
	// router in front of the Worker serves without starting it.
	w.Header().Set(ServedByHeader, ServedBy)
	defer func() {
		if p := recover(); p != nil {
			h.writeError(w, r, fmt.Errorf("panic: %v", p))
		}
	}()
	h.mux.ServeHTTP(w, r)
}

// allow answers 405 with an Allow header for other methods; GET also
// admits HEAD.
func allow(method string, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
			w.Header().Set("Allow", method)
			writeJSON(w, http.StatusMethodNotAllowed, errorBody{
				Error: fmt.Sprintf("%s %s: use %s", r.Method, r.URL.Path, method),
				Code:  CodeMethodNotAllowed,
			})
			return
		}
		next(w, r)
	})
}

func handleHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// Info is the body of GET /v1/info.
type Info struct {
	Version       string   `json:"version"`
	BundleVersion string   `json:"bundleVersion"`
	MaxBodyBytes  int64    `json:"maxBodyBytes"`
	Colormaps     []string `json:"colormaps"`
}

func (h *handler) handleInfo(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, Info{
		Version:       scoreapi.Version(),
		BundleVersion: bundle.Version,
		MaxBodyBytes:  h.maxBody,
		Colormaps:     colormaps(),
	})
}

func colormaps() []string {
	var names []string
	for c := render.Jet; c <= render.Gray; c++ {
		names = append(names, c.String())
	}
	return names
}

func (h *handler) handleAssets(w http.ResponseWriter, r *http.Request) {
	if h.assets == nil {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no asset " + r.URL.Path, Code: CodeNotFound})
		return
	}
	h.assets.ServeHTTP(w, r)
}
