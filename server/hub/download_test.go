package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestDownloadFull(t *testing.T) {
	isolate(t)
	content := payload(300_000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") != "" {
			t.Errorf("fresh download sent Range %q", r.Header.Get("Range"))
		}
		serve(w, r, content, "")
	}))
	defer srv.Close()
	dest := filepath.Join(t.TempDir(), "w.bin")
	d := testDownloader(t)
	rec, err := d.Download(context.Background(), srv.URL+"/w.bin", dest, sha(content))
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, dest); string(got) != string(content) {
		t.Fatal("content differs")
	}
	if rec.SHA256 != sha(content) || rec.Size != int64(len(content)) || rec.Name != "w.bin" || rec.URL != srv.URL+"/w.bin" || rec.Time.IsZero() {
		t.Errorf("record %+v", rec)
	}
	noFile(t, dest+".part")
	noFile(t, validatorPath(dest+".part"))
}

// cutOnce sends half of the file and drops the connection on the first
// request, then behaves; it records the Range headers it saw.
type cutOnce struct {
	content []byte
	etag    string
	mu      sync.Mutex
	ranges  []string
}

func (c *cutOnce) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	first := len(c.ranges) == 0
	c.ranges = append(c.ranges, r.Header.Get("Range"))
	c.mu.Unlock()
	if !first {
		serve(w, r, c.content, c.etag)
		return
	}
	w.Header().Set("ETag", c.etag)
	w.Header().Set("Content-Length", fmt.Sprint(len(c.content)))
	w.WriteHeader(http.StatusOK)
	w.Write(c.content[:len(c.content)/2])
	w.(http.Flusher).Flush()
	panic(http.ErrAbortHandler) // cut the connection mid-body
}

func TestDownloadResumesAfterCut(t *testing.T) {
	isolate(t)
	h := &cutOnce{content: payload(1 << 20), etag: `"v1"`}
	srv := httptest.NewServer(h)
	defer srv.Close()
	dest := filepath.Join(t.TempDir(), "w.bin")
	d := testDownloader(t)
	rec, err := d.Download(context.Background(), srv.URL+"/w.bin", dest, sha(h.content))
	if err != nil {
		t.Fatal(err)
	}
	if string(readFile(t, dest)) != string(h.content) || rec.SHA256 != sha(h.content) {
		t.Fatal("resumed content differs")
	}
	if len(h.ranges) != 2 || h.ranges[0] != "" || !strings.HasPrefix(h.ranges[1], "bytes=") || h.ranges[1] == "bytes=0-" {
		t.Fatalf("ranges requested: %q (want a fresh request, then a resume)", h.ranges)
	}
}

// A .part left by an earlier run is continued with a Range request.
func TestDownloadResumesPartFromEarlierRun(t *testing.T) {
	isolate(t)
	content := payload(200_000)
	var ranges []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ranges = append(ranges, r.Header.Get("Range"))
		serve(w, r, content, "")
	}))
	defer srv.Close()
	dest := filepath.Join(t.TempDir(), "w.bin")
	if err := os.WriteFile(dest+".part", content[:123_456], 0o644); err != nil {
		t.Fatal(err)
	}
	d := testDownloader(t)
	if _, err := d.Download(context.Background(), srv.URL, dest, sha(content)); err != nil {
		t.Fatal(err)
	}
	if string(readFile(t, dest)) != string(content) {
		t.Fatal("content differs")
	}
	if len(ranges) != 1 || ranges[0] != "bytes=123456-" {
		t.Fatalf("ranges %q", ranges)
	}
}

// A part whose source changed upstream (If-Range fails) is fetched whole.
func TestDownloadRestartsWhenFileChanged(t *testing.T) {
	isolate(t)
	content := payload(100_000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serve(w, r, content, `"new"`)
	}))
	defer srv.Close()
	dest := filepath.Join(t.TempDir(), "w.bin")
	os.WriteFile(dest+".part", payload(5000), 0o644)
	writeValidator(dest+".part", `"old"`)
	d := testDownloader(t)
	if _, err := d.Download(context.Background(), srv.URL, dest, ""); err != nil {
		t.Fatal(err)
	}
	if string(readFile(t, dest)) != string(content) {
		t.Fatal("stale part was spliced into the new file")
	}
}

func TestDownloadServerIgnoresRange(t *testing.T) {
	isolate(t)
	content := payload(100_000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(content) // always 200 with everything
	}))
	defer srv.Close()
	dest := filepath.Join(t.TempDir(), "w.bin")
	os.WriteFile(dest+".part", []byte("garbage that must not survive"), 0o644)
	d := testDownloader(t)
	rec, err := d.Download(context.Background(), srv.URL, dest, "")
	if err != nil {
		t.Fatal(err)
	}
	if string(readFile(t, dest)) != string(content) || rec.SHA256 != sha(content) {
		t.Fatal("content differs")
	}
}

// 416 for a part that is already whole finishes without a body; for a
// part longer than the file it starts over.
func TestDownloadRangeNotSatisfiable(t *testing.T) {
	isolate(t)
	content := payload(50_000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serve(w, r, content, "")
	}))
	defer srv.Close()
	d := testDownloader(t)
	for name, part := range map[string][]byte{
		"complete": content,
		"too long": append(payload(50_000), 1, 2, 3),
	} {
		t.Run(name, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "w.bin")
			os.WriteFile(dest+".part", part, 0o644)
			if _, err := d.Download(context.Background(), srv.URL, dest, sha(content)); err != nil {
				t.Fatal(err)
			}
			if string(readFile(t, dest)) != string(content) {
				t.Fatal("content differs")
			}
		})
	}
}

func TestDownloadSHAMismatch(t *testing.T) {
	isolate(t)
	content := payload(10_000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serve(w, r, content, "")
	}))
	defer srv.Close()
	dest := filepath.Join(t.TempDir(), "w.bin")
	d := testDownloader(t)
	want := strings.Repeat("ab", 32)
	_, err := d.Download(context.Background(), srv.URL, dest, want)
	if err == nil || !strings.Contains(err.Error(), "sha256 mismatch") || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), sha(content)) {
		t.Fatalf("err = %v", err)
	}
	noFile(t, dest)
	noFile(t, dest+".part")
}

func TestDownloadNotFound(t *testing.T) {
	isolate(t)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "Entry not found", http.StatusNotFound)
	}))
	defer srv.Close()
	d := testDownloader(t)
	dest := filepath.Join(t.TempDir(), "w.bin")
	_, err := d.Download(context.Background(), srv.URL+"/repo/resolve/main/w.bin", dest, "")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "404") ||
		!strings.Contains(err.Error(), "/repo/resolve/main/w.bin") || !strings.Contains(err.Error(), "Entry not found") {
		t.Fatalf("err = %v", err)
	}
	if calls.Load() != 1 {
		t.Errorf("404 was retried: %d requests", calls.Load())
	}
	noFile(t, dest)
}

func TestDownloadRetriesServerErrors(t *testing.T) {
	isolate(t)
	content := payload(10_000)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		serve(w, r, content, "")
	}))
	defer srv.Close()
	d := testDownloader(t)
	dest := filepath.Join(t.TempDir(), "w.bin")
	if _, err := d.Download(context.Background(), srv.URL, dest, sha(content)); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 3 {
		t.Errorf("%d requests, want 3", calls.Load())
	}

	d.Retries = -1 // none
	calls.Store(0)
	os.Remove(dest)
	if _, err := d.Download(context.Background(), srv.URL, dest, ""); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("err = %v", err)
	}
}

// trickle sends half of the file and then hangs until released.
func trickle(content []byte, release <-chan struct{}) http.HandlerFunc {
	var calls atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) > 1 {
			serve(w, r, content, "")
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(content)))
		w.Write(content[:len(content)/2])
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
}

func TestDownloadCancel(t *testing.T) {
	isolate(t)
	content := payload(100_000)
	release := make(chan struct{})
	srv := httptest.NewServer(trickle(content, release))
	defer srv.Close()
	defer close(release)
	dest := filepath.Join(t.TempDir(), "w.bin")
	ctx, cancel := context.WithCancel(context.Background())
	d := testDownloader(t)
	d.IdleTimeout = time.Minute
	go func() {
		// Cancel once half the file is on disk.
		for {
			if st, err := os.Stat(dest + ".part"); err == nil && st.Size() >= int64(len(content)/2) {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	start := time.Now()
	_, err := d.Download(ctx, srv.URL, dest, "")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Error("cancellation took too long")
	}
	noFile(t, dest)
	if st, err := os.Stat(dest + ".part"); err != nil || st.Size() != int64(len(content)/2) {
		t.Errorf("part should be kept for resuming: %v", err)
	}
}

// A transfer that stops sending is abandoned after IdleTimeout and resumed.
func TestDownloadStallIsRetried(t *testing.T) {
	isolate(t)
	content := payload(100_000)
	release := make(chan struct{})
	srv := httptest.NewServer(trickle(content, release))
	defer srv.Close()
	defer close(release)
	dest := filepath.Join(t.TempDir(), "w.bin")
	d := testDownloader(t)
	d.IdleTimeout = 200 * time.Millisecond
	if _, err := d.Download(context.Background(), srv.URL, dest, sha(content)); err != nil {
		t.Fatal(err)
	}
	if string(readFile(t, dest)) != string(content) {
		t.Fatal("content differs")
	}
}

func TestDownloadFollowsRedirectWithToken(t *testing.T) {
	isolate(t)
	content := payload(1000)
	var auth string
	mux := http.NewServeMux()
	mux.HandleFunc("/repo/resolve/main/f", func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		http.Redirect(w, r, "/cdn/f", http.StatusFound)
	})
	mux.HandleFunc("/cdn/f", func(w http.ResponseWriter, r *http.Request) { serve(w, r, content, "") })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	d := testDownloader(t)
	d.Token = "secret"
	dest := filepath.Join(t.TempDir(), "f")
	if _, err := d.Download(context.Background(), srv.URL+"/repo/resolve/main/f", dest, sha(content)); err != nil {
		t.Fatal(err)
	}
	if auth != "Bearer secret" {
		t.Errorf("Authorization = %q", auth)
	}
}

func TestParseContentRange(t *testing.T) {
	for _, c := range []struct {
		in           string
		first, total int64
		ok           bool
	}{
		{"bytes 100-199/200", 100, 200, true},
		{"bytes 0-0/*", 0, -1, true},
		{"bytes */200", -1, 200, true},
		{"bytes x-1/2", 0, 0, false},
		{"items 0-1/2", 0, 0, false},
		{"", 0, 0, false},
	} {
		first, total, ok := parseContentRange(c.in)
		if ok != c.ok || (ok && (first != c.first || total != c.total)) {
			t.Errorf("%q: %d %d %v", c.in, first, total, ok)
		}
	}
}
