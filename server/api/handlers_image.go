package api

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"mime"
	"net/http"
	"path"
	"strings"

	"dapo/server/inference"
	"dapo/shared/imaging"
	"dapo/shared/render"
	"dapo/shared/safetensors"
	"dapo/shared/scoring"
)

// readImage returns the uploaded image bytes and a display name, from a
// raw image/png or image/jpeg body or from the multipart field "image".
// The body is capped at MaxBody (413 beyond).
func (s *Server) readImage(w http.ResponseWriter, r *http.Request) (data []byte, name string, err error) {
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBody)
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, "", newError(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "Content-Type %q: send image/png, image/jpeg or multipart/form-data", ct)
	}
	switch mt {
	case "image/png", "image/jpeg", "image/jpg":
		data, err = io.ReadAll(r.Body)
		if err != nil {
			return nil, "", fmt.Errorf("read body: %w", err)
		}
		name = "upload"
	case "multipart/form-data":
		if params["boundary"] == "" {
			return nil, "", newError(http.StatusBadRequest, CodeBadRequest, "multipart body without a boundary")
		}
		data, name, err = readMultipartImage(r)
		if err != nil {
			return nil, "", err
		}
	default:
		return nil, "", newError(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "Content-Type %q: send image/png, image/jpeg or multipart/form-data", mt)
	}
	if len(data) == 0 {
		return nil, "", newError(http.StatusBadRequest, CodeMissingImage, "empty image")
	}
	return data, name, nil
}

// readMultipartImage streams parts until the field "image", so other
// fields cost no memory and nothing spills to temporary files.
func readMultipartImage(r *http.Request) ([]byte, string, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, "", newError(http.StatusBadRequest, CodeBadRequest, "multipart: %v", err)
	}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, "", newError(http.StatusBadRequest, CodeMissingImage, `multipart body has no field "image"`)
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, "", err
		}
		if err != nil {
			return nil, "", newError(http.StatusBadRequest, CodeBadRequest, "multipart: %v", err)
		}
		if p.FormName() != "image" {
			p.Close()
			continue
		}
		data, err := io.ReadAll(p)
		p.Close()
		if err != nil {
			if errors.As(err, &mbe) {
				return nil, "", err
			}
			return nil, "", newError(http.StatusBadRequest, CodeBadRequest, "multipart image: %v", err)
		}
		name := path.Base(strings.ReplaceAll(p.FileName(), `\`, "/"))
		if name == "" || name == "." || name == "/" {
			name = "upload"
		}
		return data, name, nil
	}
}

// decode turns bytes into a model input; bad bytes are the client's fault.
func (s *Server) decode(name string, data []byte) (*inference.Image, error) {
	im, err := s.det.DecodeImage(name, data)
	if err == nil {
		return im, nil
	}
	if errors.Is(err, imaging.ErrTooLarge) || errors.Is(err, imaging.ErrUnsupportedFormat) {
		return nil, err
	}
	return nil, &apiError{Status: http.StatusUnprocessableEntity, Code: CodeInvalidImage, Err: err}
}

// encode decodes and encodes one image on the caller's worker.
func (s *Server) encode(ctx context.Context, name string, data []byte) (*inference.Image, inference.Features, error) {
	im, err := s.decode(name, data)
	if err != nil {
		return nil, inference.Features{}, err
	}
	feats, err := s.det.EncodeImages(ctx, []*inference.Image{im})
	if err != nil {
		return nil, inference.Features{}, fmt.Errorf("encode %s: %w", name, err)
	}
	return im, feats[0], nil
}

func (s *Server) handleFeatures(w http.ResponseWriter, r *http.Request) {
	f16, err := queryBool(r, "f16")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	noJPEG, err := queryBool(r, "no_jpeg")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	data, name, err := s.readImage(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	dt := safetensors.F32
	if f16 {
		dt = safetensors.F16
	}
	var out []byte
	err = s.runModel(r.Context(), func(ctx context.Context) error {
		im, ft, err := s.encode(ctx, name, data)
		if err != nil {
			return err
		}
		out, err = s.bundleBytes(im, ft, !noJPEG, dt)
		return err
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": strings.TrimSuffix(name, path.Ext(name)) + ".bundle.safetensors"}))
	w.WriteHeader(http.StatusOK)
	w.Write(out)
}

// detectQuery holds the parsed query of /v1/detect.
type detectQuery struct {
	maps     bool
	thr      inference.Thresholds
	subset   []int
	colormap render.Colormap
	alpha    float64
}

func (s *Server) parseDetectQuery(r *http.Request) (detectQuery, error) {
	q := detectQuery{thr: s.opts.Thresholds, alpha: 0.5}
	var err error
	if q.maps, err = queryBool(r, "maps"); err != nil {
		return q, err
	}
	if v, ok, err := queryFloat(r, "image_threshold"); err != nil {
		return q, err
	} else if ok {
		if v < 0 || v > 1 {
			return q, newError(http.StatusBadRequest, CodeBadQuery, "image_threshold %g must lie in [0,1]", v)
		}
		q.thr.Image = v
	}
	if v, ok, err := queryFloat(r, "pixel_threshold"); err != nil {
		return q, err
	} else if ok {
		if v <= 0 || v > float64(len(s.det.Config.FeatureLayers)) {
			return q, newError(http.StatusBadRequest, CodeBadQuery, "pixel_threshold %g must lie in (0,%d]", v, len(s.det.Config.FeatureLayers))
		}
		q.thr.Pixel = v
	}
	if v, ok, err := queryFloat(r, "alpha"); err != nil {
		return q, err
	} else if ok {
		if v < 0 || v > 1 {
			return q, newError(http.StatusBadRequest, CodeBadQuery, "alpha %g must lie in [0,1]", v)
		}
		q.alpha = v
	}
	if q.colormap, err = render.ParseColormap(defaultString(r.URL.Query().Get("colormap"), "jet")); err != nil {
		return q, newError(http.StatusBadRequest, CodeBadQuery, "colormap: %v", err)
	}
	if raw := r.URL.Query().Get("subset"); raw != "" {
		var words []string
		for _, w := range strings.Split(raw, ",") {
			if w = strings.TrimSpace(w); w != "" {
				words = append(words, w)
			}
		}
		if q.subset, err = s.det.SubsetIndices(words); err != nil {
			return q, &apiError{Status: http.StatusBadRequest, Code: CodeUnknownSubset, Err: err}
		}
	}
	return q, nil
}

func defaultString(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// detectResponse is the Verdict of 'dapo detect', plus the PNGs with
// ?maps=1 (base64 in JSON).
type detectResponse struct {
	inference.Verdict
	AnomalyMapPNG []byte `json:"anomaly_map_png,omitempty"`
	OverlayPNG    []byte `json:"overlay_png,omitempty"`
	MaskPNG       []byte `json:"mask_png,omitempty"`
}

func (s *Server) handleDetect(w http.ResponseWriter, r *http.Request) {
	q, err := s.parseDetectQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	data, name, err := s.readImage(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var resp detectResponse
	err = s.runModel(r.Context(), func(ctx context.Context) error {
		im, ft, err := s.encode(ctx, name, data)
		if err != nil {
			return err
		}
		scorer, err := s.det.Scorer(scoring.Options{Subset: q.subset, PixelThreshold: float32(q.thr.Pixel)})
		if err != nil {
			return fmt.Errorf("scorer: %w", err)
		}
		res, err := scorer.Score(ft.Global, ft.Layers)
		if err != nil {
			return fmt.Errorf("score %s: %w", name, err)
		}
		resp.Verdict = inference.NewVerdict(name, res, s.det.Classes(), q.thr.Image, q.thr.Pixel)
		if q.maps {
			return s.renderMaps(&resp, im, res, q)
		}
		return nil
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// renderMaps draws the map, overlay and mask at the original image size,
// as 'dapo detect' writes them.
func (s *Server) renderMaps(resp *detectResponse, im *inference.Image, res *scoring.Result, q detectQuery) error {
	w, h, size := im.Original.W, im.Original.H, s.det.Size()
	m, err := render.ResizeMap(res.AnomalyMap, size, size, w, h)
	if err != nil {
		return fmt.Errorf("resize map: %w", err)
	}
	heat, err := render.Heatmap(m, w, h, 0, float32(len(s.det.Config.FeatureLayers)), q.colormap)
	if err != nil {
		return fmt.Errorf("heatmap: %w", err)
	}
	mask := make([]bool, w*h)
	for i, x := range m {
		mask[i] = float64(x) > q.thr.Pixel
	}
	base, err := render.RGBImage(im.Original.Pix, w, h)
	if err != nil {
		return fmt.Errorf("image: %w", err)
	}
	over, err := render.Overlay(base, heat, q.alpha)
	if err != nil {
		return fmt.Errorf("overlay: %w", err)
	}
	if err := render.DrawOutline(over, mask, color.RGBA{255, 255, 255, 255}, 2); err != nil {
		return fmt.Errorf("outline: %w", err)
	}
	for _, o := range []struct {
		dst *[]byte
		img image.Image
	}{{&resp.AnomalyMapPNG, heat}, {&resp.OverlayPNG, over}} {
		if *o.dst, err = render.PNGBytes(o.img); err != nil {
			return fmt.Errorf("png: %w", err)
		}
	}
	if resp.MaskPNG, err = render.MaskPNG(mask, w, h); err != nil {
		return fmt.Errorf("mask png: %w", err)
	}
	return nil
}
