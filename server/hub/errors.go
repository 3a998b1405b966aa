package hub

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// transientError marks a failure worth retrying (network trouble, a stalled
// or cut transfer, 5xx, 429). Anything not marked is permanent.
type transientError struct{ err error }

func (e transientError) Error() string { return e.err.Error() }
func (e transientError) Unwrap() error { return e.err }

func transient(err error) error { return transientError{err} }

func isTransient(err error) bool {
	var t transientError
	return errors.As(err, &t)
}

// ErrNotFound is wrapped by errors for an HTTP 404.
var ErrNotFound = errors.New("not found")

// statusError turns a failed response into an error that says what to do.
func statusError(resp *http.Response) error {
	u := resp.Request.URL.Redacted()
	if resp.Request.Response != nil {
		// Redirected: name the URL asked for, and the CDN host without its
		// long signed query.
		cdn := *resp.Request.URL
		cdn.RawQuery = ""
		u = fmt.Sprintf("%s (redirected to %s)", originalURL(resp.Request), cdn.Redacted())
	}
	detail := bodySnippet(resp.Body)
	code := resp.StatusCode
	switch {
	case code == http.StatusNotFound:
		return fmt.Errorf("GET %s: HTTP 404%s: %w: check the backbone name and the hub URL (--hub-url, DAPO_HUB_URL)", u, detail, ErrNotFound)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return fmt.Errorf("GET %s: HTTP %d%s: access denied: the repository may be gated or private; set HF_TOKEN to a token with access", u, code, detail)
	case code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500:
		return transient(fmt.Errorf("GET %s: HTTP %d%s", u, code, detail))
	}
	return fmt.Errorf("GET %s: unexpected HTTP %d%s", u, code, detail)
}

func originalURL(r *http.Request) string {
	for r.Response != nil && r.Response.Request != nil {
		r = r.Response.Request
	}
	return r.URL.Redacted()
}

// bodySnippet keeps the start of an error body (the hub explains itself
// there, e.g. "Repository not found"), on one line.
func bodySnippet(body io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(body, 200))
	s := strings.Join(strings.Fields(string(b)), " ")
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r < ' ' }) {
		return ""
	}
	return " (" + s + ")"
}
