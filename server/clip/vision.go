package clip

import (
	"context"
	"fmt"

	"dapo/server/compute"
)

// Vision is the CLIP image tower.
type Vision struct {
	Config Config
	W      *VisionWeights
	Tower  Transformer
}

// NewVision builds the vision tower over bound weights.
func NewVision(w *Weights) *Vision {
	return &Vision{
		Config: w.Config,
		W:      &w.Vision,
		Tower:  Transformer{Blocks: w.Vision.Blocks, Heads: w.Config.VisionHeads(), QuickGELU: w.Config.QuickGELU},
	}
}

// Embed turns pixels [B,3,S,S] (normalised CHW) into the block-1 input
// [B, 1+G², W]: patch convolution (as a matrix product over unfolded
// patches), class token, positional embedding, ln_pre
// (compute.VisionTower.Embed on the CPU). Patches are in row-major grid
// order (row·G+col).
func (v *Vision) Embed(pixels []float32, batch int) (Seq, error) {
	s := v.Config.Vision.ImageSize
	if len(pixels) != batch*3*s*s {
		return Seq{}, fmt.Errorf("vision embed: got %d pixel values, want %d (batch %d × 3 × %d × %d)", len(pixels), batch*3*s*s, batch, s, s)
	}
	return fromHost(v.cpu().Embed(compute.Host(pixels), batch)), nil
}

// Pass is the whole tower on be for one pass (its decode buffer for
// half-precision weights belongs to the pass), over v's slices on the CPU
// backend.
func (v *Vision) Pass(be *compute.CPU) *compute.VisionTower {
	vt := visionParts(be, v.Config, v.W)
	vt.Tower = *v.Tower.tower(be)
	return vt
}

// cpu is the embedding and read-out on the CPU backend, over v's slices.
func (v *Vision) cpu() *compute.VisionTower { return visionParts(&compute.CPU{}, v.Config, v.W) }

// Forward runs embed and all blocks, returning the last block's output
// (whatever tokens the hooks inserted are still in it).
func (v *Vision) Forward(ctx context.Context, pixels []float32, batch int, hooks Hooks) (Seq, error) {
	x, err := v.Embed(pixels, batch)
	if err != nil {
		return Seq{}, err
	}
	return v.Tower.Forward(ctx, x, hooks)
}

// Global maps the CLS row of the final sequence through ln_post and proj:
// the image feature [B, E] before L2 normalisation.
func (v *Vision) Global(final Seq) []float32 {
	return v.cpu().Global(final.host()).(compute.Host)
}

// EncodeImage is plain CLIP image encoding: features [B, E] before
// normalisation.
func (v *Vision) EncodeImage(ctx context.Context, pixels []float32, batch int) ([]float32, error) {
	final, err := v.Forward(ctx, pixels, batch, Hooks{})
	if err != nil {
		return nil, err
	}
	return v.Global(final), nil
}
