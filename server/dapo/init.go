package dapo

import (
	"math"
	"math/rand/v2"

	"dapo/server/clip"
)

// InitParams draws the learned tensors as the reference initialises them,
// deterministically from seed (the reference's PyTorch RNG stream cannot be
// reproduced; golden tests load its initial values instead):
//   - text context and deep text tokens: per-dimension Gaussian with the
//     mean and standard deviation of the rows of the token embedding;
//   - deep visual tokens: Uniform(−v, v), v = sqrt(6/(3·P·P + Wv)) (VPT);
//   - adapters: PyTorch's nn.Linear default, U(±1/sqrt(Wv)) for weight and bias.
func InitParams(c Config, w *clip.Weights, seed uint64) *Params {
	bb := w.Config
	r := rand.New(rand.NewPCG(seed, 0x0da90))
	mean, std := embeddingStats(w.Text.TokenEmbedding, bb.Text.Width)
	gauss := func(rows int) []float32 {
		v := make([]float32, rows*bb.Text.Width)
		for i := range v {
			d := i % bb.Text.Width
			v[i] = float32(mean[d] + std[d]*r.NormFloat64())
		}
		return v
	}
	uniform := func(n int, bound float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32((2*r.Float64() - 1) * bound)
		}
		return v
	}
	p := &Params{
		NormalCtx:   gauss(c.PromptCount * c.NormalTokenCnt),
		AbnormalCtx: gauss(c.PromptCount * c.AbnormalTokenCnt),
	}
	for k := 0; k < c.TextDepth; k++ {
		p.TextDeep = append(p.TextDeep, gauss(c.LayerTokenCnt))
	}
	ps, wv, e := bb.Vision.PatchSize, bb.Vision.Width, bb.EmbedDim
	p.Visual = uniform(c.Depth*c.PrefixTokenCnt*wv, math.Sqrt(6/float64(3*ps*ps+wv)))
	bound := 1 / math.Sqrt(float64(wv))
	for range c.FeatureLayers {
		p.AdapterW = append(p.AdapterW, uniform(e*wv, bound))
		p.AdapterB = append(p.AdapterB, uniform(e, bound))
	}
	return p
}

// embeddingStats returns the per-dimension mean and (unbiased) standard
// deviation over the rows of a [V, W] embedding matrix.
func embeddingStats(emb []float32, width int) (mean, std []float64) {
	rows := len(emb) / width
	mean, std = make([]float64, width), make([]float64, width)
	for r := 0; r < rows; r++ {
		for d, v := range emb[r*width : (r+1)*width] {
			mean[d] += float64(v)
		}
	}
	for d := range mean {
		mean[d] /= float64(rows)
	}
	for r := 0; r < rows; r++ {
		for d, v := range emb[r*width : (r+1)*width] {
			x := float64(v) - mean[d]
			std[d] += x * x
		}
	}
	for d := range std {
		std[d] = math.Sqrt(std[d] / float64(max(rows-1, 1)))
	}
	return mean, std
}
