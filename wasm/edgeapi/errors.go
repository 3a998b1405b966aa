package edgeapi

import (
	"net/http"

	"dapo/shared/httperr"
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
	CodeBodyTooLarge     = httperr.CodeBodyTooLarge
	CodeMethodNotAllowed = "method_not_allowed"
	CodeNotFound         = "not_found"
	CodeInternal         = httperr.CodeInternal
)

// The mechanics are shared with the server API (shared/httperr).
type (
	apiError  = httperr.Error
	errorBody = httperr.Body
)

var (
	newError  = httperr.New
	classify  = httperr.Classify
	writeJSON = httperr.WriteJSON
)

// writeError reports err as JSON; internal errors are logged with detail
// and answered with a generic message.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	httperr.Write(w, r, h.log, classify(err))
}

// WriteError answers with the API's JSON error body, for the parts of the
// Worker outside this package (the assets proxy).
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, errorBody{Error: msg, Code: code})
}
