package clip

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// LayerNorm holds a layer norm's affine parameters.
type LayerNorm struct{ Weight, Bias []float32 }

// Linear is y = x·Wᵀ + b with W stored [Out, In] (PyTorch's layout).
//
// A Linear bound by BindLazy may hold its weight encoded (e.g. the F16
// bytes of a memory-mapped checkpoint) instead of as float32: Weight is
// then nil — never a zero matrix to be mistaken for data — and Encoded
// reports true. The transformer blocks decode such weights per block, just
// before running it; other readers use Dense, or Weights.Densify once.
type Linear struct {
	Weight  []float32 // nil while the weight is encoded
	Bias    []float32
	Out, In int
	enc     Encoded // the weight when held encoded; nil when Weight is set
}

// Encoded is a tensor held in its stored encoding and decoded to float32
// on demand, exactly (e.g. F16 or BF16 widened bit for bit).
type Encoded interface {
	// Len is the number of values.
	Len() int
	// Decode writes values [from, from+len(dst)) into dst. It may run
	// concurrently with other Decode calls.
	Decode(dst []float32, from int)
}

// Encoded reports whether the weight is held encoded (Weight is nil).
func (l *Linear) Encoded() bool { return l.enc != nil }

// Dense returns the weight as float32: Weight when it is dense, else a new
// slice decoded from the encoding (the Linear itself is left as it is).
func (l *Linear) Dense() []float32 {
	if l.enc == nil {
		return l.Weight
	}
	out := make([]float32, l.enc.Len())
	decodeParallel([]decodeJob{{l.enc, out}})
	return out
}

// densify replaces an encoded weight by its decoded values.
func (l *Linear) densify() {
	if l.enc != nil {
		l.Weight, l.enc = l.Dense(), nil
	}
}

// Block is one pre-LN transformer residual block.
type Block struct {
	LN1, LN2 LayerNorm
	InProj   Linear // [3W, W]: q, k, v stacked
	OutProj  Linear // [W, W]
	FC       Linear // [MLP, W]
	Proj     Linear // [W, MLP]
}

// VisionWeights are the frozen vision-tower tensors.
type VisionWeights struct {
	Conv1          []float32 // [W, 3, P, P], no bias
	ClassEmbedding []float32 // [W]
	PosEmbedding   []float32 // [1+G*G, W] at the configured image size
	LNPre, LNPost  LayerNorm
	Blocks         []Block
	Proj           []float32 // [W, E]
}

// TextWeights are the frozen text-tower tensors.
type TextWeights struct {
	TokenEmbedding []float32 // [V, W]
	PosEmbedding   []float32 // [ctx, W]
	Blocks         []Block
	LNFinal        LayerNorm
	Projection     []float32 // [W, E]
}

// Weights is a whole backbone.
type Weights struct {
	Config     Config
	Vision     VisionWeights
	Text       TextWeights
	LogitScale float32
}

// Encoded reports whether any block weight is held encoded (see Linear).
func (w *Weights) Encoded() bool {
	for _, bs := range [][]Block{w.Vision.Blocks, w.Text.Blocks} {
		for i := range bs {
			if bs[i].encoded() {
				return true
			}
		}
	}
	return false
}

// Densify decodes every encoded block weight into float32 in place, so
// that all Weight fields are set: what code that reads Linear.Weight
// directly (e.g. uploading to a GPU) needs from lazily bound weights. It
// must not run concurrently with a forward pass over w.
func (w *Weights) Densify() {
	for _, bs := range [][]Block{w.Vision.Blocks, w.Text.Blocks} {
		for i := range bs {
			for _, l := range bs[i].linears() {
				l.densify()
			}
		}
	}
}

// linears lists the block's four matrices.
func (b *Block) linears() [4]*Linear { return [4]*Linear{&b.InProj, &b.OutProj, &b.FC, &b.Proj} }

func (b *Block) encoded() bool {
	return b.InProj.enc != nil || b.OutProj.enc != nil || b.FC.enc != nil || b.Proj.enc != nil
}

// dense returns the block with every weight as float32: b itself when it
// holds none encoded, else a copy whose encoded weights are decoded into
// *buf (grown as needed and reused by the caller for the next block).
func (b *Block) dense(buf *[]float32) *Block {
	if !b.encoded() {
		return b
	}
	d := *b
	n := 0
	for _, l := range d.linears() {
		if l.enc != nil {
			n += l.enc.Len()
		}
	}
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	*buf = (*buf)[:n]
	var jobs []decodeJob
	off := 0
	for _, l := range d.linears() {
		if l.enc == nil {
			continue
		}
		k := l.enc.Len()
		jobs = append(jobs, decodeJob{l.enc, (*buf)[off : off+k : off+k]})
		l.Weight, l.enc = (*buf)[off:off+k:off+k], nil
		off += k
	}
	decodeParallel(jobs)
	return &d
}

type decodeJob struct {
	enc Encoded
	dst []float32
}

// decodeSpan is the values one goroutine decodes at a time: large enough
// that scheduling costs nothing, small enough to share a ViT-L block's
// 12.6M values among many cores.
const decodeSpan = 1 << 18

// decodeParallel runs the jobs in spans of decodeSpan values over
// GOMAXPROCS goroutines. Widening half precision is memory-bound work the
// cores would otherwise leave to one thread between two blocks.
func decodeParallel(jobs []decodeJob) {
	type span struct {
		enc  Encoded
		dst  []float32
		from int
	}
	var spans []span
	for _, j := range jobs {
		for from := 0; from < len(j.dst); from += decodeSpan {
			to := min(from+decodeSpan, len(j.dst))
			spans = append(spans, span{j.enc, j.dst[from:to], from})
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(spans))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(spans) {
					return
				}
				s := spans[i]
				s.enc.Decode(s.dst, s.from)
			}
		})
	}
	wg.Wait()
}

// TensorSource yields a tensor by open_clip name, converted to float32 and
// checked against the expected shape. Implementations name the tensor in
// their errors.
type TensorSource func(name string, shape []int) ([]float32, error)

// LazySource yields a tensor left in its stored encoding, or nil when it
// is to be bound dense through the TensorSource instead (F32 data already
// usable in place, or anything it cannot serve; the TensorSource then also
// reports what is wrong with it).
type LazySource func(name string, shape []int) Encoded

// Bind fetches every tensor of ParamSpecs(cfg) from src into a Weights
// value. All problems are collected, so a wrong checkpoint reports every
// missing or mis-shaped tensor at once.
func Bind(cfg Config, src TensorSource) (*Weights, error) { return BindLazy(cfg, src, nil) }

// BindLazy is Bind taking the four matrices of every block (in_proj,
// out_proj, c_fc and c_proj weights: nearly all of a tower's values) from
// lazy where it yields them. Those stay encoded and are decoded per block,
// into a buffer each forward reuses, as the towers run (see Linear); the
// rest comes from src as in Bind. A nil lazy is Bind.
func BindLazy(cfg Config, src TensorSource, lazy LazySource) (*Weights, error) {
	w := &Weights{Config: cfg}
	var errs []error
	get := func(name string, shape ...int) []float32 {
		v, err := src(name, shape)
		if err != nil {
			errs = append(errs, err)
		}
		return v
	}
	vc, tc := cfg.Vision, cfg.Text
	g := cfg.Grid()
	w.Vision.Conv1 = get("visual.conv1.weight", vc.Width, 3, vc.PatchSize, vc.PatchSize)
	w.Vision.ClassEmbedding = get("visual.class_embedding", vc.Width)
	w.Vision.PosEmbedding = get("visual.positional_embedding", g*g+1, vc.Width)
	w.Vision.LNPre = LayerNorm{get("visual.ln_pre.weight", vc.Width), get("visual.ln_pre.bias", vc.Width)}
	w.Vision.LNPost = LayerNorm{get("visual.ln_post.weight", vc.Width), get("visual.ln_post.bias", vc.Width)}
	w.Vision.Proj = get("visual.proj", vc.Width, cfg.EmbedDim)
	matrix := func(name string, out, in int) Linear {
		if lazy != nil {
			if e := lazy(name, []int{out, in}); e != nil {
				if e.Len() != out*in {
					errs = append(errs, fmt.Errorf("tensor %q: encoded with %d values, expected shape [%d %d]", name, e.Len(), out, in))
				}
				return Linear{Out: out, In: in, enc: e}
			}
		}
		return Linear{Weight: get(name, out, in), Out: out, In: in}
	}
	w.Vision.Blocks = bindBlocks(get, matrix, "visual.transformer", vc.Layers, vc.Width, cfg.VisionMLP())
	w.Text.TokenEmbedding = get("token_embedding.weight", tc.VocabSize, tc.Width)
	w.Text.PosEmbedding = get("positional_embedding", tc.ContextLength, tc.Width)
	w.Text.LNFinal = LayerNorm{get("ln_final.weight", tc.Width), get("ln_final.bias", tc.Width)}
	w.Text.Projection = get("text_projection", tc.Width, cfg.EmbedDim)
	w.Text.Blocks = bindBlocks(get, matrix, "transformer", tc.Layers, tc.Width, cfg.TextMLP())
	if ls := get("logit_scale"); len(ls) == 1 {
		w.LogitScale = ls[0]
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("bind backbone weights: %w", errors.Join(errs...))
	}
	return w, nil
}

func bindBlocks(get func(string, ...int) []float32, matrix func(string, int, int) Linear, prefix string, layers, width, mlp int) []Block {
	blocks := make([]Block, layers)
	for i := range blocks {
		p := fmt.Sprintf("%s.resblocks.%d.", prefix, i)
		lin := func(weight, bias string, out, in int) Linear {
			l := matrix(p+weight, out, in)
			l.Bias = get(p+bias, out)
			return l
		}
		blocks[i] = Block{
			LN1:     LayerNorm{get(p+"ln_1.weight", width), get(p+"ln_1.bias", width)},
			LN2:     LayerNorm{get(p+"ln_2.weight", width), get(p+"ln_2.bias", width)},
			InProj:  lin("attn.in_proj_weight", "attn.in_proj_bias", 3*width, width),
			OutProj: lin("attn.out_proj.weight", "attn.out_proj.bias", width, width),
			FC:      lin("mlp.c_fc.weight", "mlp.c_fc.bias", mlp, width),
			Proj:    lin("mlp.c_proj.weight", "mlp.c_proj.bias", width, mlp),
		}
	}
	return blocks
}
