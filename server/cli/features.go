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
	"dapo/shared/safetensors"
)

func newFeaturesCmd() *cobra.Command {
	var (
		f      detectFlags
		out    string
		f16    bool
		noJPEG bool
	)
	cmd := &cobra.Command{
		Use:   "features IMAGE|DIR... --checkpoint CKPT --model DIR --out DIR",
		Short: "Write feature bundles: everything the browser needs to score an image offline",
		Long: `Encodes images with the checkpoint's vision side and writes one feature
bundle per image (<name>.bundle.safetensors, specified in docs/bundle.md):
the global feature, each feature layer's adapted patch features, the class
text features and a small JPEG preview. The browser app and the Worker
re-score bundles — thresholds, product subsets, maps — without the server.`,
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
			names := outputNames(files)
			prog := newProgress(cmd.ErrOrStderr(), len(files), "features")
			defer prog.finish()
			var failed []string
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
				dst := filepath.Join(out, names[i]+".bundle.safetensors")
				if err := os.WriteFile(dst, data, 0o644); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s (%.1f MB)\n", dst, float64(len(data))/1e6)
				prog.add(1)
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
