package scoring

// pixelOutputs are the per-pixel results shared by the row workers; each
// worker writes only its own rows.
type pixelOutputs struct {
	res *Result
	// abnormalClass[p] is the text row of pixel p's most probable abnormal
	// class (within the subset when given), for the in-mask vote.
	abnormalClass []uint8
}

func newPixelOutputs(s *Scorer, res *Result, stages []*layerStage) *pixelOutputs {
	n := s.size * s.size
	res.AnomalyMap = make([]float32, n)
	res.PixelClass = make([]uint8, n)
	if s.opts.KeepClassProbs {
		res.ClassProbs = make([]float32, s.c*n)
	}
	if s.opts.KeepPerLayer {
		res.Layers = make([]LayerResult, len(stages))
		for li, st := range stages {
			res.Layers[li] = LayerResult{
				Normed: st.normed, Logits: st.logits, Probs: st.probs,
				ProbsUp:    make([]float32, n*s.c),
				AnomalyMap: make([]float32, n),
			}
		}
	}
	if res.Subset != nil {
		res.Subset.PixelClass = make([]uint8, n)
		if s.opts.KeepSubsetProbs {
			res.Subset.Probs = make([]float32, n*len(s.subset))
		}
	}
	px := &pixelOutputs{res: res}
	if s.opts.PixelThreshold > 0 {
		px.abnormalClass = make([]uint8, n)
	}
	return px
}

// rowScratch is one worker's buffers; nothing is allocated per pixel.
type rowScratch struct {
	w           []float64 // tap weights of the row [4*S]
	up, acc     []float32 // one layer's / the layer sum's probabilities [S*C]
	sub, accSub []float32 // the same over the subset [S*Cs]
	lm          []float32 // one layer's map row [S]
}

// rows computes output rows [y0, y1): for every layer in order it
// upsamples the class probabilities of the row, adds the layer's map
// (Σ_{c≥1}, summed as torch.sum does) to the final map and the
// probabilities to the class sum, all in float32 and in feature-layer
// order; then it takes the per-pixel argmaxes.
func (s *Scorer) rows(px *pixelOutputs, stages []*layerStage, y0, y1 int) {
	S, C, Cs := s.size, s.c, len(s.subset)
	res := px.res
	sc := rowScratch{
		w:  make([]float64, 4*S),
		up: make([]float32, S*C), acc: make([]float32, S*C),
		lm: make([]float32, S),
	}
	if Cs > 0 {
		sc.sub, sc.accSub = make([]float32, S*Cs), make([]float32, S*Cs)
	}
	for oy := y0; oy < y1; oy++ {
		s.up.rowWeights(sc.w, oy)
		clear(sc.acc)
		clear(sc.accSub)
		mapRow := res.AnomalyMap[oy*S : (oy+1)*S]
		for li, st := range stages {
			s.up.row(sc.up, st.probs64, C, oy, sc.w)
			for ox := range sc.lm {
				m := torchSum(sc.up[ox*C+1 : (ox+1)*C])
				sc.lm[ox] = m
				mapRow[ox] += m
			}
			for i, v := range sc.up {
				sc.acc[i] += v
			}
			if res.Layers != nil {
				copy(res.Layers[li].ProbsUp[oy*S*C:], sc.up)
				copy(res.Layers[li].AnomalyMap[oy*S:], sc.lm)
			}
			if Cs > 0 {
				s.up.row(sc.sub, st.sub64, Cs, oy, sc.w)
				for i, v := range sc.sub {
					sc.accSub[i] += v
				}
			}
		}
		s.rowArgmax(px, sc, oy)
	}
}

// rowArgmax writes the per-pixel classes of row oy from the layer sums.
func (s *Scorer) rowArgmax(px *pixelOutputs, sc rowScratch, oy int) {
	S, C, Cs := s.size, s.c, len(s.subset)
	res := px.res
	n := S * S
	vote := px.abnormalClass != nil
	for ox := 0; ox < S; ox++ {
		p := oy*S + ox
		probs := sc.acc[ox*C : (ox+1)*C]
		best, bestAbn := argmax2(probs)
		res.PixelClass[p] = uint8(best)
		if res.ClassProbs != nil {
			for k, v := range probs {
				res.ClassProbs[k*n+p] = v
			}
		}
		if Cs == 0 {
			if vote {
				px.abnormalClass[p] = uint8(bestAbn)
			}
			continue
		}
		sp := sc.accSub[ox*Cs : (ox+1)*Cs]
		if res.Subset.Probs != nil {
			copy(res.Subset.Probs[p*Cs:], sp)
		}
		best, bestAbn = argmax2(sp)
		res.Subset.PixelClass[p] = uint8(best)
		if vote {
			px.abnormalClass[p] = uint8(s.subset[bestAbn])
		}
	}
}

// argmax returns the index of the first maximum, numpy's tie rule.
func argmax(v []float32) int {
	best := 0
	for i, x := range v[1:] {
		if x > v[best] {
			best = i + 1
		}
	}
	return best
}

// argmax2 returns in one pass argmax(v) and 1+argmax(v[1:]), both with
// numpy's first-maximum rule.
func argmax2(v []float32) (all, abnormal int) {
	abnormal = 1
	for i := 2; i < len(v); i++ {
		if v[i] > v[abnormal] {
			abnormal = i
		}
	}
	if v[abnormal] > v[0] {
		return abnormal, abnormal
	}
	return 0, abnormal
}
