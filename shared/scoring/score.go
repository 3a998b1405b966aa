package scoring

import (
	"fmt"
	"sync"
)

// Input is everything the scoring stage needs for one image.
type Input struct {
	// Global is the image's global feature g [E]: L2-normalised for Score,
	// raw (ln_post(CLS) @ proj) for ScoreRaw.
	Global []float32
	// Layers holds, in feature-layer order, each layer's adapter output
	// F_l as [Grid*Grid*E] row-major (patch index = row*Grid + col). These
	// are the raw adapter outputs; the stage normalises every patch.
	Layers [][]float32
	// Text holds the L2-normalised class text features, row 0 the normal
	// prompt, rows 1..S the defects: [1+S][E].
	Text [][]float32
	// Grid is the patch grid side G; Size the output map side S.
	Grid, Size int
	// Temperature τ; 0 means DefaultTemperature.
	Temperature float32
}

// Options selects optional outputs. The zero value gives the reference
// outputs (no smoothing, no mask).
type Options struct {
	// Subset restricts the multi-type outputs to these text rows (a
	// product's defect list, as test_multi_defect.py does). It must start
	// with 0, the normal row. Empty: no subset outputs.
	Subset []int
	// PixelThreshold > 0 computes Mask (final map > threshold) and
	// DefectInMask. Maps lie in [0, n_layers], so 0 would select every pixel
	// and is taken as "no mask".
	PixelThreshold float32
	// Smooth optionally Gaussian-smooths the final map (not the per-layer
	// maps); the mask is taken on the smoothed map. DAPO itself does not
	// smooth.
	Smooth Smoothing
	// KeepPerLayer keeps each layer's patch-level tensors, upsampled
	// probabilities and map (memory: Size²·(1+S) floats per layer).
	KeepPerLayer bool
	// KeepClassProbs keeps the layer-summed class probabilities [C,S,S].
	KeepClassProbs bool
	// KeepSubsetProbs keeps the layer-summed subset probabilities
	// (SubsetResult.Probs), the input of the multi-type pixel metrics.
	KeepSubsetProbs bool
	// Workers > 1 splits the output rows over that many goroutines; the
	// results are identical for any value.
	Workers int
}

// LayerResult is one feature layer's intermediates (Options.KeepPerLayer).
type LayerResult struct {
	Normed     []float32 // [G*G*E] per-patch L2-normalised features
	Logits     []float32 // [G*G*C] F̂·Tᵀ/τ
	Probs      []float32 // [G*G*C] softmax over all classes
	ProbsUp    []float32 // [S*S*C] bilinear (align_corners) upsampled Probs, HWC
	AnomalyMap []float32 // [S*S] Σ_{c≥1} ProbsUp
}

// SubsetResult holds the multi-type outputs over Options.Subset.
type SubsetResult struct {
	Classes    []int     // the subset (text rows); Classes[0] is normal
	ImageProbs []float32 // softmax of g·T_subsetᵀ/τ
	ImageScore float32   // Σ of ImageProbs[1:]
	PixelClass []uint8   // [S*S] argmax of the layer-summed subset probabilities; indexes Classes
	// Probs are those layer-summed subset probabilities, pixel-major
	// [S*S*len(Classes)] (Options.KeepSubsetProbs).
	Probs []float32
}

// Result is the scoring stage's output for one image.
type Result struct {
	Size, Classes int
	Temperature   float32

	AbnormalText []float32  // a = normalise(mean(t_1..t_S)) [E]
	ImageLogits  [2]float32 // g·[t_0, a]ᵀ/τ
	ImageProbs   [2]float32
	ImageScore   float32 // ImageProbs[1], the image anomaly score

	ClassImageProbs []float32 // softmax(g·Tᵀ/τ) over all 1+S classes
	MultiTypeScore  float32   // Σ of ClassImageProbs[1:]

	AnomalyMap []float32     // [S*S] Σ_layers Σ_{c≥1} probs_up (smoothed if asked)
	PixelClass []uint8       // [S*S] argmax over all classes of Σ_layers probs_up (first max wins)
	ClassProbs []float32     // [C*S*S] Σ_layers probs_up, class-major (Options.KeepClassProbs)
	Layers     []LayerResult // Options.KeepPerLayer
	Subset     *SubsetResult // Options.Subset

	// DefectImage is the text row of the most probable defect at image
	// level: argmax over abnormal classes of ClassImageProbs, or of the
	// subset's image probabilities when a subset is given.
	DefectImage int
	// Mask marks pixels whose final map exceeds Options.PixelThreshold.
	Mask []bool
	// DefectInMask is the text row that most mask pixels vote for, each
	// pixel voting for its most probable abnormal class (argmax over c≥1 of
	// the layer-summed probabilities, within the subset if given); ties go
	// to the lower row. -1 without a mask or with an empty one.
	DefectInMask int
	// MaskVotes[c] counts the mask pixels voting for text row c.
	MaskVotes []int
}

// Scorer holds what does not change between images of one product: the
// text features, the geometry and the options. It is safe for concurrent
// use.
type Scorer struct {
	text         []float32 // [C*E]
	abnormal     []float32 // [E]
	c, e         int
	grid, size   int
	tau          float32
	subset       []int
	opts         Options
	up           *upsampler
	smoothKernel []float64
}

// NewScorer validates the text features, geometry and options.
func NewScorer(text [][]float32, grid, size int, temperature float32, opts Options) (*Scorer, error) {
	s := &Scorer{grid: grid, size: size, tau: temperature, opts: opts}
	if s.tau == 0 {
		s.tau = DefaultTemperature
	}
	if err := s.init(text); err != nil {
		return nil, err
	}
	return s, nil
}

// Score runs the scoring stage on one image whose global feature is
// already L2-normalised.
func Score(in Input, opts Options) (*Result, error) {
	s, err := NewScorer(in.Text, in.Grid, in.Size, in.Temperature, opts)
	if err != nil {
		return nil, err
	}
	return s.Score(in.Global, in.Layers)
}

// ScoreRaw is Score for a raw (not yet normalised) global feature.
func ScoreRaw(in Input, opts Options) (*Result, error) {
	g, err := Normalize(in.Global)
	if err != nil {
		return nil, fmt.Errorf("scoring: global feature: %w", err)
	}
	in.Global = g
	return Score(in, opts)
}

// ScoreRaw is Scorer.Score for a raw global feature.
func (s *Scorer) ScoreRaw(global []float32, layers [][]float32) (*Result, error) {
	g, err := Normalize(global)
	if err != nil {
		return nil, fmt.Errorf("scoring: global feature: %w", err)
	}
	return s.Score(g, layers)
}

// Score runs the scoring stage on one image: global is the L2-normalised
// global feature [E], layers the raw adapter outputs [G*G*E] per layer.
func (s *Scorer) Score(global []float32, layers [][]float32) (*Result, error) {
	if err := s.checkImage(global, layers); err != nil {
		return nil, err
	}
	res := &Result{
		Size: s.size, Classes: s.c, Temperature: s.tau,
		AbnormalText: append([]float32(nil), s.abnormal...),
		DefectInMask: -1,
	}
	s.imageStage(res, global)

	stages, err := s.patchStages(layers)
	if err != nil {
		return nil, err
	}

	px := newPixelOutputs(s, res, stages)
	s.runRows(px, stages)

	if s.smoothKernel != nil {
		res.AnomalyMap = gaussianSmooth(res.AnomalyMap, s.size, s.size, s.smoothKernel)
	}
	s.defectTypes(res, px.abnormalClass)
	return res, nil
}

// patchStages runs the per-layer patch work, one goroutine per layer when
// Workers > 1.
func (s *Scorer) patchStages(layers [][]float32) ([]*layerStage, error) {
	stages := make([]*layerStage, len(layers))
	errs := make([]error, len(layers))
	if s.opts.Workers <= 1 {
		for li, f := range layers {
			if stages[li], errs[li] = s.patchStage(li, f, s.opts.KeepPerLayer); errs[li] != nil {
				return nil, errs[li]
			}
		}
		return stages, nil
	}
	var wg sync.WaitGroup
	for li, f := range layers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stages[li], errs[li] = s.patchStage(li, f, s.opts.KeepPerLayer)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return stages, nil
}

// runRows computes the pixel outputs row by row, optionally in parallel.
// Rows are independent, so the split does not change any value.
func (s *Scorer) runRows(px *pixelOutputs, stages []*layerStage) {
	workers := s.opts.Workers
	if workers > s.size {
		workers = s.size
	}
	if workers <= 1 {
		s.rows(px, stages, 0, s.size)
		return
	}
	var wg sync.WaitGroup
	per := (s.size + workers - 1) / workers
	for y0 := 0; y0 < s.size; y0 += per {
		y1 := min(y0+per, s.size)
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.rows(px, stages, y0, y1)
		}()
	}
	wg.Wait()
}
