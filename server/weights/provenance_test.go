package weights

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"dapo/shared/golden"
)

// TestHubQuickGELUFromManifest: a pulled hub folder is named after the model
// (ViT-L-14-336), not the hub repository; the manifest's source URL is what
// tells that the weights are OpenAI's and need QuickGELU.
func TestHubQuickGELUFromManifest(t *testing.T) {
	set := golden.Load(t)
	var cfg map[string]any
	set.JSON(t, "model_config.json", &cfg)
	delete(cfg, "quick_gelu")
	hubCfg, err := json.Marshal(map[string]any{"model_cfg": cfg})
	if err != nil {
		t.Fatal(err)
	}
	weightsBytes, err := os.ReadFile(set.Path("backbone.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	for _, withManifest := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "ViT-L-14-336")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		must(t, os.WriteFile(filepath.Join(dir, "open_clip_config.json"), hubCfg, 0o644))
		must(t, os.WriteFile(filepath.Join(dir, "open_clip_model.safetensors"), weightsBytes, 0o644))
		if withManifest {
			m := `{"model":"ViT-L-14-336","files":[{"name":"open_clip_model.safetensors","url":"https://hub.example/timm/vit_large_patch14_clip_336.openai/resolve/main/open_clip_model.safetensors"}]}`
			must(t, os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(m), 0o644))
		}
		b, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if b.Config.QuickGELU != withManifest {
			t.Errorf("manifest %v: QuickGELU = %v, want %v", withManifest, b.Config.QuickGELU, withManifest)
		}
		b.Close()
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
