// Package httperr is the JSON error convention of dapo's HTTP APIs (the
// server's and the Worker's): every error is {"error": "...", "code":
// "..."} with a status, clients branch on the code, and internal errors
// are answered with a generic message so internals do not leak.
package httperr

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// Codes both APIs share; each API adds its own.
const (
	CodeBodyTooLarge = "body_too_large"
	CodeInternal     = "internal"
)

// Error is an error with the HTTP status and code it is reported as.
type Error struct {
	Status int
	Code   string
	Err    error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// New returns an Error with a formatted message.
func New(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Err: fmt.Errorf(format, args...)}
}

// Body is the JSON of every error response.
type Body struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// Classify maps err to its status and code: an *Error as it is, a body
// over http.MaxBytesReader's limit to 413, anything else to 500.
func Classify(err error) *Error {
	var ae *Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &mbe):
		return &Error{http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Errorf("request body exceeds %d bytes", mbe.Limit)}
	}
	return &Error{http.StatusInternalServerError, CodeInternal, err}
}

// WriteJSON answers v as JSON with the status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("write response", "err", err)
	}
}

// Write answers ae as a JSON error; an internal error is logged with its
// detail and answered "internal server error".
func Write(w http.ResponseWriter, r *http.Request, log *slog.Logger, ae *Error) {
	msg := ae.Error()
	if ae.Status >= 500 && ae.Code == CodeInternal {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", ae.Err)
		msg = "internal server error"
	}
	WriteJSON(w, ae.Status, Body{Error: msg, Code: ae.Code})
}
