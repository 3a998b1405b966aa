package weights

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"dapo/shared/safetensors"
)

func TestOpenGoldenProjectLayout(t *testing.T) {
	r := loadRef(t)
	b := mustOpen(t, r.set.Dir, Options{})
	if b.Layout != LayoutProject {
		t.Errorf("layout %s, want %s", b.Layout, LayoutProject)
	}
	if !reflect.DeepEqual(b.Config, r.cfg) || !reflect.DeepEqual(b.Weights.Config, r.cfg) {
		t.Errorf("config %+v, want %+v", b.Config, r.cfg)
	}
	if b.WeightsFile != r.set.Path("backbone.safetensors") || b.ConfigFile != r.set.Path("model_config.json") {
		t.Errorf("files %s, %s", b.ConfigFile, b.WeightsFile)
	}
	if len(b.ID) != 64 {
		t.Errorf("ID %q is not a hex SHA-256", b.ID)
	}
	sameBits(t, "golden", flatten(b.Weights), r.tensors)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// The same weights in the three layouts load to bit-identical tensors.
func TestOpenLayoutsAgree(t *testing.T) {
	r := loadRef(t)
	hub := t.TempDir()
	r.writeHub(t, hub, r.cfgJSON, nil)
	hf := r.writeHF(t, safetensors.F32, nil)
	want := flatten(mustOpen(t, r.set.Dir, Options{}).Weights)
	for _, c := range []struct {
		dir    string
		layout Layout
	}{{hub, LayoutOpenCLIPHub}, {hf, LayoutHF}} {
		b := mustOpen(t, c.dir, Options{})
		if b.Layout != c.layout {
			t.Errorf("%s: detected %s", c.layout, b.Layout)
		}
		if !reflect.DeepEqual(b.Config, r.cfg) {
			t.Errorf("%s: config %+v, want %+v", c.layout, b.Config, r.cfg)
		}
		sameBits(t, string(c.layout), flatten(b.Weights), want)
	}
}

func TestOpenHalfPrecision(t *testing.T) {
	r := loadRef(t)
	for _, c := range []struct {
		dt    safetensors.DType
		round func(float32) float32
	}{
		{safetensors.F16, func(x float32) float32 { return safetensors.Float16ToFloat32(safetensors.Float32ToFloat16(x)) }},
		{safetensors.BF16, func(x float32) float32 { return math.Float32frombits(uint32(safetensors.Float32ToBFloat16(x)) << 16) }},
	} {
		t.Run(string(c.dt), func(t *testing.T) {
			want := map[string][]float32{}
			changed := 0
			for n, v := range r.tensors {
				w := make([]float32, len(v))
				for i, x := range v {
					w[i] = c.round(x)
					if w[i] != x {
						changed++
					}
				}
				want[n] = w
			}
			if changed == 0 {
				t.Fatal("rounding changed nothing: the test would prove nothing")
			}
			for _, dir := range []string{r.writeProject(t, r.asTensors(c.dt, nil)), r.writeHF(t, c.dt, nil)} {
				sameBits(t, string(c.dt), flatten(mustOpen(t, dir, Options{}).Weights), want)
			}
		})
	}
}

func TestOpenReportsEveryBadTensor(t *testing.T) {
	r := loadRef(t)
	w := r.cfg.Vision.Width
	dir := r.writeProject(t, r.asTensors(safetensors.F32, func(tt *safetensors.Tensor) bool {
		switch tt.Name {
		case "ln_final.bias":
			return false
		case "visual.ln_pre.weight":
			*tt = safetensors.FromFloat32(tt.Name, []int{w - 1}, make([]float32, w-1), safetensors.F32)
		}
		return true
	}))
	_, err := Open(dir, Options{})
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{
		`"ln_final.bias": missing (expected shape [` + strconv.Itoa(r.cfg.Text.Width) + `])`,
		`"visual.ln_pre.weight": expected shape [` + strconv.Itoa(w) + `], found [` + strconv.Itoa(w-1) + `]`,
		dir,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not say %q:\n%s", want, msg)
		}
	}
}

func TestOpenHFReportsSourceNames(t *testing.T) {
	r := loadRef(t)
	dir := r.writeHF(t, safetensors.F32, func(tt *safetensors.Tensor) bool {
		switch tt.Name {
		case "vision_model.encoder.layers.1.self_attn.k_proj.weight":
			*tt = safetensors.FromFloat32(tt.Name, []int{2, 3}, make([]float32, 6), safetensors.F32)
		case "text_projection.weight":
			return false
		}
		return true
	})
	_, err := Open(dir, Options{})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"vision_model.encoder.layers.1.self_attn.k_proj.weight", "found [2 3]", "visual.transformer.resblocks.1.attn.in_proj_weight",
		`"text_projection.weight": missing`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}

func TestOpenExtraTensors(t *testing.T) {
	r := loadRef(t)
	extra := func(name string) []safetensors.Tensor {
		return append(r.asTensors(safetensors.F32, nil), safetensors.FromFloat32(name, []int{2}, []float32{1, 2}, safetensors.F32))
	}
	// Unknown tensors are ignored.
	mustOpen(t, r.writeProject(t, extra("something.else")), Options{})
	// Tensors of open_clip features the towers do not compute are refused.
	_, err := Open(r.writeProject(t, extra("visual.transformer.resblocks.0.ls_1.gamma")), Options{})
	if err == nil || !strings.Contains(err.Error(), "layer scale") || !strings.Contains(err.Error(), "ls_1.gamma") {
		t.Fatalf("want a layer-scale error, got %v", err)
	}
}

func TestOpenBrokenFiles(t *testing.T) {
	r := loadRef(t)
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", r.fileBytes[:len(r.fileBytes)/2], "truncated"},
		{"empty", nil, "shorter than"},
		{"text", []byte("this is not a safetensors file at all, just some text"), "not a safetensors file"},
		{"zip", append([]byte("PK\x03\x04"), bytes.Repeat([]byte{0}, 64)...), "PyTorch"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "model_config.json"), r.cfgJSON)
			writeFile(t, filepath.Join(dir, "backbone.safetensors"), c.data)
			_, err := Open(dir, Options{})
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "backbone.safetensors") {
				t.Errorf("error %q does not name the file and say %q", err, c.want)
			}
		})
	}
}

func TestOpenNotABackbone(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "model_config.json + backbone.safetensors") {
		t.Errorf("empty folder: %v", err)
	}
	writeFile(t, filepath.Join(dir, "open_clip_config.json"), []byte(`{}`))
	writeFile(t, filepath.Join(dir, "open_clip_pytorch_model.bin"), []byte(`PK`))
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "open_clip_pytorch_model.bin") {
		t.Errorf("hub folder with .bin weights: %v", err)
	}
	if _, err := Open(filepath.Join(dir, "missing"), Options{}); err == nil {
		t.Error("missing folder: no error")
	}
}

func TestOpenImageSize(t *testing.T) {
	r := loadRef(t)
	g, p, w := r.cfg.Grid(), r.cfg.Vision.PatchSize, r.cfg.Vision.Width
	for _, newGrid := range []int{g + 2, g - 1} {
		if newGrid < 1 {
			continue
		}
		size := newGrid * p
		b := mustOpen(t, r.set.Dir, Options{ImageSize: size})
		if b.Config.Vision.ImageSize != size || b.Weights.Config.Vision.ImageSize != size || b.Config.Grid() != newGrid {
			t.Fatalf("config image size %d (grid %d), want %d", b.Config.Vision.ImageSize, b.Config.Grid(), size)
		}
		if b.Stored.Vision.ImageSize != r.cfg.Vision.ImageSize {
			t.Errorf("stored config changed: %d", b.Stored.Vision.ImageSize)
		}
		want := ResizePosEmbed(r.tensors["visual.positional_embedding"], g, newGrid, w)
		got := flatten(b.Weights)
		wantAll := map[string][]float32{}
		for n, v := range r.tensors {
			wantAll[n] = v
		}
		wantAll["visual.positional_embedding"] = want
		sameBits(t, "resized", got, wantAll)
		if b.ID == mustOpen(t, r.set.Dir, Options{}).ID {
			t.Error("ID does not change with the image size")
		}
	}
	// The same size as stored changes nothing.
	b := mustOpen(t, r.set.Dir, Options{ImageSize: r.cfg.Vision.ImageSize})
	sameBits(t, "same size", flatten(b.Weights), r.tensors)
	if _, err := Open(r.set.Dir, Options{ImageSize: g*p + 1}); err == nil {
		t.Error("an image size that is not a multiple of the patch size loaded")
	}
}

func TestOpenZeroCopy(t *testing.T) {
	r := loadRef(t)
	b := mustOpen(t, r.set.Dir, Options{})
	v := b.Weights.Text.TokenEmbedding
	raw, _, err := b.ckpt.file.Raw("token_embedding.weight")
	if err != nil {
		t.Fatal(err)
	}
	if unsafe.Pointer(&v[0]) != unsafe.Pointer(&raw[0]) {
		t.Error("an aligned F32 tensor was copied instead of viewed")
	}
}

func TestQuickGELUOption(t *testing.T) {
	r := loadRef(t)
	for _, q := range []bool{false, true} {
		b := mustOpen(t, r.set.Dir, Options{QuickGELU: &q})
		if b.Config.QuickGELU != q || b.Stored.QuickGELU != r.cfg.QuickGELU {
			t.Errorf("force %v: config %v, stored %v", q, b.Config.QuickGELU, b.Stored.QuickGELU)
		}
	}
}

// Hub configs of OpenAI weights may not say quick_gelu; the loader infers it.
func TestHubQuickGELU(t *testing.T) {
	r := loadRef(t)
	variant := func(quick any) []byte {
		var m map[string]any
		if err := json.Unmarshal(r.cfgJSON, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "quick_gelu")
		if quick != nil {
			m["quick_gelu"] = quick
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, c := range []struct {
		name     string
		folder   string
		modelCfg []byte
		extra    map[string]any
		want     bool
	}{
		{"explicit false wins", "x", variant(false), map[string]any{"pretrained": "openai"}, false},
		{"explicit true", "x", variant(true), nil, true},
		{"pretrained tag", "x", variant(nil), map[string]any{"pretrained": "openai"}, true},
		{"folder name", "timm--vit_large_patch14_clip_336.openai", variant(nil), nil, true},
		{"mean alone", "x", variant(nil), nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), c.folder)
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			r.writeHub(t, dir, c.modelCfg, c.extra)
			if b := mustOpen(t, dir, Options{}); b.Config.QuickGELU != c.want {
				t.Errorf("quick_gelu %v, want %v", b.Config.QuickGELU, c.want)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	cache := t.TempDir()
	named := filepath.Join(cache, "models", "ViT-L-14-336-openai")
	if err := os.MkdirAll(named, 0o755); err != nil {
		t.Fatal(err)
	}
	folder := t.TempDir()
	file := filepath.Join(folder, "f.json")
	writeFile(t, file, []byte("{}"))

	if got, err := Resolve(folder, cache); err != nil || got != folder {
		t.Errorf("folder: %q, %v", got, err)
	}
	if got, err := Resolve("ViT-L-14-336-openai", cache); err != nil || got != named {
		t.Errorf("name: %q, %v", got, err)
	}
	if _, err := Resolve("ViT-B-16", cache); err == nil || !strings.Contains(err.Error(), "dapo weights pull ViT-B-16") {
		t.Errorf("unknown name: %v", err)
	}
	if _, err := Resolve(file, cache); err == nil || !strings.Contains(err.Error(), "is a file") {
		t.Errorf("file: %v", err)
	}
	if _, err := Resolve(filepath.Join(folder, "nope"), cache); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing path: %v", err)
	}
	if _, err := Resolve("../escape", cache); err == nil || strings.Contains(err.Error(), "weights pull") {
		t.Errorf("a name may not leave the cache: %v", err)
	}
}
