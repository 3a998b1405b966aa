package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// tinySafetensors is a two-tensor file built by hand.
func tinySafetensors() []byte {
	h := `{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"F16","shape":[4],"data_offsets":[24,32]}}`
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	b = append(b, h...)
	return append(b, make([]byte, 32)...)
}

func runWeights(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newWeightsCmd()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestWeightsPullAndInspect(t *testing.T) {
	home := t.TempDir()
	for k, v := range map[string]string{"HOME": home, "DAPO_CACHE": filepath.Join(home, "c"), "XDG_CACHE_HOME": "",
		"DAPO_HUB_URL": "http://127.0.0.1:1", "DAPO_OPENAI_URL": "http://127.0.0.1:1", "HF_ENDPOINT": "", "HF_TOKEN": ""} {
		t.Setenv(k, v)
	}
	weights := tinySafetensors()
	files := map[string][]byte{
		"/timm/vit_base_patch16_clip_224.openai/resolve/main/open_clip_config.json":       []byte(`{"model_cfg":{}}`),
		"/timm/vit_base_patch16_clip_224.openai/resolve/main/open_clip_model.safetensors": weights,
	}
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()

	cache := t.TempDir()
	out, err := runWeights(t, "pull", "vit-b-16", "--cache", cache, "--hub-url", srv.URL, "--quiet")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cache, "models", "ViT-B-16")
	sum := sha256.Sum256(weights)
	for _, s := range []string{dir, hex.EncodeToString(sum[:]), "--model ViT-B-16", "--model " + dir, "downloaded"} {
		if !strings.Contains(out, s) {
			t.Errorf("pull output lacks %q:\n%s", s, out)
		}
	}
	if requests.Load() != 2 {
		t.Errorf("%d requests, want 2", requests.Load())
	}
	out, err = runWeights(t, "pull", "ViT-B-16", "--cache", cache, "--hub-url", srv.URL, "--quiet")
	if err != nil || requests.Load() != 2 || !strings.Contains(out, "already present") {
		t.Fatalf("second pull: %d requests, err %v:\n%s", requests.Load(), err, out)
	}

	out, err = runWeights(t, "inspect", "--json", filepath.Join(dir, "open_clip_model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	var inv struct {
		Metadata map[string]string
		Tensors  []struct {
			Name, DType string
			Shape       []int
			Elements    int64
		}
		TotalElements int64 `json:"total_elements"`
		TotalBytes    int64 `json:"total_bytes"`
	}
	if err := json.Unmarshal([]byte(out), &inv); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if len(inv.Tensors) != 2 || inv.Tensors[0].Name != "a" || inv.Tensors[0].Elements != 6 || inv.Tensors[1].DType != "F16" ||
		inv.TotalElements != 10 || inv.TotalBytes != 32 || inv.Metadata["format"] != "pt" {
		t.Errorf("inspect: %+v", inv)
	}

	if _, err := runWeights(t, "pull", "nope", "--cache", cache, "--hub-url", srv.URL); err == nil || !strings.Contains(err.Error(), "ViT-L-14-336") {
		t.Errorf("unknown model: %v", err)
	}
}
