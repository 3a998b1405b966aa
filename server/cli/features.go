package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"dapo/server/inference"
	"dapo/shared/bundle"
	"dapo/shared/gallery"
	"dapo/shared/safetensors"
)

func newFeaturesCmd() *cobra.Command {
	var (
		f      detectFlags
		out    string
		f16    bool
		noJPEG bool
		gt     bool
	)
	cmd := &cobra.Command{
		Use:   "features IMAGE|DIR... --checkpoint CKPT --model DIR --out DIR",
		Short: "Write feature bundles: everything the browser needs to score an image offline",
		Long: `Encodes images with the checkpoint's vision side and writes one feature
bundle per image (<name>.bundle.safetensors, specified in docs/bundle.md):
the global feature, each feature layer's adapted patch features, the class
text features and a small JPEG preview. The browser app and the Worker
re-score bundles — thresholds, product subsets, maps — without the server.

The folder also gets index.json, the browser app's gallery (items of
earlier runs into the same folder are kept), and, with --ground-truth
(default on), each image's ground-truth mask as <name>.mask.png when one
is found: MVTec's ground_truth/<type>/<stem>_mask.png, or <stem>_mask.png
or <stem>.mask.png next to the image.`,
		Example: `  dapo features photos/ --checkpoint dapo.safetensors --model ViT-L-14-336 --f16 --out bundles/`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return errors.New("--out is required")
			}
			files, err := collectImages(args)
			if err != nil {
				return err
			}
			det, err := f.open(cmd, nil)
			if err != nil {
				return err
			}
			defer det.Close()
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			dt := safetensors.F32
			if f16 {
				dt = safetensors.F16
			}
			ix, err := readGalleryIndex(out)
			if err != nil {
				return err
			}
			names := outputNames(files)
			shown := displayNames(files)
			avoidEarlierBundles(names, files, ix)
			prog := newProgress(cmd.ErrOrStderr(), len(files), "features")
			defer prog.finish()
			var failed []string
			var items []gallery.Item
			for i, path := range files {
				im, err := det.LoadImage(path)
				if err != nil {
					slog.Error("skipping image", "err", err)
					failed = append(failed, path)
					prog.add(1)
					continue
				}
				feats, err := det.EncodeImages(cmd.Context(), []*inference.Image{im})
				if err != nil {
					return err
				}
				b, err := det.Bundle(im, feats[0], bundle.Model{ID: checkpointID(f.checkpoint), Name: filepath.Base(f.checkpoint)}, !noJPEG)
				if err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				data, err := bundle.Encode(b, dt)
				if err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				dst := filepath.Join(out, names[i]+bundleSuffix)
				if err := os.WriteFile(dst, data, 0o644); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s (%.1f MB)\n", dst, float64(len(data))/1e6)
				item := gallery.Item{Name: shown[i], Bundle: filepath.Base(dst), Source: sourceID(path)}
				if src := groundTruthFor(path); gt && src != "" {
					item.Mask = names[i] + ".mask.png"
					if err := copyFile(src, filepath.Join(out, item.Mask)); err != nil {
						return fmt.Errorf("ground truth of %s: %w", path, err)
					}
				}
				items = append(items, item)
				prog.add(1)
			}
			if err := writeGalleryIndex(out, ix, items); err != nil {
				return err
			}
			if len(failed) > 0 {
				return fmt.Errorf("%d of %d images could not be read: %s", len(failed), len(files), strings.Join(failed, ", "))
			}
			return nil
		},
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&out, "out", "", "output folder (required)")
	fl.BoolVar(&f16, "f16", false, "store the patch features as F16 (half the size)")
	fl.BoolVar(&noJPEG, "no-jpeg", false, "do not embed a JPEG preview")
	fl.BoolVar(&gt, "ground-truth", true, "copy each image's ground-truth mask, when found, for the app's outline")
	return cmd
}

// checkpointID identifies a checkpoint file by its size and modification
// time plus name — cheap, and enough to tell bundles of different
// checkpoints apart.
func checkpointID(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return filepath.Base(path)
	}
	return fmt.Sprintf("%s:%d:%d", filepath.Base(path), st.Size(), st.ModTime().Unix())
}
