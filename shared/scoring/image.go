package scoring

import (
	"errors"
	"math"
)

// DefaultTemperature is the reference's fixed softmax temperature τ; logits
// are similarities divided by it (CLIP's logit_scale is not used).
const DefaultTemperature float32 = 0.07

// l2norm accumulates in float64; it only checks that inputs are normalised.
func l2norm(v []float32) float32 {
	var s float64
	for _, x := range v {
		s += float64(float64(x) * float64(x))
	}
	return float32(math.Sqrt(s))
}

// normalizeInto writes v/‖v‖ into dst (which may alias v), with the
// reference's norm. It reports false for a zero vector, where the reference
// would produce NaNs.
func normalizeInto(dst, v []float32) bool {
	n := torchNorm(v)
	if n == 0 {
		return false
	}
	for i, x := range v {
		dst[i] = x / n
	}
	return true
}

// Normalize returns v/‖v‖₂, the normalisation the reference applies to the
// global feature, the patch features and the text features.
func Normalize(v []float32) ([]float32, error) {
	out := make([]float32, len(v))
	if len(v) == 0 || !normalizeInto(out, v) {
		return nil, errors.New("scoring: cannot normalise a zero-length or all-zero vector")
	}
	return out, nil
}

// dot accumulates in float64 and rounds once. The reference's BLAS order is
// not reproducible; float64 keeps the error well below its own. Four
// accumulators for speed; the explicit conversions keep compilers for FMA
// targets from fusing, so results match across platforms.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += float64(float64(a[i]) * float64(b[i]))
		s1 += float64(float64(a[i+1]) * float64(b[i+1]))
		s2 += float64(float64(a[i+2]) * float64(b[i+2]))
		s3 += float64(float64(a[i+3]) * float64(b[i+3]))
	}
	for ; i < len(a); i++ {
		s0 += float64(float64(a[i]) * float64(b[i]))
	}
	return float32((s0 + s1) + (s2 + s3))
}

// softmaxInto is the reference's last-dim softmax: subtract the max,
// exponentiate, sum in order, multiply by the reciprocal of the sum. dst may
// alias src.
func softmaxInto(dst, src []float32) {
	m := src[0]
	for _, x := range src[1:] {
		if x > m {
			m = x
		}
	}
	var sum float32
	for i, x := range src {
		e := float32(math.Exp(float64(x - m)))
		dst[i] = e
		sum += e
	}
	inv := 1 / sum
	for i := range dst[:len(src)] {
		dst[i] *= inv
	}
}

// abnormalText is a = normalise(mean(t_1..t_S)), the single "abnormal"
// prompt of the binary image score. text is [C*E] with row 0 normal.
func abnormalText(text []float32, c, e int) ([]float32, error) {
	mean := make([]float32, e)
	torchSumRows(mean, text[e:c*e], c-1, e)
	n := float32(c - 1)
	for j := range mean {
		mean[j] /= n
	}
	if !normalizeInto(mean, mean) {
		return nil, errors.New("scoring: the mean of the defect text features is zero")
	}
	return mean, nil
}

// imageStage fills the binary and the multi-type image outputs for one
// normalised global feature g.
func (s *Scorer) imageStage(res *Result, g []float32) {
	e := s.e
	t0 := s.text[:e]
	res.ImageLogits[0] = dot(g, t0) / s.tau
	res.ImageLogits[1] = dot(g, s.abnormal) / s.tau
	softmaxInto(res.ImageProbs[:], res.ImageLogits[:])
	res.ImageScore = res.ImageProbs[1]

	logits := make([]float32, s.c)
	for k := range logits {
		logits[k] = dot(g, s.text[k*e:(k+1)*e]) / s.tau
	}
	res.ClassImageProbs = make([]float32, s.c)
	softmaxInto(res.ClassImageProbs, logits)
	res.MultiTypeScore = sumAbnormal(res.ClassImageProbs)

	if len(s.subset) > 0 {
		sl := make([]float32, len(s.subset))
		for i, k := range s.subset {
			sl[i] = logits[k]
		}
		probs := make([]float32, len(sl))
		softmaxInto(probs, sl)
		res.Subset = &SubsetResult{
			Classes:    append([]int(nil), s.subset...),
			ImageProbs: probs,
			ImageScore: sumAbnormal(probs),
		}
	}
}

// sumAbnormal is Σ_{c≥1} p_c summed as torch.sum does, the reference's
// multi-type image score (not 1-p_0, which rounds differently).
func sumAbnormal(p []float32) float32 {
	return torchSum(p[1:])
}
