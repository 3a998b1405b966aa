package hub

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// payload is deterministic test content of n bytes.
func payload(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, uint64(n)))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// serve answers like a well-behaved file server (Range, If-Range, 416).
func serve(w http.ResponseWriter, r *http.Request, content []byte, etag string) {
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(content))
}

// testDownloader never sleeps long, draws no bar and logs to the test.
func testDownloader(t *testing.T) Downloader {
	return Downloader{
		Backoff:     time.Millisecond,
		IdleTimeout: 5 * time.Second,
		Quiet:       true,
		Progress:    io.Discard,
		Logger:      slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(bytes.TrimRight(b, "\n")))
	return len(b), nil
}

// isolate keeps a test away from the user's cache, token and hub settings.
func isolate(t *testing.T) string {
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("DAPO_CACHE", filepath.Join(dir, "cache"))
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("DAPO_HUB_URL", "http://127.0.0.1:1") // refuses connections: a test that forgets its server fails fast
	t.Setenv("DAPO_OPENAI_URL", "http://127.0.0.1:1")
	t.Setenv("HF_ENDPOINT", "")
	t.Setenv("HF_TOKEN", "")
	return dir
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func noFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("%s should not exist (stat: %v)", path, err)
	}
}
