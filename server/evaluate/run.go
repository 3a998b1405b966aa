package evaluate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"dapo/server/dataset"
	"dapo/server/inference"
	"dapo/server/report"
	"dapo/shared/render"
)

// Options configures Run.
type Options struct {
	// Out is the output folder (created if missing).
	Out string
	// Vocab names the defect vocabulary (defects package) for product class
	// lists and defect-key → word mapping; "" uses the dataset's format.
	Vocab string
	// Samples is the number of heatmap overlays per product.
	Samples int
	// Batch is the number of images per forward pass.
	Batch int
	// ImageThreshold and PixelThreshold are the decision thresholds of the
	// binary confusion matrix and of the predicted outlines;
	// ThresholdSource says where they came from.
	ImageThreshold, PixelThreshold float64
	ThresholdSource                string
	// MultiType enables the §5.4 multi-type metrics (4·C_p bytes per pixel).
	MultiType bool
	// EmbeddingPoints caps the defect-region patch features kept for the
	// embedding figure (0: report.MaxEmbeddingPoints).
	EmbeddingPoints int
	Colormap        render.Colormap
	Alpha           float64
	// Checkpoint and Model are recorded in the report.
	Checkpoint, Model string
	// Progress, if set, is told the number of images done after each batch.
	Progress func(int)
}

// runner holds one evaluation's state shared across products.
type runner struct {
	det   *inference.Detector
	opts  Options
	vocab string
	inUse []string // defect words in use, text rows 1..S
	embed *patchReservoir
	// binary and defect-type confusion pairs; defect types are text rows.
	binTrue, binPred []int
	defTrue, defPred []int
	rocs, prs        []report.Curve
	files            []string
}

// Run evaluates det on every item of ds (one split), product by product,
// and writes the report files into opts.Out. The returned report is what
// metrics.json holds.
func Run(ctx context.Context, det *inference.Detector, ds *dataset.Dataset, opts Options) (*Report, error) {
	if len(ds.Items) == 0 {
		return nil, errors.New("evaluate: the dataset split has no images")
	}
	if opts.Out == "" {
		return nil, errors.New("evaluate: no output folder")
	}
	if opts.EmbeddingPoints <= 0 {
		opts.EmbeddingPoints = report.MaxEmbeddingPoints
	}
	vocab := opts.Vocab
	if vocab == "" {
		vocab = ds.Format
	}
	for _, d := range []string{opts.Out, filepath.Join(opts.Out, "heatmaps"), filepath.Join(opts.Out, "curves")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("evaluate: %w", err)
		}
	}
	classes := det.Classes()
	r := &runner{
		det: det, opts: opts, vocab: vocab, inUse: det.Config.Defects,
		embed: newPatchReservoir(len(classes), opts.EmbeddingPoints),
	}
	rep := &Report{Config: Config{
		Checkpoint: opts.Checkpoint, Model: opts.Model, Defects: slices.Clone(det.Config.Defects),
		ImageSize: det.Size(), FeatureLayers: slices.Clone(det.Config.FeatureLayers),
		Format: ds.Format, Root: ds.Root, Split: splitOf(ds), Vocab: vocab,
		ImageThreshold: opts.ImageThreshold, PixelThreshold: opts.PixelThreshold, Thresholds: opts.ThresholdSource,
		Samples: opts.Samples, MultiType: opts.MultiType,
	}}
	byProduct := ds.ByProduct()
	for _, p := range ds.Products() {
		pr, err := r.product(ctx, p, byProduct[p])
		if err != nil {
			return nil, err
		}
		rep.Products = append(rep.Products, pr)
	}
	r.summarise(rep)
	if err := r.write(rep); err != nil {
		return nil, err
	}
	return rep, nil
}

func splitOf(ds *dataset.Dataset) string {
	if len(ds.Items) > 0 {
		return ds.Items[0].Split
	}
	return ""
}

// textRow is the detector's text row of a defect word in use (1-based).
func (r *runner) textRow(word string) int { return 1 + slices.Index(r.inUse, word) }

// summarise fills the counts, the means, the per-defect table and the
// confusion matrices.
func (r *runner) summarise(rep *Report) {
	c := &rep.Counts
	c.Products = len(rep.Products)
	for _, p := range rep.Products {
		c.Images += p.Images
		c.Normal += p.Normal
		c.Anomalous += p.Anomalous
		c.AnomalousWithoutMask += p.AnomalousWithoutMask
		if p.MultiType != nil {
			c.MultiTypeImages += p.MultiType.Images
			c.MultiTypeSkipped += p.MultiType.Skipped
		}
	}
	c.EmbeddingPatches, c.EmbeddingKept = r.embed.total()
	rep.Mean = meanMetrics(rep.Products)
	rep.PerDefect = perDefect(rep.Products, r.inUse)
	rep.Binary = ConfusionMatrix{Labels: []string{"normal", "anomalous"}, Counts: report.Confusion(r.binTrue, r.binPred, 2)}
	rep.DefectType = r.defectConfusion()
}

// perDefect averages each defect word's one-vs-rest metrics over the
// products whose class list holds it, in the order of the words in use.
func perDefect(ps []ProductResult, inUse []string) []DefectResult {
	var out []DefectResult
	for _, w := range inUse {
		d := DefectResult{Defect: w}
		var au, ap, f1 []float64
		for _, p := range ps {
			if p.MultiType == nil {
				continue
			}
			for _, cr := range p.MultiType.PerClass[1:] {
				if cr.Class == w {
					d.Products = append(d.Products, p.Product)
					au, ap, f1 = append(au, cr.AUROC), append(ap, cr.AP), append(f1, cr.F1)
				}
			}
		}
		if len(d.Products) == 0 {
			continue
		}
		d.AUROC, d.AP, d.F1 = meanFinite(au), meanFinite(ap), meanFinite(f1)
		out = append(out, d)
	}
	return out
}

// defectConfusion compacts the per-image defect-type pairs onto the text
// rows that occur, in text-row order.
func (r *runner) defectConfusion() ConfusionMatrix {
	rows := slices.Concat(r.defTrue, r.defPred)
	slices.Sort(rows)
	rows = slices.Compact(rows)
	if len(rows) == 0 {
		return ConfusionMatrix{}
	}
	classes := r.det.Classes()
	idx := map[int]int{}
	m := ConfusionMatrix{}
	for i, row := range rows {
		idx[row] = i
		m.Labels = append(m.Labels, classes[row])
	}
	t, p := make([]int, len(r.defTrue)), make([]int, len(r.defPred))
	for i := range t {
		t[i], p[i] = idx[r.defTrue[i]], idx[r.defPred[i]]
	}
	m.Counts = report.Confusion(t, p, len(rows))
	return m
}
