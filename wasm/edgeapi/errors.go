package edgeapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// Error codes returned in the "code" field of error responses; clients
// branch on these, not on the message. They are the server API's codes
// (docs/api.md) where the meaning is the same, plus the bundle ones.
const (
	CodeBadRequest       = "bad_request"
	CodeBadQuery         = "bad_query"
	CodeUnknownSubset    = "unknown_subset"
	CodeMissingBundle    = "missing_bundle"
	CodeInvalidBundle    = "invalid_bundle"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeBodyTooLarge     = "body_too_large"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeNotFound         = "not_found"
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
// 4xx, everything else to 500.
func classify(err error) *apiError {
	var ae *apiError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &mbe):
		return &apiError{http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Errorf("request body exceeds %d bytes", mbe.Limit)}
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
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := classify(err)
	msg := ae.Error()
	if ae.Status >= 500 {
		h.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "internal server error"
	}
	writeJSON(w, ae.Status, errorBody{Error: msg, Code: ae.Code})
}

// WriteError answers with the API's JSON error body, for the parts of the
// Worker outside this package (the assets proxy).
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, errorBody{Error: msg, Code: code})
}
