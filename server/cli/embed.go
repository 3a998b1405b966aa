package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"dapo/kernels/cpu"
	"dapo/server/clip"
	"dapo/server/compute"
	"dapo/server/compute/bind"
	"dapo/shared/imaging"
	"dapo/shared/safetensors"
	"dapo/shared/tokenizer"
)

func newEmbedCmd() *cobra.Command {
	var (
		model      string
		images     []string
		texts      []string
		imageSize  int
		asJSON     bool
		out        string
		maxPixels  int64
		imageBatch int
		dev        *deviceFlags
	)
	cmd := &cobra.Command{
		Use:   "embed --model DIR (--image FILE... | --text STRING...) [--json | --out FILE.safetensors]",
		Short: "Encode images or texts with the plain CLIP towers (no prompts)",
		Long: `Encodes PNG/JPEG images with the CLIP vision tower, or strings with the text
tower, exactly as open_clip's encode_image / encode_text would (images are
resized to the model's input size with Pillow-compatible bicubic resampling
and normalised with CLIP's mean and std).

Several files or strings may follow one flag. --json (the default) prints
{"image_features": [[...]], "image_features_normed": [[...]]} — or the same
with "text_" — holding the features before and after L2 normalisation;
--out writes them to a safetensors file as image.features,
image.features_normed (or text.*), plus text.ids for texts. --device cuda
(a CUDA build) runs the tower on the GPU.`,
		Example: `  dapo model init --config tiny --seed 1 --out /tmp/tiny
  dapo embed --model /tmp/tiny --image a.png b.jpg
  dapo embed --model /tmp/tiny --text "a photo of a scratch" "a flawless object" --out text.safetensors`,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Positional arguments continue the list of the one mode given.
			switch {
			case len(images) > 0 && len(texts) > 0:
				return errors.New("give either --image or --text, not both")
			case len(images) > 0:
				images = append(images, args...)
			case len(texts) > 0:
				texts = append(texts, args...)
			default:
				return errors.New("nothing to encode: give --image FILE... or --text STRING...")
			}
			if asJSON && out != "" {
				return errors.New("--json and --out exclude each other")
			}
			// The device first: a missing GPU is reported before any loading.
			be, release, err := dev.open()
			if err != nil {
				return err
			}
			defer release()
			bb, err := openBackbone(model, imageSize)
			if err != nil {
				return err
			}
			defer bb.Close()
			var prefix string
			var feats []float32
			var extra []safetensors.Tensor
			n := 0
			if len(images) > 0 {
				prefix, n = "image", len(images)
				feats, err = embedImages(cmd, be, bb.Weights, images, imaging.Limits{MaxPixels: maxPixels}, imageBatch)
			} else {
				prefix, n = "text", len(texts)
				var ids [][]int
				feats, ids, err = embedTexts(cmd, be, bb.Weights, texts)
				flat := make([]int64, 0, len(ids)*len(ids[0]))
				for _, row := range ids {
					for _, v := range row {
						flat = append(flat, int64(v))
					}
				}
				extra = append(extra, safetensors.FromInt64("text.ids", []int{len(ids), len(ids[0])}, flat))
			}
			if err != nil {
				return err
			}
			e := bb.Config.EmbedDim
			normed := append([]float32(nil), feats...)
			cpu.L2Normalize(normed, n, e)
			if out != "" {
				return writeFeatures(out, prefix, n, e, feats, normed, extra, bb.ID)
			}
			return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string][][]float32{
				prefix + "_features":        rows(feats, n, e),
				prefix + "_features_normed": rows(normed, n, e),
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&model, "model", "", "backbone folder or name (see 'dapo weights pull', 'dapo model init')")
	f.StringArrayVar(&images, "image", nil, "image files (PNG or JPEG) to encode")
	f.StringArrayVar(&texts, "text", nil, "strings to encode")
	f.IntVar(&imageSize, "image-size", 0, "input size in pixels (default: the backbone's; the positional embedding is resized)")
	f.BoolVar(&asJSON, "json", false, "print the features as JSON (the default without --out)")
	f.StringVar(&out, "out", "", "write the features to this safetensors file")
	f.Int64Var(&maxPixels, "max-pixels", imaging.DefaultMaxPixels, "refuse images with more pixels than this")
	f.IntVar(&imageBatch, "batch", 8, "images per forward pass")
	dev = addDeviceFlags(cmd)
	return cmd
}

func embedImages(cmd *cobra.Command, be compute.Backend, w *clip.Weights, files []string, lim imaging.Limits, batch int) ([]float32, error) {
	s := w.Config.Vision.ImageSize
	vision, err := bind.Vision(be, w)
	if err != nil {
		return nil, err
	}
	if batch < 1 {
		batch = 1
	}
	var feats []float32
	for start := 0; start < len(files); start += batch {
		end := min(start+batch, len(files))
		pixels := make([]float32, 0, (end-start)*3*s*s)
		for _, path := range files[start:end] {
			data, err := os.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("read image: %w", err)
			}
			t, err := imaging.ImageTensor(data, s, lim)
			if err != nil {
				return nil, fmt.Errorf("image %s: %w", path, err)
			}
			pixels = append(pixels, t...)
		}
		f, err := vision.EncodeImage(cmd.Context(), pixels, end-start)
		if err != nil {
			return nil, err
		}
		feats = append(feats, f...)
	}
	return feats, nil
}

func embedTexts(cmd *cobra.Command, be compute.Backend, w *clip.Weights, texts []string) ([]float32, [][]int, error) {
	tok, err := tokenizer.New()
	if err != nil {
		return nil, nil, err
	}
	ids := tok.TokenizeBatch(texts, w.Config.Text.ContextLength)
	text, err := bind.Text(be, w)
	if err != nil {
		return nil, nil, err
	}
	feats, err := text.EncodeText(cmd.Context(), ids)
	return feats, ids, err
}

func rows(v []float32, n, width int) [][]float32 {
	out := make([][]float32, n)
	for i := range out {
		out[i] = v[i*width : (i+1)*width]
	}
	return out
}

// writeFeatures writes the tensors atomically (temp file, then rename).
func writeFeatures(path, prefix string, n, e int, feats, normed []float32, extra []safetensors.Tensor, backboneID string) error {
	tensors := append([]safetensors.Tensor{
		safetensors.FromFloat32(prefix+".features", []int{n, e}, feats, safetensors.F32),
		safetensors.FromFloat32(prefix+".features_normed", []int{n, e}, normed, safetensors.F32),
	}, extra...)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".embed-*.safetensors")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := safetensors.Write(tmp, tensors, map[string]string{"producer": "dapo embed", "backbone": backboneID}); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
