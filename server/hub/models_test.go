package hub

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	for in, want := range map[string]string{
		"ViT-L-14-336":           "ViT-L-14-336",
		"vit-l-14-336":           "ViT-L-14-336",
		"ViT-L-14-336-quickgelu": "ViT-L-14-336",
		"ViT-L/14@336px":         "ViT-L-14-336",
		" ViT-B-16 ":             "ViT-B-16",
		"ViT-B/16":               "ViT-B-16",
	} {
		m, err := Lookup(in)
		if err != nil || m.Name != want {
			t.Errorf("Lookup(%q) = %q, %v", in, m.Name, err)
		}
	}
	_, err := Lookup("RN50")
	if err == nil || !strings.Contains(err.Error(), "RN50") || !strings.Contains(err.Error(), "ViT-B-16, ViT-L-14-336") {
		t.Errorf("unknown name: %v", err)
	}
}

func TestModelTable(t *testing.T) {
	for _, m := range Models() {
		if !strings.Contains(m.OpenAIPath, "/"+m.OpenAISHA256+"/") || len(m.OpenAISHA256) != 64 {
			t.Errorf("%s: OpenAI path %s does not embed its sha256", m.Name, m.OpenAIPath)
		}
		if !strings.HasSuffix(m.OpenAIFile(), ".pt") || !strings.HasPrefix(m.HubRepo, "timm/") {
			t.Errorf("%s: %+v", m.Name, m)
		}
	}
	// Callers cannot alter the table.
	Models()[0].Name = "changed"
	if Models()[0].Name == "changed" {
		t.Error("Models shares its table")
	}
	m, _ := Lookup("ViT-L-14-336")
	if got := HubFileURL(DefaultHubURL+"/", m.HubRepo, WeightsFile); got != "https://huggingface.co/timm/vit_large_patch14_clip_336.openai/resolve/main/open_clip_model.safetensors" {
		t.Errorf("hub URL %s", got)
	}
	if got := m.OpenAIURL(DefaultOpenAIURL); got != "https://openaipublic.azureedge.net/clip/models/3035c92b350959924f9f00213499208652fc7ea050643e8b385c2dac08641f02/ViT-L-14-336px.pt" {
		t.Errorf("OpenAI URL %s", got)
	}
}

func TestCacheDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("DAPO_CACHE", "")
	t.Setenv("XDG_CACHE_HOME", "")
	check := func(want string) {
		t.Helper()
		got, err := CacheDir()
		if err != nil || got != want {
			t.Errorf("CacheDir = %q, %v; want %q", got, err, want)
		}
	}
	check(filepath.Join(home, ".cache", "dapo"))
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	check("/xdg/dapo")
	t.Setenv("DAPO_CACHE", "/dc")
	check("/dc")
	if got := ModelDir("/c", "ViT-B-16"); got != "/c/models/ViT-B-16" {
		t.Errorf("ModelDir = %s", got)
	}
}
