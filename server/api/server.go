// Package api serves a loaded DAPO detector over HTTP: feature bundles,
// detections with maps, bundle re-scoring (as the Worker does), zero-shot text features and service metadata,
// behind body and pixel limits, a bounded worker pool, per-request
// timeouts, optional bearer auth and CORS.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"time"

	"dapo/server/inference"
)

// Options configure a Server. Zero values take the documented defaults.
type Options struct {
	CheckpointName string               // shown in /v1/info and bundles
	CheckpointID   string               // stable checkpoint identity for bundles
	Thresholds     inference.Thresholds // default thresholds (queries override)
	Token          string               // bearer token; "" disables auth
	MaxBody        int64                // request body bytes (default 32 MiB)
	Workers        int                  // concurrent model workers (default GOMAXPROCS)
	Queue          int                  // requests waiting for a worker (default 2×Workers)
	Timeout        time.Duration        // per request, queueing included (default 60s)
	CORSOrigin     string               // allowed browser origin, "*" for any; "" disables CORS
	StaticDir      string               // files served at /; "" serves a small index page
	TextCacheDir   string               // cache for /v1/text features; "" disables
	Version        string               // reported by /v1/info (default: the build's)
	Logger         *slog.Logger         // default slog.Default()
}

// DefaultMaxBody bounds request bodies unless Options.MaxBody says otherwise.
const DefaultMaxBody = 32 << 20

// Server serves one Detector. It does not own it: the caller closes the
// Detector after the server has stopped.
type Server struct {
	det     *inference.Detector
	opts    Options
	pool    *pool
	metrics *metrics
	log     *slog.Logger
	handler http.Handler
}

// New builds a Server around det.
func New(det *inference.Detector, opts Options) (*Server, error) {
	if det == nil {
		return nil, errors.New("api: nil detector")
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Queue < 0 {
		return nil, fmt.Errorf("api: negative queue %d", opts.Queue)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.Thresholds.Image == 0 && opts.Thresholds.Pixel == 0 {
		opts.Thresholds = inference.Thresholds{Image: inference.DefaultImageThreshold,
			Pixel: float64(inference.DefaultPixelThreshold(len(det.Config.FeatureLayers))), Method: "default"}
	}
	// Bundles require a checkpoint identity; fall back to the name.
	if opts.CheckpointName == "" {
		opts.CheckpointName = "checkpoint"
	}
	if opts.CheckpointID == "" {
		opts.CheckpointID = opts.CheckpointName
	}
	if opts.Version == "" {
		opts.Version = buildVersion()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{det: det, opts: opts, pool: newPool(opts.Workers, opts.Queue), metrics: newMetrics(), log: opts.Logger}
	s.handler = s.routes()
	return s, nil
}

// Handler is the complete HTTP handler (routes and middleware).
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	api := func(path, method string, h http.HandlerFunc) {
		mux.Handle(path, s.instrument(path, s.cors(s.auth(allow(method, h)))))
	}
	api("/v1/features", http.MethodPost, s.handleFeatures)
	api("/v1/detect", http.MethodPost, s.handleDetect)
	api("/v1/score", http.MethodPost, s.scoreHandler())
	api("/v1/text", http.MethodPost, s.handleText)
	api("/v1/info", http.MethodGet, s.handleInfo)
	api("/metrics", http.MethodGet, s.handleMetrics)
	// Health checks and the browser app stay public: probes and page loads
	// carry no bearer token.
	mux.Handle("/healthz", s.instrument("/healthz", allow(http.MethodGet, s.handleHealth)))
	mux.Handle("/v1/", s.instrument("other", s.cors(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no endpoint " + r.URL.Path, Code: CodeNotFound})
	}))))
	mux.Handle("/", s.instrument("static", s.cors(s.rootHandler())))
	return mux
}

// Serve answers on ln until ctx ends, then shuts down gracefully: it stops
// accepting, lets running requests finish for up to the request timeout,
// and returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       s.opts.Timeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout+5*time.Second)
	defer cancel()
	err := hs.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "devel"
}
