package edgeapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"dapo/shared/bundle"
	"dapo/shared/render"
	"dapo/shared/safetensors"
	"dapo/wasm/scoreapi"
)

// ScoreResponse is the body of POST /v1/score: scoreapi's JSON fields, the
// image threshold used and, with ?maps=1, the PNGs (base64 in JSON).
type ScoreResponse struct {
	*scoreapi.Result
	ImageThreshold float64 `json:"imageThreshold"`
	HeatmapPNG     []byte  `json:"heatmapPNG,omitempty"`
	MaskPNG        []byte  `json:"maskPNG,omitempty"`
	OverlayPNG     []byte  `json:"overlayPNG,omitempty"`
}

func (h *handler) handleScore(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	data, err := h.readBundle(w, r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := q.check(data); err != nil {
		h.writeError(w, r, err)
		return
	}
	q.opts.NoImages = !q.maps
	res, err := scoreapi.Score(data, q.opts)
	if err != nil {
		h.writeError(w, r, scoreError(err))
		return
	}
	out := ScoreResponse{Result: res, ImageThreshold: q.imageThreshold}
	if q.maps {
		out.HeatmapPNG, out.MaskPNG, out.OverlayPNG = res.HeatmapPNG, res.MaskPNG, res.OverlayPNG
	}
	writeJSON(w, http.StatusOK, out)
}

// scoreError classifies scoreapi's errors. The query and the subset were
// checked beforehand, so what remains is the bundle's content (shapes,
// NaN, norms, thumbnail) — except a recovered panic, which is a bug.
func scoreError(err error) error {
	if strings.HasPrefix(err.Error(), "dapo: internal error") {
		return err
	}
	return &apiError{Status: http.StatusUnprocessableEntity, Code: CodeInvalidBundle, Err: err}
}

// readBundle returns the bundle bytes from a raw application/octet-stream
// body or from the multipart field "bundle", capped at maxBody (413).
func (h *handler) readBundle(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > h.maxBody {
		// Refuse before reading: the Worker's memory is small.
		return nil, &http.MaxBytesError{Limit: h.maxBody}
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.maxBody)
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, newError(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "Content-Type %q: send application/octet-stream or multipart/form-data", ct)
	}
	var data []byte
	switch mt {
	case "application/octet-stream":
		if data, err = readAll(r.Body, r.ContentLength); err != nil {
			return nil, fmt.Errorf("read body: %w", err)
		}
	case "multipart/form-data":
		if params["boundary"] == "" {
			return nil, newError(http.StatusBadRequest, CodeBadRequest, "multipart body without a boundary")
		}
		if data, err = readMultipartBundle(r); err != nil {
			return nil, err
		}
	default:
		return nil, newError(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "Content-Type %q: send application/octet-stream or multipart/form-data", mt)
	}
	if len(data) == 0 {
		return nil, newError(http.StatusBadRequest, CodeMissingBundle, "empty bundle")
	}
	return data, nil
}

// readAll reads r, allocating once when the length is known: growing a
// slice by doubling would briefly need twice the body in memory.
func readAll(r io.Reader, size int64) ([]byte, error) {
	var buf bytes.Buffer
	if size > 0 {
		buf.Grow(int(size) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// readMultipartBundle streams parts until the field "bundle", so other
// fields cost no memory.
func readMultipartBundle(r *http.Request) ([]byte, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, newError(http.StatusBadRequest, CodeBadRequest, "multipart: %v", err)
	}
	var mbe *http.MaxBytesError
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, newError(http.StatusBadRequest, CodeMissingBundle, `multipart body has no field "bundle"`)
		}
		if errors.As(err, &mbe) {
			return nil, err
		}
		if err != nil {
			return nil, newError(http.StatusBadRequest, CodeBadRequest, "multipart: %v", err)
		}
		if p.FormName() != "bundle" {
			p.Close()
			continue
		}
		data, err := io.ReadAll(p)
		p.Close()
		if errors.As(err, &mbe) {
			return nil, err
		}
		if err != nil {
			return nil, newError(http.StatusBadRequest, CodeBadRequest, "multipart bundle: %v", err)
		}
		return data, nil
	}
}

// query holds the parsed query parameters.
type query struct {
	opts           scoreapi.Options
	imageThreshold float64
	maps           bool
}

// parseQuery reads pixel_threshold, image_threshold, subset, colormap,
// alpha and maps; other parameters are ignored, as the server does.
func parseQuery(r *http.Request) (query, error) {
	q := query{imageThreshold: 0.5}
	vals := r.URL.Query()
	if s := vals.Get("maps"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return q, newError(http.StatusBadRequest, CodeBadQuery, "query maps=%q: want true/false or 1/0", s)
		}
		q.maps = b
	}
	if v, ok, err := queryFloat(vals, "image_threshold"); err != nil {
		return q, err
	} else if ok {
		if v < 0 || v > 1 {
			return q, newError(http.StatusBadRequest, CodeBadQuery, "image_threshold %g must lie in [0,1]", v)
		}
		q.imageThreshold = v
	}
	q.opts.ImageThreshold = &q.imageThreshold
	if v, ok, err := queryFloat(vals, "pixel_threshold"); err != nil {
		return q, err
	} else if ok {
		// The upper bound, the number of layers, is checked with the bundle.
		if !(v > 0) || math.IsInf(v, 0) {
			return q, newError(http.StatusBadRequest, CodeBadQuery, "pixel_threshold %g must be finite and > 0", v)
		}
		q.opts.PixelThreshold = &v
	}
	if v, ok, err := queryFloat(vals, "alpha"); err != nil {
		return q, err
	} else if ok {
		if v < 0 || v > 1 {
			return q, newError(http.StatusBadRequest, CodeBadQuery, "alpha %g must lie in [0,1]", v)
		}
		q.opts.Alpha = &v
	}
	if s := vals.Get("colormap"); s != "" {
		if _, err := render.ParseColormap(s); err != nil {
			return q, newError(http.StatusBadRequest, CodeBadQuery, "colormap: %v", err)
		}
		q.opts.Colormap = s
	}
	for _, word := range strings.Split(vals.Get("subset"), ",") {
		if word = strings.TrimSpace(word); word != "" {
			q.opts.Subset = append(q.opts.Subset, word)
		}
	}
	return q, nil
}

// queryFloat parses an optional float query parameter; ok reports presence.
func queryFloat(vals map[string][]string, name string) (v float64, ok bool, err error) {
	var s string
	if vs := vals[name]; len(vs) > 0 {
		s = strings.TrimSpace(vs[0])
	}
	if s == "" {
		return 0, false, nil
	}
	v, err = strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) {
		return 0, false, newError(http.StatusBadRequest, CodeBadQuery, "query %s=%q: not a number", name, s)
	}
	return v, true, nil
}

// check validates the options that depend on the bundle — the subset words
// and the pixel threshold's upper bound — from its header alone, so that
// they are reported as query errors and not as a bad bundle. Full
// validation is left to the decoder.
func (q query) check(data []byte) error {
	f, err := safetensors.Parse(data)
	if err != nil {
		return &apiError{Status: http.StatusUnprocessableEntity, Code: CodeInvalidBundle, Err: fmt.Errorf("bundle: decode: %w", err)}
	}
	var m struct {
		FeatureLayers []int    `json:"feature_layers"`
		Classes       []string `json:"classes"`
	}
	raw, ok := f.Metadata[bundle.MetadataKey]
	if !ok {
		return newError(http.StatusUnprocessableEntity, CodeInvalidBundle, "bundle: no %q metadata key (not a DAPO bundle?)", bundle.MetadataKey)
	}
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return newError(http.StatusUnprocessableEntity, CodeInvalidBundle, "bundle: metadata %q: %v", bundle.MetadataKey, err)
	}
	if p := q.opts.PixelThreshold; p != nil && len(m.FeatureLayers) > 0 && *p > float64(len(m.FeatureLayers)) {
		return newError(http.StatusBadRequest, CodeBadQuery, "pixel_threshold %g must lie in (0,%d]", *p, len(m.FeatureLayers))
	}
	return checkSubset(q.opts.Subset, m.Classes)
}

// checkSubset mirrors scoreapi's subset rules with the API's error codes.
func checkSubset(words, classes []string) error {
	if len(words) == 0 {
		return nil
	}
	known := make(map[string]bool, len(classes))
	for _, c := range classes {
		known[c] = true
	}
	seen := map[string]bool{}
	defects := 0
	for _, w := range words {
		if !known[w] {
			return newError(http.StatusBadRequest, CodeUnknownSubset, "subset: %q is not a class of this bundle (classes: %s)", w, strings.Join(classes, ", "))
		}
		if w == "normal" {
			continue
		}
		if seen[w] {
			return newError(http.StatusBadRequest, CodeBadQuery, "subset: %q repeated", w)
		}
		seen[w] = true
		defects++
	}
	if defects == 0 {
		return newError(http.StatusBadRequest, CodeBadQuery, "subset names no defect class")
	}
	return nil
}
