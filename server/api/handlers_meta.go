package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"path/filepath"
	"strings"

	"dapo/server/dapo"
	"dapo/server/inference"
	"dapo/shared/bundle"
	"dapo/shared/imaging"
	"dapo/shared/safetensors"
)

// Limits on /v1/text input: each word runs the text tower once per prompt
// group, so the vocabulary per request is bounded.
const (
	maxTextWords   = 64
	maxWordLength  = 64
	maxTextBodyLen = 64 << 10
)

// bundleBytes assembles and encodes one image's feature bundle, as
// 'dapo features' writes it.
func (s *Server) bundleBytes(im *inference.Image, ft inference.Features, withJPEG bool, dt safetensors.DType) ([]byte, error) {
	b, err := s.det.Bundle(im, ft, bundle.Model{ID: s.opts.CheckpointID, Name: s.opts.CheckpointName}, withJPEG)
	if err != nil {
		return nil, err
	}
	out, err := bundle.Encode(b, dt)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	return out, nil
}

// textResponse is the body of /v1/text.
type textResponse struct {
	Classes      []string    `json:"classes"`
	TextFeatures [][]float32 `json:"text_features"`
}

// handleText computes class text features for new defect words with the
// checkpoint's learned prompts (zero-shot vocabulary for the browser).
func (s *Server) handleText(w http.ResponseWriter, r *http.Request) {
	words, err := readWords(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cfg := s.det.Config
	cfg.Defects = words
	var resp textResponse
	err = s.runModel(r.Context(), func(ctx context.Context) error {
		bb := s.det.Backbone
		feats, err := dapo.TextCache{Dir: s.opts.TextCacheDir}.Features(ctx, cfg, bb.Weights, bb.ID, s.det.Params)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// Words the tokenizer or the prompt templates cannot take.
			return &apiError{Status: http.StatusBadRequest, Code: CodeBadRequest, Err: fmt.Errorf("text features: %w", err)}
		}
		e := bb.Config.EmbedDim
		resp.Classes = cfg.ClassNames()
		for i := range 1 + len(words) {
			resp.TextFeatures = append(resp.TextFeatures, feats[i*e:(i+1)*e])
		}
		return nil
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// readWords reads a JSON array of defect words.
func readWords(w http.ResponseWriter, r *http.Request) ([]string, error) {
	if mt := strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0]); mt != "" && mt != "application/json" {
		return nil, newError(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "Content-Type %q: send application/json", mt)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxTextBodyLen))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, fmt.Errorf("read body: %w", err)
	}
	var raw []string
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, newError(http.StatusBadRequest, CodeBadRequest, `body must be a JSON array of defect words, e.g. ["crack","rust"]: %v`, err)
	}
	var words []string
	seen := map[string]bool{}
	for _, w := range raw {
		w = strings.TrimSpace(w)
		switch {
		case w == "":
			return nil, newError(http.StatusBadRequest, CodeBadRequest, "empty defect word")
		case len(w) > maxWordLength:
			return nil, newError(http.StatusBadRequest, CodeBadRequest, "defect word %.20q… longer than %d bytes", w, maxWordLength)
		case seen[w]:
			return nil, newError(http.StatusBadRequest, CodeBadRequest, "defect word %q given twice", w)
		}
		seen[w] = true
		words = append(words, w)
	}
	if len(words) == 0 || len(words) > maxTextWords {
		return nil, newError(http.StatusBadRequest, CodeBadRequest, "want 1 to %d defect words, got %d", maxTextWords, len(words))
	}
	return words, nil
}

// Info is the body of /v1/info.
type Info struct {
	Version        string               `json:"version"`
	Backbone       bundle.Model         `json:"backbone"`
	Checkpoint     bundle.Model         `json:"checkpoint"`
	ImageSize      int                  `json:"image_size"`
	Grid           int                  `json:"grid"`
	FeatureLayers  []int                `json:"feature_layers"`
	Classes        []string             `json:"classes"`
	Temperature    float64              `json:"temperature"`
	Thresholds     inference.Thresholds `json:"thresholds"`
	BundleVersion  string               `json:"bundle_version"`
	MaxBodyBytes   int64                `json:"max_body_bytes"`
	MaxPixels      int64                `json:"max_pixels"`
	Workers        int                  `json:"workers"`
	Queue          int                  `json:"queue"`
	TimeoutSeconds float64              `json:"timeout_seconds"`
	// Device is where images are encoded: "cpu", or the compute
	// backend's name (e.g. "cuda:0 (NVIDIA H200, f32, GEMM cuBLAS)").
	Device string `json:"device"`
}

func (s *Server) handleInfo(w http.ResponseWriter, r *http.Request) {
	d := s.det
	maxPx := d.Limits.MaxPixels
	if maxPx <= 0 {
		maxPx = imaging.DefaultMaxPixels
	}
	writeJSON(w, http.StatusOK, Info{
		Version:        s.opts.Version,
		Backbone:       bundle.Model{ID: d.Backbone.ID, Name: filepath.Base(d.Backbone.Dir)},
		Checkpoint:     bundle.Model{ID: s.opts.CheckpointID, Name: s.opts.CheckpointName},
		ImageSize:      d.Size(),
		Grid:           d.Grid(),
		FeatureLayers:  d.Config.FeatureLayers,
		Classes:        d.Classes(),
		Temperature:    d.Config.Temperature,
		Thresholds:     s.opts.Thresholds,
		BundleVersion:  bundle.Version,
		MaxBodyBytes:   s.opts.MaxBody,
		MaxPixels:      maxPx,
		Workers:        s.opts.Workers,
		Queue:          s.opts.Queue,
		TimeoutSeconds: s.opts.Timeout.Seconds(),
		Device:         cmp.Or(d.Device(), "cpu"),
	})
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	if err := s.metrics.write(w); err != nil {
		s.log.Debug("write metrics", "err", err)
	}
}

var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>dapo</title></head>
<body><h1>dapo {{.Version}}</h1>
<p>Zero-shot anomaly detection with defect-aware CLIP prompts. Classes: {{range $i, $c := .Classes}}{{if $i}}, {{end}}{{$c}}{{end}}.</p>
<ul>
<li><code>POST /v1/detect</code> — score an image</li>
<li><code>POST /v1/features</code> — feature bundle for offline scoring</li>
<li><code>POST /v1/text</code> — text features for new defect words</li>
<li><code>GET /v1/info</code>, <code>GET /healthz</code>, <code>GET /metrics</code></li>
</ul>
<p>See docs/api.md in the dapo repository for requests, responses and error codes.</p>
</body></html>
`))

// rootHandler serves --static when given, else the index page.
func (s *Server) rootHandler() http.Handler {
	if s.opts.StaticDir != "" {
		return allow(http.MethodGet, http.FileServer(http.Dir(s.opts.StaticDir)).ServeHTTP)
	}
	return allow(http.MethodGet, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			writeJSON(w, http.StatusNotFound, errorBody{Error: "no page " + r.URL.Path, Code: CodeNotFound})
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := indexPage.Execute(w, struct {
			Version string
			Classes []string
		}{s.opts.Version, s.det.Classes()}); err != nil {
			s.log.Debug("write index", "err", err)
		}
	})
}
