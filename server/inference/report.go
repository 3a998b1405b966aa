package inference

import (
	"cmp"
	"slices"

	"dapo/shared/scoring"
)

// DefectProbability is one defect type with its image-level probability.
type DefectProbability struct {
	Name        string  `json:"name"`
	Probability float64 `json:"probability"`
}

// Verdict is the per-image JSON of 'dapo detect' and POST /v1/detect.
type Verdict struct {
	Image           string              `json:"image"`
	Score           float64             `json:"score"`
	Verdict         string              `json:"verdict"` // "anomalous" or "normal"
	ImageThreshold  float64             `json:"image_threshold"`
	PixelThreshold  float64             `json:"pixel_threshold"`
	DefectTypes     []DefectProbability `json:"defect_types"`
	TopDefect       string              `json:"top_defect"`
	TopDefectInMask string              `json:"top_defect_in_mask"`
	// AnomalousPixels is the fraction of the image above the pixel threshold.
	AnomalousPixels float64 `json:"anomalous_pixel_fraction"`
	// MultiTypeScore is 1 − P(normal) of the class softmax (over the
	// subset when one is given), the reference's multi-type image score.
	MultiTypeScore float64 `json:"multitype_score"`
}

// NewVerdict summarises a scoring result. The defect probabilities are the
// image-level class softmax (over the subset when one was given),
// renormalised over the defect classes so they sum to one, sorted
// descending.
func NewVerdict(name string, res *scoring.Result, classes []string, imageThr, pixelThr float64) Verdict {
	v := Verdict{Image: name, Score: float64(res.ImageScore), ImageThreshold: imageThr, PixelThreshold: pixelThr, Verdict: "normal"}
	if v.Score >= imageThr {
		v.Verdict = "anomalous"
	}
	rows, probs := allRows(len(classes)), res.ClassImageProbs
	v.MultiTypeScore = float64(res.MultiTypeScore)
	if res.Subset != nil {
		rows, probs = res.Subset.Classes, res.Subset.ImageProbs
		v.MultiTypeScore = float64(res.Subset.ImageScore)
	}
	var total float64
	for i := 1; i < len(rows); i++ {
		total += float64(probs[i])
	}
	for i := 1; i < len(rows); i++ {
		p := float64(probs[i])
		if total > 0 {
			p /= total
		}
		v.DefectTypes = append(v.DefectTypes, DefectProbability{Name: classes[rows[i]], Probability: p})
	}
	slices.SortStableFunc(v.DefectTypes, func(a, b DefectProbability) int { return cmp.Compare(b.Probability, a.Probability) })
	if res.DefectImage > 0 {
		v.TopDefect = classes[res.DefectImage]
	}
	if res.DefectInMask > 0 {
		v.TopDefectInMask = classes[res.DefectInMask]
	}
	if n := len(res.Mask); n > 0 {
		on := 0
		for _, m := range res.Mask {
			if m {
				on++
			}
		}
		v.AnomalousPixels = float64(on) / float64(n)
	}
	return v
}

func allRows(n int) []int {
	r := make([]int, n)
	for i := range r {
		r[i] = i
	}
	return r
}
