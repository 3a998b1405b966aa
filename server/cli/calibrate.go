package cli

import (
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"dapo/server/evaluate"
	"dapo/server/inference"
)

func newCalibrateCmd() *cobra.Command {
	var (
		f    detectFlags
		d    datasetFlags
		out  string
		bins int
	)
	cmd := &cobra.Command{
		Use:   "calibrate --format FORMAT --root DIR --checkpoint CKPT --model DIR [--out FILE]",
		Short: "Pick the image and pixel decision thresholds on a labelled set",
		Long: `Scores the test split of a labelled dataset and picks the thresholds that
'dapo detect' (and 'dapo test' for its confusion matrix and outlines) use:

  image  the F1-optimal threshold on the 2-way image scores: the threshold
         of the precision-recall curve with the largest F1 (an image is
         anomalous when score >= threshold; ties take the larger one)
  pixel  the F1-optimal threshold over all pixels of all images (a pixel is
         anomalous when map > threshold). The summed map lies in
         [0, n_layers]; the candidates are --bins equally spaced values
         there and the pixels are counted per interval, so memory does not
         grow with the data and the F1 shown is exact for the threshold
         chosen, which lies within n_layers/--bins of the unrestricted
         optimum.

It also records the max-over-normal alternative: the smallest thresholds
that flag no normal image (just above the largest normal score) and no
normal pixel (the largest map value on normal images). Anomalous images
without a mask count for the image threshold only; without any mask the
pixel threshold falls back to max-over-normal.

The thresholds go to <checkpoint>.thresholds.json (where 'dapo detect'
looks by default) or to --out. Calibrating on the set you then report
metrics on is optimistic; use a held-out set for honest numbers.`,
		Example: `  dapo calibrate --format mvtec --root /data/mvtec --checkpoint dapo.safetensors --model ViT-L-14-336
  dapo calibrate --format folder --root parts/ --checkpoint dapo.safetensors --model ViT-L-14-336 --defects scratch,dent --out parts.thresholds.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if bins < 1 {
				return fmt.Errorf("--bins %d must be at least 1", bins)
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
			prog := newProgress(cmd.ErrOrStderr(), len(ds.Items), "calibrate")
			cal, err := evaluate.Calibrate(cmd.Context(), det, ds, evaluate.CalibrateOptions{Batch: f.batch, Bins: bins, Progress: prog.add})
			prog.finish()
			if err != nil {
				return err
			}
			t := cal.Thresholds()
			t.Dataset = d.format + ":" + d.root
			t.Checkpoint = f.checkpoint
			t.Defects = slices.Clone(det.Config.Defects)
			path := out
			if path == "" {
				if f.checkpoint == "" {
					return errors.New("--out or --checkpoint is required")
				}
				path = inference.ThresholdsPath(f.checkpoint)
			}
			if err := t.Save(path); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "images: %d (%d normal, %d anomalous); pixels: %d of %d images (%d positive)\n",
				cal.Images, cal.Normal, cal.Anomalous, cal.Pixels, cal.PixelImages, cal.Positives)
			fmt.Fprintf(w, "image threshold %.6g  F1 %.4f  precision %.4f  recall %.4f  (score >= threshold)\n",
				cal.Image.Value, cal.Image.F1, cal.Image.Precision, cal.Image.Recall)
			if cal.PixelFromMasks {
				fmt.Fprintf(w, "pixel threshold %.6g  F1 %.4f  precision %.4f  recall %.4f  (map > threshold)\n",
					cal.Pixel.Value, cal.Pixel.F1, cal.Pixel.Precision, cal.Pixel.Recall)
			} else {
				fmt.Fprintf(w, "pixel threshold %.6g  (max over normal: no ground-truth foreground)\n", cal.Pixel.Value)
			}
			fmt.Fprintf(w, "max over normal: image %.6g, pixel %.6g\n", cal.MaxNormal.Image, cal.MaxNormal.Pixel)
			fmt.Fprintf(w, "wrote %s\n", path)
			return nil
		},
	}
	f.register(cmd)
	d.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&out, "out", "", "thresholds file (default: <checkpoint>.thresholds.json)")
	fl.IntVar(&bins, "bins", evaluate.DefaultBins, "pixel threshold candidates over [0, number of feature layers]")
	return cmd
}
