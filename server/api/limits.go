package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// pool bounds model work: at most cap(work) requests run the model at once
// and at most cap(slots) are admitted (running plus queued). The towers
// are not assumed safe for concurrent use, so each worker slot serialises
// one request's model calls; with one worker everything is serial.
type pool struct {
	slots chan struct{}
	work  chan struct{}
}

func newPool(workers, queue int) *pool {
	return &pool{slots: make(chan struct{}, workers+queue), work: make(chan struct{}, workers)}
}

var errBusy = errors.New("all workers busy and the queue is full; retry later")

// acquire admits the request or fails at once when the queue is full (so
// overload turns into fast 503s, not piled-up goroutines), then waits for
// a worker until ctx ends.
func (p *pool) acquire(ctx context.Context) (release func(), err error) {
	select {
	case p.slots <- struct{}{}:
	default:
		return nil, errBusy
	}
	select {
	case p.work <- struct{}{}:
		return func() { <-p.work; <-p.slots }, nil
	case <-ctx.Done():
		<-p.slots
		return nil, fmt.Errorf("waiting for a worker: %w", ctx.Err())
	}
}

// runModel runs fn on a worker under the per-request timeout.
func (s *Server) runModel(ctx context.Context, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	release, err := s.pool.acquire(ctx)
	if errors.Is(err, errBusy) {
		s.metrics.rejected.Add(1)
		return &apiError{Status: http.StatusServiceUnavailable, Code: CodeBusy, Err: err}
	}
	if err != nil {
		return s.noteTimeout(err)
	}
	defer release()
	s.metrics.busy.Add(1)
	defer s.metrics.busy.Add(-1)
	if err := fn(ctx); err != nil {
		return s.noteTimeout(err)
	}
	// A model that ignores ctx still must not answer 200 after the deadline.
	return s.noteTimeout(ctx.Err())
}

func (s *Server) noteTimeout(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		s.metrics.timeouts.Add(1)
	}
	return err
}

// statusWriter records the status for metrics and logs.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument counts, times and recovers one route. Recovery sits here so a
// panic still shows up in the metrics as a 500.
func (s *Server) instrument(endpoint string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.metrics.inFlight.Add(1)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.metrics.panics.Add(1)
				s.log.Error("handler panic", "path", r.URL.Path, "panic", v)
				if sw.status == 0 {
					writeJSON(sw, http.StatusInternalServerError, errorBody{Error: "internal server error", Code: CodeInternal})
				}
			}
			s.metrics.inFlight.Add(-1)
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			s.metrics.observe(endpoint, sw.status, time.Since(start))
			s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(start))
		}()
		h.ServeHTTP(sw, r)
	})
}

// cors answers preflights and labels responses for the configured origin.
// It runs before auth: browsers send preflights without credentials.
func (s *Server) cors(h http.Handler) http.Handler {
	if s.opts.CORSOrigin == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		allowed := s.opts.CORSOrigin == "*" || (origin != "" && origin == s.opts.CORSOrigin)
		if allowed {
			hd := w.Header()
			hd.Set("Access-Control-Allow-Origin", s.opts.CORSOrigin)
			hd.Add("Vary", "Origin")
			hd.Set("Access-Control-Expose-Headers", "Retry-After")
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			if allowed {
				hd := w.Header()
				hd.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
				hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
				hd.Set("Access-Control-Max-Age", "600")
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// auth requires "Authorization: Bearer <token>" when a token is set,
// compared in constant time.
func (s *Server) auth(h http.Handler) http.Handler {
	if s.opts.Token == "" {
		return h
	}
	want := []byte("Bearer " + s.opts.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="dapo"`)
			writeJSON(w, http.StatusUnauthorized, errorBody{Error: "missing or wrong bearer token", Code: CodeUnauthorized})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// allow answers other methods with a JSON 405 (the mux's own is plain text).
func allow(method string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
			w.Header().Set("Allow", method)
			writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: fmt.Sprintf("%s %s: use %s", r.Method, r.URL.Path, method), Code: CodeMethodNotAllowed})
			return
		}
		h(w, r)
	})
}

// queryBool parses an optional boolean query parameter.
func queryBool(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, newError(http.StatusBadRequest, CodeBadQuery, "query %s=%q: want true/false or 1/0", name, v)
	}
	return b, nil
}

// queryFloat parses an optional float query parameter; ok reports presence.
func queryFloat(r *http.Request, name string) (v float64, ok bool, err error) {
	s := strings.TrimSpace(r.URL.Query().Get(name))
	if s == "" {
		return 0, false, nil
	}
	v, err = strconv.ParseFloat(s, 64)
	if err != nil || v != v {
		return 0, false, newError(http.StatusBadRequest, CodeBadQuery, "query %s=%q: not a number", name, s)
	}
	return v, true, nil
}
