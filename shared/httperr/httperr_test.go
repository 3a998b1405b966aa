package httperr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	bad := New(http.StatusBadRequest, "bad_query", "x=%d", 3)
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("wrapped: %w", bad), 400, "bad_query"},
		{fmt.Errorf("read: %w", &http.MaxBytesError{Limit: 10}), 413, CodeBodyTooLarge},
		{errors.New("disk on fire"), 500, CodeInternal},
	} {
		got := Classify(tc.err)
		if got.Status != tc.status || got.Code != tc.code {
			t.Errorf("%v: %d %s, want %d %s", tc.err, got.Status, got.Code, tc.status, tc.code)
		}
	}
}

// TestWriteHidesInternals: a 500 answers a generic message and logs the
// detail; a 4xx answers its message.
func TestWriteHidesInternals(t *testing.T) {
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	r := httptest.NewRequest("POST", "/v1/x", nil)
	for _, tc := range []struct {
		err          error
		want, logged string
	}{
		{errors.New("secret path /etc/x"), "internal server error", "secret path"},
		{New(404, "not_found", "no endpoint /v1/y"), "no endpoint /v1/y", ""},
	} {
		logged.Reset()
		w := httptest.NewRecorder()
		Write(w, r, log, Classify(tc.err))
		var b Body
		if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil || b.Error != tc.want || w.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%v: body %q (%v)", tc.err, w.Body.String(), err)
		}
		if tc.logged != "" && !strings.Contains(logged.String(), tc.logged) || tc.logged == "" && logged.Len() > 0 {
			t.Errorf("%v: logged %q", tc.err, logged.String())
		}
	}
}
