package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"dapo/server/dapo"
	"dapo/server/device"
	"dapo/server/hub"
	"dapo/server/inference"
	"dapo/shared/imaging"
	"dapo/shared/render"
	"dapo/shared/safetensors"
	"dapo/shared/scoring"
)

// detectFlags are the flags shared by the commands that run a checkpoint.
type detectFlags struct {
	checkpoint, model string
	defects           []string
	imageSize         int
	maxPixels         int64
	batch             int
	dev               *deviceFlags
}

func (f *detectFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.checkpoint, "checkpoint", "", "DAPO checkpoint (.safetensors, from 'dapo train' or 'dapo checkpoint import')")
	fl.StringVar(&f.model, "model", "", "backbone folder or name (see 'dapo weights pull')")
	fl.StringSliceVar(&f.defects, "defects", nil, "defect words to score (comma-separated; default: the checkpoint's)")
	fl.IntVar(&f.imageSize, "image-size", 0, "model input size in pixels (default: the checkpoint's)")
	fl.Int64Var(&f.maxPixels, "max-pixels", imaging.DefaultMaxPixels, "refuse images with more pixels than this")
	fl.IntVar(&f.batch, "batch", 4, "images per forward pass")
	f.dev = addDeviceFlags(cmd)
}

// open loads the checkpoint and the backbone into a detector.
func (f *detectFlags) open(cmd *cobra.Command, defects []string) (*inference.Detector, error) {
	if f.checkpoint == "" {
		return nil, errors.New("--checkpoint is required")
	}
	if f.model == "" {
		return nil, errors.New("--model is required: the backbone the checkpoint was trained on")
	}
	ck, err := dapo.LoadCheckpoint(f.checkpoint)
	if err != nil {
		return nil, err
	}
	dir, err := resolveModel(f.model)
	if err != nil {
		return nil, err
	}
	cache, err := hub.CacheDir()
	if err != nil {
		return nil, err
	}
	if len(f.defects) > 0 {
		defects = f.defects
	}
	opts := inference.Options{
		Defects: cleanWords(defects), ImageSize: f.imageSize,
		TextCacheDir: filepath.Join(cache, "text"), Limits: imaging.Limits{MaxPixels: f.maxPixels},
	}
	// The CPU runs server/clip's towers; another device gets a backend
	// for the vision side (text features are computed once, on the CPU).
	if spec, _, err := f.dev.spec(); err != nil {
		return nil, err
	} else if spec.Kind != device.CPU {
		if opts.Backend, opts.Release, err = f.dev.open(); err != nil {
			return nil, err
		}
	}
	return inference.New(cmd.Context(), dir, ck, opts)
}

func cleanWords(words []string) []string {
	var out []string
	for _, w := range words {
		if w = strings.TrimSpace(w); w != "" {
			out = append(out, w)
		}
	}
	return out
}

func newDetectCmd() *cobra.Command {
	var (
		f                  detectFlags
		subset             []string
		imageThr, pixelThr float64
		raw                bool
		out, cmap          string
		alpha, sigma       float64
	)
	cmd := &cobra.Command{
		Use:   "detect IMAGE|DIR... --checkpoint CKPT --model DIR --out DIR",
		Short: "Score images: anomaly score, heatmap, mask and defect type per image",
		Long: `Runs a DAPO checkpoint on images (files, or folders searched recursively for
PNG and JPEG files) and writes, per image, into --out:

  <name>.json          {"image", "score", "verdict", "image_threshold",
                        "pixel_threshold", "defect_types": [{"name",
                        "probability"}...], "top_defect", "top_defect_in_mask", ...}
  <name>_map.png       the anomaly map with a colormap, at the original size
  <name>_overlay.png   the map blended over the image, predicted outline drawn
  <name>_mask.png      the binary mask (map > pixel threshold), original size
  <name>.safetensors   with --raw: anomaly_map [S,S] (unsmoothed sum over
                       layers) and class_probs [C,S,S] at the model's input
                       size S; metadata "classes" lists the class names

The score is the reference's 2-way softmax P(abnormal); "verdict" is
anomalous when score >= the image threshold. defect_types are the image-level
class probabilities renormalised over the defect classes; top_defect is their
argmax and top_defect_in_mask the majority defect class among pixels above
the pixel threshold. Thresholds come from --image-threshold/--pixel-threshold,
else from <checkpoint>.thresholds.json written by 'dapo calibrate', else
0.5 and half the number of feature layers (the map is a sum over layers).
--defects scores other defect words than the checkpoint's (zero-shot);
--subset restricts the defect types to a product's list (the image score of
the multi-type output then becomes 1 - P(normal) over that subset).`,
		Example: `  dapo detect part.png --checkpoint dapo.safetensors --model ViT-L-14-336 --out results/
  dapo detect photos/ --checkpoint dapo.safetensors --model ViT-L-14-336 --defects scratch,hole,rust --subset scratch,rust --raw --out results/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return errors.New("--out is required")
			}
			files, err := collectImages(args)
			if err != nil {
				return err
			}
			cm, err := render.ParseColormap(cmap)
			if err != nil {
				return err
			}
			det, err := f.open(cmd, nil)
			if err != nil {
				return err
			}
			defer det.Close()
			thr, err := resolveThresholds(cmd, f.checkpoint, imageThr, pixelThr, len(det.Config.FeatureLayers))
			if err != nil {
				return err
			}
			sub, err := det.SubsetIndices(cleanWords(subset))
			if err != nil {
				return err
			}
			scorer, err := det.Scorer(scoring.Options{Subset: sub, PixelThreshold: float32(thr.Pixel), KeepClassProbs: raw && sigma == 0,
				Smooth: scoring.Smoothing{Sigma: sigma}})
			if err != nil {
				return err
			}
			// --raw promises the unsmoothed map: with smoothing on, a second
			// scorer without it provides the raw tensors.
			rawScorer := scorer
			if raw && sigma > 0 {
				if rawScorer, err = det.Scorer(scoring.Options{Subset: sub, KeepClassProbs: true}); err != nil {
					return err
				}
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			names := outputNames(files)
			classes := det.Classes()
			prog := newProgress(cmd.ErrOrStderr(), len(files), "detect")
			defer prog.finish()
			var failed []string
			for start := 0; start < len(files); start += max(f.batch, 1) {
				end := min(start+max(f.batch, 1), len(files))
				var imgs []*inference.Image
				var idx []int
				for i := start; i < end; i++ {
					im, err := det.LoadImage(files[i])
					if err != nil {
						// One bad file must not lose the others' results.
						slog.Error("skipping image", "err", err)
						failed = append(failed, files[i])
						continue
					}
					imgs, idx = append(imgs, im), append(idx, i)
				}
				if len(imgs) > 0 {
					feats, err := det.EncodeImages(cmd.Context(), imgs)
					if err != nil {
						return err
					}
					for k, im := range imgs {
						res, err := scorer.Score(feats[k].Global, feats[k].Layers)
						if err != nil {
							return fmt.Errorf("%s: %w", im.Path, err)
						}
						v := inference.NewVerdict(im.Path, res, classes, thr.Image, thr.Pixel)
						if err := writeDetection(out, names[idx[k]], im, res, v, det.Size(), len(det.Config.FeatureLayers), cm, alpha); err != nil {
							return err
						}
						if raw {
							rawRes := res
							if rawScorer != scorer {
								if rawRes, err = rawScorer.Score(feats[k].Global, feats[k].Layers); err != nil {
									return fmt.Errorf("%s: %w", im.Path, err)
								}
							}
							if err := writeRaw(filepath.Join(out, names[idx[k]]+".safetensors"), rawRes, classes, det.Size(), im.Path); err != nil {
								return err
							}
						}
						fmt.Fprintf(cmd.OutOrStdout(), "%-32s score %.4f  %-9s  top defect %q\n", names[idx[k]], v.Score, v.Verdict, v.TopDefect)
					}
				}
				prog.add(end - start)
			}
			if len(failed) > 0 {
				return fmt.Errorf("%d of %d images could not be read: %s", len(failed), len(files), strings.Join(failed, ", "))
			}
			return nil
		},
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.StringSliceVar(&subset, "subset", nil, "restrict defect types to these words (a product's defect list)")
	fl.Float64Var(&imageThr, "image-threshold", -1, "image score threshold (default: calibrated, else 0.5)")
	fl.Float64Var(&pixelThr, "pixel-threshold", -1, "anomaly map threshold (default: calibrated, else layers/2)")
	fl.BoolVar(&raw, "raw", false, "also write <name>.safetensors with anomaly_map and class_probs")
	fl.StringVar(&out, "out", "", "output folder (required)")
	fl.StringVar(&cmap, "colormap", "jet", "heatmap colormap: jet, viridis, inferno or gray")
	fl.Float64Var(&alpha, "alpha", 0.5, "heatmap opacity in overlays")
	fl.Float64Var(&sigma, "smooth", 0, "Gaussian smoothing sigma for the map in pixels (0: none, as the reference)")
	return cmd
}

// resolveThresholds applies flags, then the calibration file, then defaults.
func resolveThresholds(cmd *cobra.Command, checkpoint string, imageThr, pixelThr float64, layers int) (inference.Thresholds, error) {
	t := inference.Thresholds{Image: inference.DefaultImageThreshold, Pixel: float64(inference.DefaultPixelThreshold(layers)), Method: "default"}
	path := inference.ThresholdsPath(checkpoint)
	cal, ok, err := inference.LoadThresholds(path)
	if err != nil {
		return t, err
	}
	if ok {
		slog.Info("using calibrated thresholds", "file", path, "image", cal.Image, "pixel", cal.Pixel)
		t = cal
	}
	if cmd.Flags().Changed("image-threshold") {
		if imageThr < 0 || imageThr > 1 {
			return t, fmt.Errorf("--image-threshold %g must lie in [0,1]", imageThr)
		}
		t.Image = imageThr
	}
	if cmd.Flags().Changed("pixel-threshold") {
		if pixelThr <= 0 {
			return t, fmt.Errorf("--pixel-threshold %g must be positive", pixelThr)
		}
		t.Pixel = pixelThr
	}
	return t, nil
}

// collectImages expands folders (recursively) into sorted image files.
func collectImages(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("input image or folder: %w", err)
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && isImageFile(p) {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("no PNG or JPEG files in %s", a)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

func isImageFile(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}

// outputNames gives each input a unique output stem: the base name, with
// the parent folders prepended for inputs whose base names collide (MVTec's
// 000.png in every defect folder).
func outputNames(files []string) []string {
	stem := func(p string, parents int) string {
		parts := strings.Split(filepath.ToSlash(filepath.Clean(p)), "/")
		from := max(len(parts)-1-parents, 0)
		s := strings.Join(parts[from:], "_")
		return strings.TrimSuffix(s, filepath.Ext(s))
	}
	names := make([]string, len(files))
	for parents := 0; ; parents++ {
		seen := map[string]int{}
		for i, f := range files {
			names[i] = stem(f, parents)
			seen[names[i]]++
		}
		dup := false
		for _, n := range seen {
			dup = dup || n > 1
		}
		if !dup || parents > 16 {
			break
		}
	}
	return names
}

// writeDetection writes the JSON and the PNGs of one image, at its
// original size.
func writeDetection(dir, name string, im *inference.Image, res *scoring.Result, v inference.Verdict, size, layers int, cm render.Colormap, alpha float64) error {
	w, h := im.Original.W, im.Original.H
	js, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	m, err := render.ResizeMap(res.AnomalyMap, size, size, w, h)
	if err != nil {
		return err
	}
	heat, err := render.Heatmap(m, w, h, 0, float32(layers), cm)
	if err != nil {
		return err
	}
	mask := make([]bool, w*h)
	for i, x := range m {
		mask[i] = float64(x) > v.PixelThreshold
	}
	base, err := render.RGBImage(im.Original.Pix, w, h)
	if err != nil {
		return err
	}
	over, err := render.Overlay(base, heat, alpha)
	if err != nil {
		return err
	}
	if err := render.DrawOutline(over, mask, color.RGBA{255, 255, 255, 255}, 2); err != nil {
		return err
	}
	maskPNG, err := render.MaskPNG(mask, w, h)
	if err != nil {
		return err
	}
	outputs := []struct {
		suffix string
		img    image.Image
	}{{"_map.png", heat}, {"_overlay.png", over}}
	for _, o := range outputs {
		b, err := render.PNGBytes(o.img)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name+o.suffix), b, 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, name+"_mask.png"), maskPNG, 0o644)
}

// writeRaw writes the unsmoothed map and the layer-summed class
// probabilities at the model's input size.
func writeRaw(path string, res *scoring.Result, classes []string, size int, image string) error {
	cls, err := json.Marshal(classes)
	if err != nil {
		return err
	}
	tensors := []safetensors.Tensor{
		safetensors.FromFloat32("anomaly_map", []int{size, size}, res.AnomalyMap, safetensors.F32),
		safetensors.FromFloat32("class_probs", []int{len(classes), size, size}, res.ClassProbs, safetensors.F32),
	}
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, tensors, map[string]string{"classes": string(cls), "image": image}); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
