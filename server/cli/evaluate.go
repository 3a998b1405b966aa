package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"dapo/server/dataset"
	"dapo/server/evaluate"
	"dapo/server/inference"
	"dapo/shared/defects"
	"dapo/shared/render"
)

// datasetFlags select a labelled dataset split.
type datasetFlags struct {
	format, root, vocab string
}

func (d *datasetFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	var names []string
	for _, f := range dataset.Formats() {
		names = append(names, f.Name)
	}
	fl.StringVar(&d.format, "format", "", "dataset format: "+strings.Join(names, ", ")+" (see 'dapo data formats')")
	fl.StringVar(&d.root, "root", "", "dataset root folder")
	fl.StringVar(&d.vocab, "vocab", "", "defect vocabulary for test-time words and product class lists (default: --format; e.g. mvtec for a meta.json of MVTec)")
}

// vocabulary is the defects vocabulary name in effect.
func (d *datasetFlags) vocabulary() string {
	if d.vocab != "" {
		return d.vocab
	}
	return d.format
}

// testSplit loads the dataset and keeps its test split.
func (d *datasetFlags) testSplit() (*dataset.Dataset, error) {
	if d.format == "" || d.root == "" {
		return nil, errors.New("--format and --root are required")
	}
	ds, err := dataset.Load(d.format, d.root)
	if err != nil {
		return nil, fmt.Errorf("load dataset: %w", err)
	}
	test := ds.Filter(dataset.SplitTest)
	if len(test.Items) == 0 {
		return nil, fmt.Errorf("load dataset: %s dataset at %s has no test images", d.format, d.root)
	}
	return test, nil
}

// defaultWords are the dataset's test-time defect words (test.py) when the
// vocabulary knows the dataset; nil keeps the checkpoint's words.
func (d *datasetFlags) defaultWords() []string {
	w, err := defects.TestWords(d.vocabulary())
	if err != nil {
		slog.Info("no test-time defect words for this dataset; using the checkpoint's", "vocabulary", d.vocabulary())
		return nil
	}
	return w
}

func newTestCmd() *cobra.Command {
	var (
		f         detectFlags
		d         datasetFlags
		out, cmap string
		samples   int
		alpha     float64
		multitype bool
	)
	cmd := &cobra.Command{
		Use:   "test --format FORMAT --root DIR --checkpoint CKPT --model DIR --out DIR",
		Short: "Evaluate a checkpoint on a dataset's test split: metrics, curves, heatmaps",
		Long: `Runs a DAPO checkpoint over the test split of a labelled dataset and computes
the reference's evaluation (test.py and test_multi_defect.py) per product,
then the unweighted mean over products:

  image    AUROC, AP and F1-max of the 2-way image score P(abnormal)
  pixel    AUROC, the reference's AUPRO (pixel_aupro_ref: 200 thresholds,
           FPR < 0.3 min-max rescaled) and the standard AUPRO to FPR 0.3,
           on the summed map at the model's size, masks binarised > 0.5
  multi-   macro one-vs-rest AUROC and AP and macro F1 of the per-pixel
  type     layer-summed softmax over the product's class list (normal
           first); GT = the image's class inside its mask, 0 elsewhere.
           Anomalous images whose defect has no word in that list are
           skipped and counted.

Defect words: --defects, else the dataset's test-time words (test.py), else
the checkpoint's. Product class lists come from the vocabulary (--vocab,
default --format) or, for unknown products, from the products' defect
folders. Thresholds for the confusion matrix and outlines come from
<checkpoint>.thresholds.json ('dapo calibrate') when present, else 0.5 and
half the number of feature layers.

Writes into --out:

  metrics.md          settings, per-product and per-defect tables, both
                      confusion matrices (also printed to stdout)
  metrics.csv         per-product table with the mean row (percent)
  per_defect.csv      per-defect multi-type table (percent)
  metrics.json        everything at full precision (fractions; undefined
                      values null), with the config and counts
  heatmaps/<product>/ --samples overlays per product: map over image,
                      predicted outline white, ground truth green
  curves/             image ROC and PR per product and all products
  confusion_binary.png, confusion_defect_type.png
  embedding.png       PCA of defect-region patch features of the last
                      feature layer by defect type, class text features
                      marked (at most 5000 patches)

Memory is bounded by one product: about (1 + C_p)·4 bytes per pixel at
the model's size (--multitype=false drops the C_p part).`,
		Example: `  dapo test --format mvtec --root /data/mvtec --checkpoint dapo.safetensors --model ViT-L-14-336 --out eval/mvtec
  dapo test --format meta --vocab visa --root /data/visa --checkpoint dapo.safetensors --model ViT-L-14-336 --samples 4 --out eval/visa`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("--out is required")
			}
			cm, err := render.ParseColormap(cmap)
			if err != nil {
				return err
			}
			ds, err := d.testSplit()
			if err != nil {
				return err
			}
			det, err := f.open(cmd, d.defaultWords())
			if err != nil {
				return err
			}
			defer det.Close()
			thr, err := resolveThresholds(cmd, f.checkpoint, -1, -1, len(det.Config.FeatureLayers))
			if err != nil {
				return err
			}
			source := "default"
			if thr.Method != "default" {
				source = "calibrated, " + thr.Method + ", " + inference.ThresholdsPath(f.checkpoint)
			}
			start := time.Now()
			prog := newProgress(cmd.ErrOrStderr(), len(ds.Items), "test")
			rep, err := evaluate.Run(cmd.Context(), det, ds, evaluate.Options{
				Out: out, Vocab: d.vocabulary(), Samples: samples, Batch: f.batch,
				ImageThreshold: thr.Image, PixelThreshold: thr.Pixel, ThresholdSource: source,
				MultiType: multitype, Colormap: cm, Alpha: alpha,
				Checkpoint: f.checkpoint, Model: f.model, Progress: prog.add,
			})
			prog.finish()
			if err != nil {
				return err
			}
			slog.Info("evaluation done", "products", rep.Counts.Products, "images", rep.Counts.Images, "elapsed", time.Since(start).Round(time.Millisecond), "out", out)
			md, err := evaluate.Markdown(rep)
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), md)
			return err
		},
	}
	f.register(cmd)
	d.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&out, "out", "", "output folder (required)")
	fl.IntVar(&samples, "samples", 8, "heatmap overlays per product (a fixed sample)")
	fl.BoolVar(&multitype, "multitype", true, "compute the multi-type (per-defect) segmentation metrics")
	fl.StringVar(&cmap, "colormap", "jet", "heatmap colormap: jet, viridis, inferno or gray")
	fl.Float64Var(&alpha, "alpha", 0.5, "heatmap opacity in overlays")
	return cmd
}
