package evaluate

import (
	"context"
	"fmt"
	"hash/fnv"
	"path/filepath"
	"strings"

	"dapo/server/dataset"
	"dapo/server/report"
	"dapo/shared/metrics"
	"dapo/shared/scoring"
)

// productRun is the state of one product's pass.
type productRun struct {
	res     ProductResult
	subset  []int    // text rows, 0 first; nil without multi-type scoring
	words   []string // the subset's defect words (subset[1:])
	pix     *metrics.PixelAccumulator
	mt      *metrics.MultiClassAccumulator
	labels  []bool
	scores  []float64
	sampled map[int]bool
	names   map[string]bool
	heatDir string
}

// product evaluates one product's items in one streaming pass.
func (r *runner) product(ctx context.Context, name string, items []dataset.Item) (ProductResult, error) {
	s := r.det.Size()
	pr := &productRun{res: ProductResult{Product: name, Images: len(items)}, names: map[string]bool{}}
	// Exact pooled metrics keep every pixel: size the buffers once.
	pixels := len(items) * s * s
	pr.pix = metrics.NewPixelAccumulator(pixels)
	if r.opts.MultiType {
		pr.words = productWords(r.vocab, name, items, r.inUse)
		if len(pr.words) > 0 {
			var err error
			if pr.subset, err = r.det.SubsetIndices(pr.words); err != nil {
				return pr.res, fmt.Errorf("product %s: %w", name, err)
			}
			if pr.mt, err = metrics.NewMultiClassAccumulator(len(pr.subset), pixels); err != nil {
				return pr.res, fmt.Errorf("product %s: %w", name, err)
			}
			pr.res.MultiType = &MultiTypeResult{Classes: append([]string{"normal"}, pr.words...), SkippedKeys: map[string]int{}}
		}
	}
	scorer, err := r.det.Scorer(scoring.Options{Subset: pr.subset, KeepSubsetProbs: pr.subset != nil})
	if err != nil {
		return pr.res, fmt.Errorf("product %s: %w", name, err)
	}
	pr.sampled = map[int]bool{}
	for _, i := range report.SampleIndices(len(items), r.opts.Samples, seedOf(name)) {
		pr.sampled[i] = true
	}
	if len(pr.sampled) > 0 {
		pr.heatDir = filepath.Join("heatmaps", safeName(name))
	}
	err = encodeItems(ctx, r.det, items, r.opts.Batch, func(i int, l loaded) error {
		res, err := scorer.Score(l.feats.Global, l.feats.Layers)
		if err != nil {
			return fmt.Errorf("score %s: %w", l.item.ImagePath, err)
		}
		return r.image(pr, i, l, res)
	}, r.opts.Progress)
	if err != nil {
		return pr.res, err
	}
	return r.finishProduct(pr)
}

// image pools one scored image into every metric and figure.
func (r *runner) image(pr *productRun, i int, l loaded, res *scoring.Result) error {
	s, it := r.det.Size(), l.item
	pr.labels = append(pr.labels, it.Anomalous)
	pr.scores = append(pr.scores, float64(res.ImageScore))
	r.binTrue = append(r.binTrue, b2i(it.Anomalous))
	r.binPred = append(r.binPred, b2i(float64(res.ImageScore) >= r.opts.ImageThreshold))
	if it.Anomalous {
		pr.res.Anomalous++
	} else {
		pr.res.Normal++
	}
	// An anomalous image without a mask has no pixel ground truth.
	if it.Anomalous && l.mask == nil {
		pr.res.AnomalousWithoutMask++
	} else {
		if err := pr.pix.Add(res.AnomalyMap, l.mask, s, s); err != nil {
			return fmt.Errorf("%s: %w", it.ImagePath, err)
		}
		pr.res.PixelImages++
	}
	word, known := defectWord(r.vocab, it.DefectKey, r.inUse)
	if it.Anomalous && known {
		r.defTrue = append(r.defTrue, r.textRow(word))
		r.defPred = append(r.defPred, res.DefectImage)
		if l.mask != nil {
			e := len(l.feats.Global)
			last := l.feats.Layers[len(l.feats.Layers)-1]
			r.embed.addPatches(r.textRow(word), last, defectPatches(l.mask, s, r.det.Grid()), e)
		}
	}
	if pr.mt != nil {
		if err := r.multiType(pr, l, res, word, known); err != nil {
			return err
		}
	}
	if pr.sampled[i] {
		name := uniqueName(pr.names, safeName(it.DefectKey)+"_"+safeName(strings.TrimSuffix(filepath.Base(it.ImagePath), filepath.Ext(it.ImagePath))))
		rel := filepath.Join(pr.heatDir, name+".png")
		if err := r.heatmap(rel, l, res); err != nil {
			return err
		}
		r.files = append(r.files, filepath.ToSlash(rel))
	}
	return nil
}

// multiType pools one image into the product's §5.4 accumulator: normal
// images are all class 0; an anomalous image is its class inside the mask.
func (r *runner) multiType(pr *productRun, l loaded, res *scoring.Result, word string, known bool) error {
	it, mt := l.item, pr.res.MultiType
	label := 0
	if it.Anomalous {
		k := -1
		if known {
			for j, w := range pr.words {
				if w == word {
					k = j
				}
			}
		}
		if k < 0 || l.mask == nil {
			mt.Skipped++
			mt.SkippedKeys[it.DefectKey]++
			return nil
		}
		label = 1 + k
	}
	if err := pr.mt.Add(res.Subset.Probs, l.mask, label); err != nil {
		return fmt.Errorf("%s: %w", it.ImagePath, err)
	}
	mt.Images++
	return nil
}

// finishProduct computes the product's metrics and draws its curves.
func (r *runner) finishProduct(pr *productRun) (ProductResult, error) {
	res := &pr.res
	im := metrics.Image(pr.labels, pr.scores)
	pm := pr.pix.Result()
	res.Metrics = Metrics{
		ImageAUROC: im.AUROC, ImageAP: im.AP, ImageF1Max: im.F1Max,
		PixelAUROC: pm.AUROC, PixelAUPRORef: pm.AUPRORef, PixelAUPRO: pm.AUPRO,
		MultiTypeAUROC: nan(), MultiTypeAP: nan(), MultiTypeF1: nan(),
	}
	res.Regions = pm.Regions
	if pr.mt != nil {
		mm := pr.mt.Result()
		res.MultiTypeAUROC, res.MultiTypeAP, res.MultiTypeF1 = mm.AUROC, mm.AP, mm.F1
		for k, c := range mm.PerClass {
			res.MultiType.PerClass = append(res.MultiType.PerClass, ClassResult{
				Class: res.MultiType.Classes[k], AUROC: c.AUROC, AP: c.AP, F1: c.F1, Pixels: c.Pixels,
			})
		}
	}
	roc, prc := report.CurvesFromScores(pr.labels, pr.scores)
	roc.Name, prc.Name = res.Product, res.Product
	r.rocs, r.prs = append(r.rocs, roc), append(r.prs, prc)
	base := filepath.Join("curves", safeName(res.Product))
	if err := report.ROCPlot(filepath.Join(r.opts.Out, base+"_roc.png"), res.Product+": image ROC", []report.Curve{roc}); err != nil {
		return *res, err
	}
	if err := report.PRPlot(filepath.Join(r.opts.Out, base+"_pr.png"), res.Product+": image PR", []report.Curve{prc}); err != nil {
		return *res, err
	}
	r.files = append(r.files, filepath.ToSlash(base+"_roc.png"), filepath.ToSlash(base+"_pr.png"))
	return *res, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// seedOf makes each product's heatmap sample a fixed function of its name.
func seedOf(product string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(product))
	return h.Sum64()
}

// safeName keeps file names portable: letters, digits, '-', '_' and '.'.
func safeName(s string) string {
	out := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
	if out == "" || strings.Trim(out, ".") == "" {
		return "_"
	}
	return out
}

// uniqueName returns name, or name with a numeric suffix if taken.
func uniqueName(used map[string]bool, name string) string {
	n := name
	for k := 2; used[n]; k++ {
		n = fmt.Sprintf("%s_%d", name, k)
	}
	used[n] = true
	return n
}
