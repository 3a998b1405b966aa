package weights

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"dapo/server/clip"
	"dapo/shared/golden"
	"dapo/shared/safetensors"
)

// ref is the golden backbone read directly with the safetensors package,
// independently of the loader under test.
type ref struct {
	set       *golden.Set
	cfg       clip.Config
	cfgJSON   []byte
	names     []string
	tensors   map[string][]float32
	shapes    map[string][]int
	fileBytes []byte
}

func loadRef(t *testing.T) *ref {
	t.Helper()
	set := golden.Load(t)
	cfgJSON, err := os.ReadFile(set.Path("model_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clip.ParseConfig(cfgJSON)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(set.Path("backbone.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	r := &ref{set: set, cfg: cfg, cfgJSON: cfgJSON, names: f.Names(), tensors: map[string][]float32{}, shapes: map[string][]int{}, fileBytes: b}
	for _, n := range r.names {
		v, shape, err := f.Float32(n)
		if err != nil {
			t.Fatal(err)
		}
		r.tensors[n], r.shapes[n] = v, shape
	}
	return r
}

// asTensors encodes the reference tensors with dtype dt, passing each
// through edit (which may rename, reshape or drop it by returning false).
func (r *ref) asTensors(dt safetensors.DType, edit func(*safetensors.Tensor) bool) []safetensors.Tensor {
	var out []safetensors.Tensor
	for _, n := range r.names {
		tt := safetensors.FromFloat32(n, r.shapes[n], r.tensors[n], dt)
		if edit == nil || edit(&tt) {
			out = append(out, tt)
		}
	}
	return out
}

func writeST(t *testing.T, path string, tensors []safetensors.Tensor) {
	t.Helper()
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, tensors, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, buf.Bytes())
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeProject writes the project layout with the given tensors.
func (r *ref) writeProject(t *testing.T, tensors []safetensors.Tensor) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "model_config.json"), r.cfgJSON)
	writeST(t, filepath.Join(dir, "backbone.safetensors"), tensors)
	return dir
}

// writeHub writes open_clip's hub layout: the config under model_cfg.
func (r *ref) writeHub(t *testing.T, dir string, modelCfg json.RawMessage, extra map[string]any) {
	t.Helper()
	doc := map[string]any{
		"model_cfg": modelCfg,
		"preprocess_cfg": map[string]any{
			"mean": []float64{0.48145466, 0.4578275, 0.40821073},
			"std":  []float64{0.26862954, 0.26130258, 0.27577711},
		},
	}
	for k, v := range extra {
		doc[k] = v
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "open_clip_config.json"), b)
	writeFile(t, filepath.Join(dir, "open_clip_model.safetensors"), r.fileBytes)
}

// writeHF converts the reference to a transformers CLIPModel folder: HF
// names, q/k/v split out of in_proj, projections transposed, config.json.
// Written out longhand so that it does not share the loader's table.
func (r *ref) writeHF(t *testing.T, dt safetensors.DType, edit func(*safetensors.Tensor) bool) string {
	t.Helper()
	cfg := r.cfg
	var out []safetensors.Tensor
	put := func(name string, shape []int, v []float32) {
		tt := safetensors.FromFloat32(name, shape, v, dt)
		if edit == nil || edit(&tt) {
			out = append(out, tt)
		}
	}
	same := func(hf, oc string) { put(hf, r.shapes[oc], r.tensors[oc]) }
	transposed := func(hf, oc string) {
		s := r.shapes[oc] // [W, E]
		v := r.tensors[oc]
		tv := make([]float32, len(v))
		for i := 0; i < s[0]; i++ {
			for j := 0; j < s[1]; j++ {
				tv[j*s[0]+i] = v[i*s[1]+j]
			}
		}
		put(hf, []int{s[1], s[0]}, tv)
	}
	blocks := func(oc, hf string, layers, width int) {
		for i := 0; i < layers; i++ {
			o, h := fmt.Sprintf("%s%d.", oc, i), fmt.Sprintf("%s%d.", hf, i)
			same(h+"layer_norm1.weight", o+"ln_1.weight")
			same(h+"layer_norm1.bias", o+"ln_1.bias")
			w, b := r.tensors[o+"attn.in_proj_weight"], r.tensors[o+"attn.in_proj_bias"]
			for k, qkv := range []string{"q", "k", "v"} {
				put(h+"self_attn."+qkv+"_proj.weight", []int{width, width}, w[k*width*width:(k+1)*width*width])
				put(h+"self_attn."+qkv+"_proj.bias", []int{width}, b[k*width:(k+1)*width])
			}
			same(h+"self_attn.out_proj.weight", o+"attn.out_proj.weight")
			same(h+"self_attn.out_proj.bias", o+"attn.out_proj.bias")
			same(h+"layer_norm2.weight", o+"ln_2.weight")
			same(h+"layer_norm2.bias", o+"ln_2.bias")
			same(h+"mlp.fc1.weight", o+"mlp.c_fc.weight")
			same(h+"mlp.fc1.bias", o+"mlp.c_fc.bias")
			same(h+"mlp.fc2.weight", o+"mlp.c_proj.weight")
			same(h+"mlp.fc2.bias", o+"mlp.c_proj.bias")
		}
	}
	same("vision_model.embeddings.class_embedding", "visual.class_embedding")
	same("vision_model.embeddings.patch_embedding.weight", "visual.conv1.weight")
	same("vision_model.embeddings.position_embedding.weight", "visual.positional_embedding")
	same("vision_model.pre_layrnorm.weight", "visual.ln_pre.weight")
	same("vision_model.pre_layrnorm.bias", "visual.ln_pre.bias")
	blocks("visual.transformer.resblocks.", "vision_model.encoder.layers.", cfg.Vision.Layers, cfg.Vision.Width)
	same("vision_model.post_layernorm.weight", "visual.ln_post.weight")
	same("vision_model.post_layernorm.bias", "visual.ln_post.bias")
	transposed("visual_projection.weight", "visual.proj")
	same("text_model.embeddings.token_embedding.weight", "token_embedding.weight")
	same("text_model.embeddings.position_embedding.weight", "positional_embedding")
	blocks("transformer.resblocks.", "text_model.encoder.layers.", cfg.Text.Layers, cfg.Text.Width)
	same("text_model.final_layer_norm.weight", "ln_final.weight")
	same("text_model.final_layer_norm.bias", "ln_final.bias")
	transposed("text_projection.weight", "text_projection")
	same("logit_scale", "logit_scale")
	// Older transformers versions saved this buffer; it must be ignored.
	ids := make([]int64, cfg.Text.ContextLength)
	for i := range ids {
		ids[i] = int64(i)
	}
	out = append(out, safetensors.FromInt64("text_model.embeddings.position_ids", []int{1, len(ids)}, ids))

	act := "gelu"
	if cfg.QuickGELU {
		act = "quick_gelu"
	}
	hfCfg := map[string]any{
		"architectures":  []string{"CLIPModel"},
		"model_type":     "clip",
		"projection_dim": cfg.EmbedDim,
		"vision_config": map[string]any{
			"hidden_size":         cfg.Vision.Width,
			"intermediate_size":   cfg.VisionMLP(),
			"num_hidden_layers":   cfg.Vision.Layers,
			"num_attention_heads": cfg.Vision.Width / cfg.Vision.HeadWidth,
			"image_size":          cfg.Vision.ImageSize,
			"patch_size":          cfg.Vision.PatchSize,
			"hidden_act":          act,
		},
		"text_config": map[string]any{
			"hidden_size":             cfg.Text.Width,
			"intermediate_size":       4 * cfg.Text.Width,
			"num_hidden_layers":       cfg.Text.Layers,
			"num_attention_heads":     cfg.Text.Heads,
			"max_position_embeddings": cfg.Text.ContextLength,
			"vocab_size":              cfg.Text.VocabSize,
			"hidden_act":              act,
		},
	}
	b, err := json.MarshalIndent(hfCfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config.json"), b)
	writeST(t, filepath.Join(dir, "model.safetensors"), out)
	return dir
}

// flatten lists a Weights value by open_clip name, written independently of
// clip.Bind's own naming.
func flatten(w *clip.Weights) map[string][]float32 {
	m := map[string][]float32{
		"visual.conv1.weight":         w.Vision.Conv1,
		"visual.class_embedding":      w.Vision.ClassEmbedding,
		"visual.positional_embedding": w.Vision.PosEmbedding,
		"visual.ln_pre.weight":        w.Vision.LNPre.Weight,
		"visual.ln_pre.bias":          w.Vision.LNPre.Bias,
		"visual.ln_post.weight":       w.Vision.LNPost.Weight,
		"visual.ln_post.bias":         w.Vision.LNPost.Bias,
		"visual.proj":                 w.Vision.Proj,
		"token_embedding.weight":      w.Text.TokenEmbedding,
		"positional_embedding":        w.Text.PosEmbedding,
		"ln_final.weight":             w.Text.LNFinal.Weight,
		"ln_final.bias":               w.Text.LNFinal.Bias,
		"text_projection":             w.Text.Projection,
		"logit_scale":                 {w.LogitScale},
	}
	add := func(prefix string, blocks []clip.Block) {
		for i, b := range blocks {
			p := fmt.Sprintf("%s.resblocks.%d.", prefix, i)
			m[p+"ln_1.weight"], m[p+"ln_1.bias"] = b.LN1.Weight, b.LN1.Bias
			m[p+"ln_2.weight"], m[p+"ln_2.bias"] = b.LN2.Weight, b.LN2.Bias
			m[p+"attn.in_proj_weight"], m[p+"attn.in_proj_bias"] = b.InProj.Weight, b.InProj.Bias
			m[p+"attn.out_proj.weight"], m[p+"attn.out_proj.bias"] = b.OutProj.Weight, b.OutProj.Bias
			m[p+"mlp.c_fc.weight"], m[p+"mlp.c_fc.bias"] = b.FC.Weight, b.FC.Bias
			m[p+"mlp.c_proj.weight"], m[p+"mlp.c_proj.bias"] = b.Proj.Weight, b.Proj.Bias
		}
	}
	add("visual.transformer", w.Vision.Blocks)
	add("transformer", w.Text.Blocks)
	return m
}

// sameBits reports the first tensor whose float32 bits differ.
func sameBits(t *testing.T, what string, got, want map[string][]float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d tensors, want %d", what, len(got), len(want))
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s: no tensor %s", what, name)
			continue
		}
		if len(g) != len(w) {
			t.Errorf("%s: %s has %d values, want %d", what, name, len(g), len(w))
			continue
		}
		for i := range w {
			if math.Float32bits(g[i]) != math.Float32bits(w[i]) {
				t.Errorf("%s: %s[%d] = %g, want %g", what, name, i, g[i], w[i])
				break
			}
		}
	}
}

func mustOpen(t *testing.T, dir string, opts Options) *Backbone {
	t.Helper()
	b, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}
