package clip

import "dapo/server/compute"

// Upload puts x on be (the CPU backend uses the slice in place, a GPU
// copies it); nil stays nil.
func Upload(be compute.Backend, x []float32) compute.Tensor {
	if x == nil {
		return nil
	}
	return be.Upload(x)
}

// On puts the layer norm on be.
func (l LayerNorm) On(be compute.Backend) compute.LayerNorm {
	return compute.LayerNorm{Weight: Upload(be, l.Weight), Bias: Upload(be, l.Bias)}
}

// On puts the layer on be. An encoded weight (see Linear) stays nil.
func (l *Linear) On(be compute.Backend) compute.Linear {
	return compute.Linear{Weight: Upload(be, l.Weight), Bias: Upload(be, l.Bias), Out: l.Out, In: l.In}
}

// On puts the block's weights on be. Encoded weights stay nil: Densify
// first, or decode per block (Transformer does).
func (b *Block) On(be compute.Backend) compute.Block {
	return compute.Block{LN1: b.LN1.On(be), LN2: b.LN2.On(be), InProj: b.InProj.On(be),
		OutProj: b.OutProj.On(be), FC: b.FC.On(be), Proj: b.Proj.On(be)}
}

// BlocksOn puts every block on be.
func BlocksOn(be compute.Backend, bs []Block) []compute.Block {
	out := make([]compute.Block, len(bs))
	for i := range bs {
		out[i] = bs[i].On(be)
	}
	return out
}

// VisionOn puts the image tower on be. The blocks' encoded weights stay
// nil (Densify first when be is a GPU).
func (w *Weights) VisionOn(be compute.Backend) *compute.VisionTower {
	c, vw := w.Config, &w.Vision
	v := visionParts(be, c, vw)
	v.Tower = compute.Transformer{Backend: be, Blocks: BlocksOn(be, vw.Blocks), Heads: c.VisionHeads(), QuickGELU: c.QuickGELU, ChunkRows: chunkRowsFor(be)}
	return v
}

// visionParts is the image tower on be without its blocks: embedding and
// read-out.
func visionParts(be compute.Backend, c Config, vw *VisionWeights) *compute.VisionTower {
	return &compute.VisionTower{
		Tower:     compute.Transformer{Backend: be},
		ImageSize: c.Vision.ImageSize, PatchSize: c.Vision.PatchSize, Width: c.Vision.Width, EmbedDim: c.EmbedDim,
		Conv1: Upload(be, vw.Conv1), ClassEmbedding: Upload(be, vw.ClassEmbedding), PosEm: Upload(be, vw.PosEmbedding),
		LNPre: vw.LNPre.On(be), LNPost: vw.LNPost.On(be), Proj: Upload(be, vw.Proj),
	}
}

// TextOn puts the text tower on be, causal as plain CLIP (DAPO's prompt
// encoder sets Tower.Causal = false).
func (w *Weights) TextOn(be compute.Backend) *compute.TextTower {
	c, tw := w.Config, &w.Text
	t := textParts(be, c, tw)
	t.Tower = compute.Transformer{Backend: be, Blocks: BlocksOn(be, tw.Blocks), Heads: c.Text.Heads, QuickGELU: c.QuickGELU, Causal: true, ChunkRows: chunkRowsFor(be)}
	return t
}

// textParts is the text tower on be without its blocks.
func textParts(be compute.Backend, c Config, tw *TextWeights) *compute.TextTower {
	return &compute.TextTower{
		Tower: compute.Transformer{Backend: be},
		Width: c.Text.Width, EmbedDim: c.EmbedDim,
		TokenEmbedding: Upload(be, tw.TokenEmbedding), PosEmbed: Upload(be, tw.PosEmbedding),
		LNFinal: tw.LNFinal.On(be), Projection: Upload(be, tw.Projection),
	}
}

// chunkRowsFor is the block chunk bound for be: the CPU's (chunkRows), none
// on a GPU, which wants the whole batch at once.
func chunkRowsFor(be compute.Backend) int {
	if _, ok := be.(*compute.CPU); ok {
		return chunkRows
	}
	return 0
}
