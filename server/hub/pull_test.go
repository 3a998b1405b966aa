package hub

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeHub serves one repository's open_clip files and counts requests.
type fakeHub struct {
	files map[string][]byte // path -> content
	mu    sync.Mutex
	hits  map[string]int
	auth  []string
}

func newFakeHub(repo string) *fakeHub {
	return &fakeHub{
		files: map[string][]byte{
			"/" + repo + "/resolve/main/" + ConfigFile:  []byte(`{"model_cfg": {"embed_dim": 512}}`),
			"/" + repo + "/resolve/main/" + WeightsFile: payload(400_000),
		},
		hits: map[string]int{},
	}
}

func (h *fakeHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.hits[r.URL.Path]++
	h.auth = append(h.auth, r.Header.Get("Authorization"))
	h.mu.Unlock()
	b, ok := h.files[r.URL.Path]
	if !ok {
		http.Error(w, "Repository not found", http.StatusNotFound)
		return
	}
	serve(w, r, b, "")
}

func (h *fakeHub) total() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, c := range h.hits {
		n += c
	}
	return n
}

func TestPullHubThenReuse(t *testing.T) {
	isolate(t)
	t.Setenv("HF_TOKEN", "tok")
	m, _ := Lookup("ViT-B-16")
	hub := newFakeHub(m.HubRepo)
	srv := httptest.NewServer(hub)
	defer srv.Close()
	cache := t.TempDir()
	opt := Options{Downloader: testDownloader(t), Cache: cache, HubURL: srv.URL}

	res, err := Pull(context.Background(), "vit-b-16-QUICKGELU", opt)
	if err != nil {
		t.Fatal(err)
	}
	dir := ModelDir(cache, "ViT-B-16")
	if res.Dir != dir || res.Model.Name != "ViT-B-16" || res.Source != SourceHub || len(res.Files) != 2 {
		t.Fatalf("result %+v", res)
	}
	for _, f := range res.Files {
		want := hub.files["/"+m.HubRepo+"/resolve/main/"+f.Name]
		if f.Reused || f.Path != filepath.Join(dir, f.Name) || f.SHA256 != sha(want) || string(readFile(t, f.Path)) != string(want) {
			t.Errorf("file %+v", f)
		}
	}
	for _, a := range hub.auth {
		if a != "Bearer tok" {
			t.Errorf("Authorization %q, want the HF_TOKEN", a)
		}
	}
	// The manifest is checked as plain JSON, independently of ReadManifest.
	var man struct {
		Model string
		Files []struct {
			Name, SHA256, URL, Source, Time string
			Size                            int64
		}
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, ManifestFile)), &man); err != nil {
		t.Fatal(err)
	}
	if man.Model != "ViT-B-16" || len(man.Files) != 2 {
		t.Fatalf("manifest %+v", man)
	}
	for _, f := range man.Files {
		want := hub.files["/"+m.HubRepo+"/resolve/main/"+f.Name]
		if f.SHA256 != sha(want) || f.Size != int64(len(want)) || f.URL != HubFileURL(srv.URL, m.HubRepo, f.Name) || f.Source != "hub" || f.Time == "" {
			t.Errorf("manifest entry %+v", f)
		}
	}

	// Second pull: verified from the manifest, no request at all.
	before := hub.total()
	res, err = Pull(context.Background(), "ViT-B-16", opt)
	if err != nil {
		t.Fatal(err)
	}
	if hub.total() != before {
		t.Fatalf("second pull made %d requests", hub.total()-before)
	}
	for _, f := range res.Files {
		if !f.Reused {
			t.Errorf("%s not reused", f.Name)
		}
	}

	// A damaged file (same size) is caught by its sha256 and fetched again.
	w := filepath.Join(dir, WeightsFile)
	b := readFile(t, w)
	b[100] ^= 0xff
	os.WriteFile(w, b, 0o644)
	if _, err := Pull(context.Background(), "ViT-B-16", opt); err != nil {
		t.Fatal(err)
	}
	if hub.total() != before+1 || string(readFile(t, w)) != string(hub.files["/"+m.HubRepo+"/resolve/main/"+WeightsFile]) {
		t.Fatalf("damaged file: %d requests, content restored: %v", hub.total()-before, string(readFile(t, w)) == string(hub.files["/"+m.HubRepo+"/resolve/main/"+WeightsFile]))
	}
}

// With no options the cache and hub come from the environment.
func TestPullUsesEnvironment(t *testing.T) {
	isolate(t)
	m, _ := Lookup("ViT-L-14-336")
	srv := httptest.NewServer(newFakeHub(m.HubRepo))
	defer srv.Close()
	t.Setenv("DAPO_HUB_URL", srv.URL)
	opt := Options{Downloader: testDownloader(t)}
	res, err := Pull(context.Background(), "ViT-L-14-336", opt)
	if err != nil {
		t.Fatal(err)
	}
	if want := ModelDir(os.Getenv("DAPO_CACHE"), "ViT-L-14-336"); res.Dir != want {
		t.Fatalf("dir %s, want %s", res.Dir, want)
	}
	dir, err := CachedModelDir("vit-l-14-336")
	if err != nil || dir != res.Dir {
		t.Fatalf("CachedModelDir = %q, %v", dir, err)
	}
	if _, err := CachedModelDir("ViT-B-16"); err == nil || !strings.Contains(err.Error(), "dapo weights pull ViT-B-16") {
		t.Fatalf("CachedModelDir of an unpulled model: %v", err)
	}
}

func TestPullErrors(t *testing.T) {
	isolate(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	opt := Options{Downloader: testDownloader(t), Cache: t.TempDir(), HubURL: srv.URL}
	_, err := Pull(context.Background(), "ViT-B-16", opt)
	if err == nil || !strings.HasPrefix(err.Error(), "pull ViT-B-16: ") || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), ConfigFile) {
		t.Fatalf("missing repo: %v", err)
	}
	if _, err := Pull(context.Background(), "ViT-H-14", opt); err == nil || !strings.Contains(err.Error(), "ViT-L-14-336") {
		t.Fatalf("unknown model: %v", err)
	}
	opt.HubURL = "ftp://example"
	if _, err := Pull(context.Background(), "ViT-B-16", opt); err == nil || !strings.Contains(err.Error(), "http(s)") {
		t.Fatalf("bad hub URL: %v", err)
	}
	opt.Source = "s3"
	if _, err := Pull(context.Background(), "ViT-B-16", opt); err == nil || !strings.Contains(err.Error(), "unknown source") {
		t.Fatalf("bad source: %v", err)
	}
}

// The OpenAI checkpoint is checked against the sha256 in its URL; a server
// with other content fails without leaving a file behind, and gets no token.
func TestPullOpenAIChecksPinnedHash(t *testing.T) {
	isolate(t)
	t.Setenv("HF_TOKEN", "tok")
	m, _ := Lookup("ViT-B/16")
	var path, auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, auth = r.URL.Path, r.Header.Get("Authorization")
		serve(w, r, payload(5000), "")
	}))
	defer srv.Close()
	cache := t.TempDir()
	opt := Options{Downloader: testDownloader(t), Cache: cache, Source: SourceOpenAI, OpenAIURL: srv.URL}
	_, err := Pull(context.Background(), "ViT-B-16", opt)
	if err == nil || !strings.Contains(err.Error(), "sha256 mismatch") || !strings.Contains(err.Error(), m.OpenAISHA256) {
		t.Fatalf("err = %v", err)
	}
	if path != "/"+m.OpenAIPath || auth != "" {
		t.Errorf("requested %s with Authorization %q", path, auth)
	}
	f := filepath.Join(ModelDir(cache, m.Name), "ViT-B-16.pt")
	noFile(t, f)
	noFile(t, f+".part")
}

// Two pulls of one model must not write the same files at once.
func TestLockDir(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockDir(dir); err == nil || !strings.Contains(err.Error(), "another pull") {
		t.Fatalf("second lock: %v", err)
	}
	unlock()
	unlock2, err := lockDir(dir)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
}
