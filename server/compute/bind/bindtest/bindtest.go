// Package bindtest holds the checks every compute.Backend must pass — the
// golden forward (plain CLIP encoders and DAPO's image side against the
// reference outputs in the golden folder, DAPO_GOLDEN) and agreement with
// server/clip's CPU towers — so the CPU backend's tests and the GPU
// backend's (server/gpu, dapocuda tag) run the very same code.
package bindtest

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"testing"

	"dapo/kernels/cpu"
	"dapo/server/clip"
	"dapo/server/compute"
	"dapo/server/compute/bind"
	"dapo/server/dapo"
	"dapo/server/dapo/dapotest"
	"dapo/shared/tokenizer"
)

// Model is the golden backbone, DAPO config and initial parameters.
type Model struct{ *dapotest.Model }

// LoadModel reads everything from the golden folder (shapes, layer lists
// and settings come from its files).
func LoadModel(t testing.TB) *Model { return &Model{dapotest.LoadModel(t)} }

// Pixels returns the golden preprocessed images as one batch.
// Bound is the golden model on a backend: both towers, the image side's
// prompts and adapters, and the text side's learned tokens.
type Bound struct {
	Vision      *compute.VisionTower
	Text        *compute.TextTower
	Image       *dapo.Prompts
	TextPrompts *dapo.TextPrompts
}

// Bind uploads the golden backbone and initial parameters to be.
func (m *Model) Bind(t testing.TB, be compute.Backend) *Bound {
	t.Helper()
	w := m.Backbone.Weights
	var b Bound
	var err error
	if b.Vision, err = bind.Vision(be, w); err != nil {
		t.Fatal(err)
	}
	if b.Text, err = bind.Text(be, w); err != nil {
		t.Fatal(err)
	}
	if b.Image, err = dapo.UploadPrompts(be, m.Params); err != nil {
		t.Fatal(err)
	}
	if b.TextPrompts, err = dapo.UploadTextPrompts(be, m.Params); err != nil {
		t.Fatal(err)
	}
	return &b
}

// TemplateIDs tokenises the golden config's prompt templates.
func (m *Model) TemplateIDs(t testing.TB) [][]int {
	t.Helper()
	tok, err := tokenizer.New()
	if err != nil {
		t.Fatal(err)
	}
	ids, err := m.Config.TemplateIDs(tok, m.Backbone.Weights.Config.Text.ContextLength)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func (m *Model) Pixels(t testing.TB) ([]float32, int) {
	var pixels []float32
	batch := 0
	for ; m.Set.HasTensor(t, "preprocess", fmt.Sprintf("image_%d.tensor", batch)); batch++ {
		v, _ := m.Set.Float32(t, "preprocess", fmt.Sprintf("image_%d.tensor", batch))
		pixels = append(pixels, v...)
	}
	return pixels, batch
}

// Golden runs be's towers on the golden inputs and compares every end
// result with the reference within tolerances.json.
func Golden(t *testing.T, be compute.Backend) {
	m := LoadModel(t)
	set, w := m.Set, m.Backbone.Weights
	ctx := context.Background()
	e := w.Config.EmbedDim
	bound := m.Bind(t, be)
	vision, text := bound.Vision, bound.Text

	t.Run("plain encoders", func(t *testing.T) {
		pixels, batch := m.Pixels(t)
		// The plain encoders run at the backbone's own size; the golden
		// preprocess tensors are at the DAPO size, which the golden set
		// uses for both.
		if vision.ImageSize*vision.ImageSize*3*batch != len(pixels) {
			t.Skipf("preprocessed images are not at the backbone size %d", vision.ImageSize)
		}
		img, err := vision.EncodeImage(ctx, pixels, batch)
		if err != nil {
			t.Fatal(err)
		}
		set.CompareFloat32(t, "clip_encoders", "image.features", img)
		cpu.L2Normalize(img, batch, e)
		set.CompareFloat32(t, "clip_encoders", "image.features_normed", img)

		ids64, idShape := set.Int64(t, "clip_encoders", "text.ids")
		ids := make([][]int, idShape[0])
		for n := range ids {
			ids[n] = make([]int, idShape[1])
			for i := range ids[n] {
				ids[n][i] = int(ids64[n*idShape[1]+i])
			}
		}
		txt, err := text.EncodeText(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		set.CompareFloat32(t, "clip_encoders", "text.features", txt)
		cpu.L2Normalize(txt, len(ids), e)
		set.CompareFloat32(t, "clip_encoders", "text.features_normed", txt)
	})

	t.Run("dapo image side", func(t *testing.T) {
		pixels, batch := m.Pixels(t)
		out, err := dapo.EncodeImageOn(ctx, m.Config, vision, bound.Image, pixels, batch, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range m.Config.FeatureLayers {
			set.CompareFloat32(t, "dapo_forward", fmt.Sprintf("layer%d.adapted", l), out.Adapted[i])
		}
		set.CompareFloat32(t, "dapo_forward", "image.global_raw", out.GlobalRaw)
		set.CompareFloat32(t, "dapo_forward", "image.global", out.Global)
	})
	t.Run("dapo text side", func(t *testing.T) {
		tf, err := dapo.EncodeTextOn(ctx, m.Config, text, bound.TextPrompts, m.TemplateIDs(t), func(name string, k int, x clip.Seq) {
			if key := fmt.Sprintf("%s.%d", name, k+1); name != "text.ln_final_out" && set.HasTensor(t, "dapo_forward", key) {
				set.CompareFloat32(t, "dapo_forward", key, x.Data)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		set.CompareFloat32(t, "dapo_forward", "text.features_groups", tf.Groups)
		set.CompareFloat32(t, "dapo_forward", "text.features_raw", tf.Raw)
		set.CompareFloat32(t, "dapo_forward", "text.features", tf.Features)
	})
}

// MatchesCPU runs be's DAPO image encode and plain text encode on the
// golden model with random inputs and compares with server/clip and
// server/dapo on the CPU: |be − cpu| ≤ atol + rtol·max|cpu|.
func MatchesCPU(t *testing.T, be compute.Backend, batch int, atol, rtol float64) {
	m := LoadModel(t)
	w := m.Backbone.Weights
	ctx := context.Background()
	s := w.Config.Vision.ImageSize
	pixels := make([]float32, batch*3*s*s)
	for i := range pixels {
		pixels[i] = float32(math.Sin(float64(i)*0.37)) * 1.5
	}
	want, err := dapo.EncodeImage(ctx, m.Config, clip.NewVision(w), m.Params, pixels, batch, nil)
	if err != nil {
		t.Fatal(err)
	}
	bound := m.Bind(t, be)
	got, err := dapo.EncodeImageOn(ctx, m.Config, bound.Vision, bound.Image, pixels, batch, nil)
	if err != nil {
		t.Fatal(err)
	}
	Close(t, "global_raw", got.GlobalRaw, want.GlobalRaw, atol, rtol)
	Close(t, "global", got.Global, want.Global, atol, rtol)
	for i := range want.Adapted {
		Close(t, fmt.Sprintf("adapted[%d]", i), got.Adapted[i], want.Adapted[i], atol, rtol)
	}

	ctxLen := w.Config.Text.ContextLength
	ids := make([][]int, 3)
	for n := range ids {
		ids[n] = make([]int, ctxLen)
		ids[n][0] = 49406
		for i := 1; i < 5+3*n && i < ctxLen-1; i++ {
			ids[n][i] = (i*7919 + n*104729) % 49000
		}
		ids[n][min(5+3*n, ctxLen-1)] = 49407
	}
	wantT, err := clip.NewText(w).EncodeText(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	gotT, err := bound.Text.EncodeText(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	Close(t, "text features", gotT, wantT, atol, rtol)
}

// Close fails t when |got − want| > atol + rtol·max|want| anywhere.
func Close(t testing.TB, name string, got, want []float32, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", name, len(got), len(want))
		return
	}
	var maxWant, maxDiff float64
	for i := range want {
		maxWant = math.Max(maxWant, math.Abs(float64(want[i])))
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if d > maxDiff || math.IsNaN(d) {
			maxDiff = d
			if math.IsNaN(d) {
				maxDiff = math.Inf(1)
			}
		}
	}
	if bound := atol + rtol*maxWant; maxDiff > bound {
		t.Errorf("%s: max |got−want| %.3g > %.3g", name, maxDiff, bound)
	} else {
		t.Logf("%s: max |got−want| %.3g (bound %.3g)", name, maxDiff, bound)
	}
}

// TowerBackward runs the golden vision tower's blocks forward and backward
// on be with a random input and output gradient, with a checkpointed and
// with a full tape, against server/clip's ForwardCheckpointed and Backward
// on the CPU.
func TowerBackward(t *testing.T, be compute.Backend, atol, rtol float64) {
	m := LoadModel(t)
	w := m.Backbone.Weights
	ctx := context.Background()
	r := rand.New(rand.NewSource(7))
	b, l, wd := 2, 1+w.Config.Grid()*w.Config.Grid(), w.Config.Vision.Width
	x := make([]float32, b*l*wd)
	dy := make([]float32, b*l*wd)
	for i := range x {
		x[i] = float32(r.NormFloat64())
		dy[i] = float32(r.NormFloat64())
	}
	ref := clip.NewVision(w)
	xs := clip.Seq{B: b, L: l, W: wd, Data: append([]float32(nil), x...)}
	wantOut, tape, err := ref.Tower.ForwardCheckpointed(ctx, xs, clip.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	wantDx, err := ref.Tower.Backward(ctx, tape, clip.Seq{B: b, L: l, W: wd, Data: dy}, clip.BackwardHooks{})
	if err != nil {
		t.Fatal(err)
	}

	v, err := bind.Vision(be, w)
	if err != nil {
		t.Fatal(err)
	}
	for _, full := range []bool{false, true} {
		forward := v.Tower.ForwardCheckpointed
		name := "checkpointed"
		if full {
			forward, name = v.Tower.ForwardCached, "full tape"
		}
		t.Run(name, func(t *testing.T) {
			out, gtape, err := forward(ctx, compute.Seq{B: b, L: l, W: wd, T: be.Upload(append([]float32(nil), x...))}, compute.Hooks{})
			if err != nil {
				t.Fatal(err)
			}
			defer gtape.Free()
			gotOut := make([]float32, len(x))
			be.Download(gotOut, out.T)
			dx, err := v.Tower.Backward(ctx, gtape, compute.Seq{B: b, L: l, W: wd, T: be.Upload(dy)}, compute.BackwardHooks{})
			if err != nil {
				t.Fatal(err)
			}
			gotDx := make([]float32, len(x))
			be.Download(gotDx, dx.T)
			Close(t, "tower output", gotOut, wantOut.Data, atol, rtol)
			Close(t, "tower input gradient", gotDx, wantDx.Data, atol, rtol)
		})
	}
}
