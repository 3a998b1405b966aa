package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"dapo/wasm/edgeapi"
)

// scoreHandler serves POST /v1/score — a feature bundle re-scored with the
// given thresholds, subset and maps — through the Worker's own handler, so
// the server and the edge answer the same request identically. The body
// is read before a worker is taken, so slow uploads do not hold one; the
// scoring itself (≈0.1 s of CPU for a ViT-L/14@518 bundle) runs on a
// worker like any model call.
func (s *Server) scoreHandler() http.HandlerFunc {
	edge := edgeapi.New(edgeapi.Config{MaxBody: s.opts.MaxBody, Logger: s.log})
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBody)
		// One allocation when the length is known (a ViT-L bundle is 17 MB;
		// io.ReadAll's doubling would copy it several times).
		var buf bytes.Buffer
		if r.ContentLength > 0 && r.ContentLength <= s.opts.MaxBody {
			buf.Grow(int(r.ContentLength) + bytes.MinRead)
		}
		_, err := buf.ReadFrom(r.Body)
		data := buf.Bytes()
		if err != nil {
			s.writeError(w, r, fmt.Errorf("read body: %w", err))
			return
		}
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(data)), int64(len(data))
		sw := &statusWriter{ResponseWriter: w}
		err = s.runModel(r.Context(), func(ctx context.Context) error {
			edge.ServeHTTP(sw, r.WithContext(ctx))
			return nil
		})
		// Once the edge handler has answered, a late deadline cannot be
		// reported any more; it still counts in the timeout metric.
		if err != nil && sw.status == 0 {
			s.writeError(w, r, err)
		}
	}
}
