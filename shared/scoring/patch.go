package scoring

import "fmt"

// layerStage is one feature layer's patch-level work: per-patch
// normalisation, logits against every text row, the softmax over all
// classes and, with a subset, the softmax over the subset columns.
// It keeps the probabilities widened to float64 for the upsampler.
type layerStage struct {
	normed, logits, probs []float32 // only with Options.KeepPerLayer
	probs64, sub64        []float64
}

func (s *Scorer) patchStage(li int, f []float32, keep bool) (*layerStage, error) {
	gg, e, c := s.grid*s.grid, s.e, s.c
	st := &layerStage{probs64: make([]float64, gg*c)}
	// Without keep, one patch's worth of scratch is reused: the full
	// normalised features alone would be 4 MiB per layer for ViT-L.
	stride := 0
	if keep {
		stride = 1
		st.normed, st.logits, st.probs = make([]float32, gg*e), make([]float32, gg*c), make([]float32, gg*c)
	} else {
		st.normed, st.logits, st.probs = make([]float32, e), make([]float32, c), make([]float32, c)
	}
	cs := len(s.subset)
	var subLogits, subProbs []float32
	if cs > 0 {
		st.sub64 = make([]float64, gg*cs)
		subLogits, subProbs = make([]float32, cs), make([]float32, cs)
	}
	for p := 0; p < gg; p++ {
		q := p * stride
		x := st.normed[q*e : (q+1)*e]
		if !normalizeInto(x, f[p*e:(p+1)*e]) {
			return nil, fmt.Errorf("scoring: layer %d patch %d: all-zero feature cannot be normalised", li, p)
		}
		lrow := st.logits[q*c : (q+1)*c]
		s.logitsInto(lrow, x)
		prow := st.probs[q*c : (q+1)*c]
		softmaxInto(prow, lrow)
		for k, v := range prow {
			st.probs64[p*c+k] = float64(v)
		}
		if cs > 0 {
			for i, k := range s.subset {
				subLogits[i] = lrow[k]
			}
			softmaxInto(subProbs, subLogits)
			for i, v := range subProbs {
				st.sub64[p*cs+i] = float64(v)
			}
		}
	}
	if !keep {
		st.normed, st.logits, st.probs = nil, nil, nil
	}
	return st, nil
}

// logitsInto writes x·t_k/τ for every text row k, four rows per pass so
// that each load of x serves four products (the stage's hottest loop).
func (s *Scorer) logitsInto(dst, x []float32) {
	e := s.e
	k := 0
	for ; k+4 <= s.c; k += 4 {
		t0 := s.text[k*e : (k+1)*e][:len(x)]
		t1 := s.text[(k+1)*e : (k+2)*e][:len(x)]
		t2 := s.text[(k+2)*e : (k+3)*e][:len(x)]
		t3 := s.text[(k+3)*e : (k+4)*e][:len(x)]
		var s0, s1, s2, s3 float64
		for i, v := range x {
			xv := float64(v)
			s0 += float64(xv * float64(t0[i]))
			s1 += float64(xv * float64(t1[i]))
			s2 += float64(xv * float64(t2[i]))
			s3 += float64(xv * float64(t3[i]))
		}
		dst[k] = float32(s0) / s.tau
		dst[k+1] = float32(s1) / s.tau
		dst[k+2] = float32(s2) / s.tau
		dst[k+3] = float32(s3) / s.tau
	}
	for ; k < s.c; k++ {
		dst[k] = dot(x, s.text[k*e:(k+1)*e]) / s.tau
	}
}
