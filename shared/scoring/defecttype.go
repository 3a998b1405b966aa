package scoring

// defectTypes fills the per-image defect type from the image-level softmax
// and, with a threshold, the mask and the majority vote inside it.
func (s *Scorer) defectTypes(res *Result, abnormalClass []uint8) {
	if res.Subset != nil {
		res.DefectImage = s.subset[1+argmax(res.Subset.ImageProbs[1:])]
	} else {
		res.DefectImage = 1 + argmax(res.ClassImageProbs[1:])
	}
	t := s.opts.PixelThreshold
	if !(t > 0) {
		return
	}
	res.Mask = make([]bool, len(res.AnomalyMap))
	res.MaskVotes = make([]int, s.c)
	for p, v := range res.AnomalyMap {
		if v > t {
			res.Mask[p] = true
			res.MaskVotes[abnormalClass[p]]++
		}
	}
	best, bestVotes := -1, 0
	for k, n := range res.MaskVotes {
		if n > bestVotes {
			best, bestVotes = k, n
		}
	}
	res.DefectInMask = best
}
