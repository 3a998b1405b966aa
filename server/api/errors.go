package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"dapo/shared/imaging"
)

// Error codes returned in the "code" field of error responses; clients
// branch on these, not on the message.
const (
	CodeBadRequest       = "bad_request"
	CodeBadQuery         = "bad_query"
	CodeUnknownSubset    = "unknown_subset"
	CodeMissingImage     = "missing_image"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeUnsupportedImage = "unsupported_image_format"
	CodeInvalidImage     = "invalid_image"
	CodeBodyTooLarge     = "body_too_large"
	CodeImageTooLarge    = "image_too_large"
	CodeUnauthorized     = "unauthorized"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeNotFound         = "not_found"
	CodeBusy             = "busy"
	CodeTimeout          = "timeout"
	CodeCanceled         = "canceled"
	CodeInternal         = "internal"
)

// apiError is an error with the HTTP status and code it is reported as.
type apiError struct {
	Status int
	Code   string
	Err    error
}

func (e *apiError) Error() string { return e.Err.Error() }
func (e *apiError) Unwrap() error { return e.Err }

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Err: fmt.Errorf(format, args...)}
}

// errorBody is the JSON of every error response.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// classify maps any error to its status and code: known input errors to
// 4xx, deadlines to 504, everything else to 500.
func classify(err error) *apiError {
	var ae *apiError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &mbe):
		return &apiError{http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Errorf("request body exceeds %d bytes", mbe.Limit)}
	case errors.Is(err, imaging.ErrTooLarge):
		return &apiError{http.StatusRequestEntityTooLarge, CodeImageTooLarge, err}
	case errors.Is(err, imaging.ErrUnsupportedFormat):
		return &apiError{http.StatusUnprocessableEntity, CodeUnsupportedImage, err}
	case errors.Is(err, context.DeadlineExceeded):
		return &apiError{http.StatusGatewayTimeout, CodeTimeout, errors.New("request timed out")}
	case errors.Is(err, context.Canceled):
		// The client went away; 499 is nginx's convention, never seen by it.
		return &apiError{499, CodeCanceled, errors.New("request canceled")}
	}
	return &apiError{http.StatusInternalServerError, CodeInternal, err}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("write response", "err", err)
	}
}

// writeError reports err as JSON. Internal errors are logged with detail
// and answered with a generic message so internals do not leak.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := classify(err)
	msg := ae.Error()
	if ae.Code == CodeBusy {
		// Model requests take about a second or less; retry soon.
		w.Header().Set("Retry-After", "1")
	}
	if ae.Status >= 500 && ae.Code == CodeInternal {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "internal server error"
	}
	writeJSON(w, ae.Status, errorBody{Error: msg, Code: ae.Code})
}
