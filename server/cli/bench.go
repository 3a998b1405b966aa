package cli

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"dapo/server/clip"
	"dapo/server/compute"
	"dapo/server/compute/bind"
	"dapo/server/modelinit"
)

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the speed of the CLIP towers on this machine",
	}
	cmd.AddCommand(newBenchVisionCmd(), newBenchTextCmd())
	return cmd
}

// median of the sorted copy of xs.
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

func newBenchTextCmd() *cobra.Command {
	var (
		config               string
		sequences, tokens, n int
		seed                 int
		causal, asJSON       bool
		dev                  *deviceFlags
	)
	cmd := &cobra.Command{
		Use:   "text",
		Short: "Time DAPO's text side through the text tower with random weights",
		Long: `Runs the text tower's blocks of a built-in (or JSON) config with deterministic
random weights over --sequences sequences of --tokens token embeddings — by
default DAPO's text side: 1 normal + 20 MVTec states, 10 prompt groups each
(210 sequences), 77 context tokens plus 4 deep prompt tokens (81), without
the causal mask as in the reference — once to warm up and then --n times,
and prints the median seconds per pass and the sustained GFLOP/s (blocks
only: the embedding look-up and read-out are negligible), on the CPU or
(a CUDA build) --device cuda. Compare with scripts/bench_torch.py --text.`,
		Example: `  dapo bench text --config ViT-L-14-336-quickgelu --n 3 --json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := resolveConfig(config)
			if err != nil {
				return err
			}
			if sequences < 1 || tokens < 1 || n < 1 {
				return fmt.Errorf("--sequences, --tokens and --n must be at least 1")
			}
			w, be, release, err := randomOn(cfg, seed, dev)
			if err != nil {
				return err
			}
			defer release()
			tt, err := bind.Text(be, w)
			if err != nil {
				return err
			}
			tower := tt.Tower
			tower.Causal = causal
			width := cfg.Text.Width
			input := make([]float32, sequences*tokens*width)
			for i := range input {
				input[i] = float32(i%251)/250 - 0.5
			}
			ctx := cmd.Context()
			times := make([]float64, 0, n)
			for i := 0; i <= n; i++ {
				x := compute.Seq{B: sequences, L: tokens, W: width, T: be.Upload(slices.Clone(input))}
				t0 := time.Now()
				y, err := tower.Forward(ctx, x, compute.Hooks{})
				if err == nil {
					err = be.Err() // waits for a GPU's queued work
				}
				if err != nil {
					return err
				}
				be.Free(y.T)
				if i > 0 { // the first run warms up
					times = append(times, time.Since(t0).Seconds())
				}
			}
			med := median(times)
			gflops := clip.TowerFLOPs(sequences, tokens, width, cfg.TextMLP(), cfg.Text.Layers) / 1e9 / med
			return printBench(cmd, asJSON, map[string]any{
				"config": config, "sequences": sequences, "tokens": tokens, "n": n, "causal": causal,
				"median_seconds": med, "gflops_per_second": gflops,
			}, fmt.Sprintf("%s text tower, %d×%d tokens: median %.3f s (%.1f GFLOP/s) over %d runs", config, sequences, tokens, med, gflops, n))
		},
	}
	f := cmd.Flags()
	f.StringVar(&config, "config", "ViT-L-14-336-quickgelu", "built-in config name or open_clip config JSON file")
	f.IntVar(&sequences, "sequences", 210, "sequences per pass (DAPO: (1 + states) × prompt groups)")
	f.IntVar(&tokens, "tokens", 81, "tokens per sequence (DAPO: context length + deep prompt tokens)")
	f.BoolVar(&causal, "causal", false, "apply CLIP's causal mask (DAPO's prompt encoder does not)")
	f.IntVar(&n, "n", 3, "timed runs after one warm-up")
	f.IntVar(&seed, "seed", 1, "seed of the random weights")
	f.BoolVar(&asJSON, "json", false, `print {"median_seconds": …} as JSON`)
	dev = addDeviceFlags(cmd)
	return cmd
}

func newBenchVisionCmd() *cobra.Command {
	var (
		config         string
		imageSize      int
		batch, n, seed int
		asJSON         bool
		dev            *deviceFlags
	)
	cmd := &cobra.Command{
		Use:   "vision",
		Short: "Time the vision tower with random weights (median seconds per image)",
		Long: `Runs the CLIP vision tower of a built-in (or JSON) config with deterministic
random weights — no checkpoint needed — once to warm up and then --n times,
and prints the median seconds per image and the sustained GFLOP/s, on the
CPU or (a CUDA build) --device cuda. Compare with scripts/bench_torch.py,
which times the same tower in PyTorch.`,
		Example: `  dapo bench vision --config ViT-B-16
  dapo bench vision --config ViT-L-14-336 --image-size 518 --n 3 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := resolveConfig(config)
			if err != nil {
				return err
			}
			if imageSize > 0 {
				if cfg, err = cfg.WithImageSize(imageSize); err != nil {
					return err
				}
			}
			if batch < 1 || n < 1 {
				return fmt.Errorf("--batch and --n must be at least 1")
			}
			w, be, release, err := randomOn(cfg, seed, dev)
			if err != nil {
				return err
			}
			defer release()
			v, err := bind.Vision(be, w)
			if err != nil {
				return err
			}
			s := cfg.Vision.ImageSize
			pixels := make([]float32, batch*3*s*s)
			for i := range pixels {
				pixels[i] = float32(i%251)/125 - 1
			}
			ctx := cmd.Context()
			times := make([]float64, 0, n)
			for i := 0; i <= n; i++ {
				t0 := time.Now()
				if _, err := v.EncodeImage(ctx, pixels, batch); err != nil {
					return err
				}
				if i == 0 {
					slog.Debug("warm-up done", "seconds", time.Since(t0).Seconds())
					continue // warm-up
				}
				times = append(times, time.Since(t0).Seconds()/float64(batch))
			}
			med := median(times)
			gflops := clip.VisionFLOPs(cfg) / 1e9 / med
			return printBench(cmd, asJSON, map[string]any{
				"config": config, "image_size": s, "batch": batch, "n": n,
				"median_seconds_per_image": med, "gflops_per_second": gflops,
			}, fmt.Sprintf("%s @ %d px, batch %d: median %.3f s/image (%.1f GFLOP/s) over %d runs", config, s, batch, med, gflops, n))
		},
	}
	f := cmd.Flags()
	f.StringVar(&config, "config", "ViT-B-16", "built-in config name or open_clip config JSON file")
	f.IntVar(&imageSize, "image-size", 0, "input size in pixels (default: the config's)")
	f.IntVar(&batch, "batch", 1, "images per forward pass")
	f.IntVar(&n, "n", 5, "timed runs after one warm-up")
	f.IntVar(&seed, "seed", 1, "seed of the random weights")
	f.BoolVar(&asJSON, "json", false, `print {"median_seconds_per_image": …} as JSON`)
	dev = addDeviceFlags(cmd)
	return cmd
}

// randomOn opens the --device backend (first: a missing GPU is reported
// before any work) and makes cfg's deterministic random weights (seed) to
// run on it.
func randomOn(cfg clip.Config, seed int, dev *deviceFlags) (*clip.Weights, compute.Backend, func() error, error) {
	be, release, err := dev.open()
	if err != nil {
		return nil, nil, nil, err
	}
	r, err := modelinit.Init(cfg, uint64(seed))
	if err == nil {
		var w *clip.Weights
		if w, err = r.Weights(); err == nil {
			return w, be, release, nil
		}
	}
	if rerr := release(); rerr != nil {
		slog.Warn("release device", "err", rerr)
	}
	return nil, nil, nil, err
}

// printBench prints a benchmark's result as JSON (for scripts/bench.sh) or
// as one line for people.
func printBench(cmd *cobra.Command, asJSON bool, fields map[string]any, line string) error {
	if asJSON {
		return json.NewEncoder(cmd.OutOrStdout()).Encode(fields)
	}
	_, err := fmt.Fprintln(cmd.OutOrStdout(), line)
	return err
}
