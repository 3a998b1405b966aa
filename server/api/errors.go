package api

import (
	"context"
	"errors"
	"net/http"

	"dapo/shared/httperr"
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
	CodeBodyTooLarge     = httperr.CodeBodyTooLarge
	CodeImageTooLarge    = "image_too_large"
	CodeUnauthorized     = "unauthorized"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeNotFound         = "not_found"
	CodeBusy             = "busy"
	CodeTimeout          = "timeout"
	CodeCanceled         = "canceled"
	CodeInternal         = httperr.CodeInternal
)

// The mechanics are shared with the Worker's API (shared/httperr).
type (
	apiError  = httperr.Error
	errorBody = httperr.Body
)

var (
	newError  = httperr.New
	writeJSON = httperr.WriteJSON
)

// classify maps any error to its status and code: known input errors to
// 4xx, deadlines to 504, everything else to 500.
func classify(err error) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, imaging.ErrTooLarge):
		return &apiError{Status: http.StatusRequestEntityTooLarge, Code: CodeImageTooLarge, Err: err}
	case errors.Is(err, imaging.ErrUnsupportedFormat):
		return &apiError{Status: http.StatusUnprocessableEntity, Code: CodeUnsupportedImage, Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &apiError{Status: http.StatusGatewayTimeout, Code: CodeTimeout, Err: errors.New("request timed out")}
	case errors.Is(err, context.Canceled):
		// The client went away; 499 is nginx's convention, never seen by it.
		return &apiError{Status: 499, Code: CodeCanceled, Err: errors.New("request canceled")}
	}
	return httperr.Classify(err)
}

// writeError reports err as JSON. Internal errors are logged with detail
// and answered with a generic message so internals do not leak.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := classify(err)
	if ae.Code == CodeBusy {
		// Model requests take about a second or less; retry soon.
		w.Header().Set("Retry-After", "1")
	}
	httperr.Write(w, r, s.log, ae)
}
