package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"dapo/server/clip"
	"dapo/server/modelinit"
	"dapo/shared/safetensors"
)

// newModelCmd builds `dapo model`: backbones made here rather than fetched.
func newModelCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "model",
		Short: "Make backbones locally (deterministic random weights)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newModelInitCmd())
	return cmd
}

func newModelInitCmd() *cobra.Command {
	var (
		config, out, dtype string
		seed               uint64
		force              bool
	)
	cmd := &cobra.Command{
		Use:   "init --config NAME|FILE.json --out DIR [--seed N] [--dtype f32|f16|bf16] [--force]",
		Short: "Write a deterministic random CLIP backbone",
		Long: `Write a CLIP backbone with random weights, in the project's folder layout
(model_config.json + backbone.safetensors), usable anywhere --model DIR is.
The same config and seed always give the same bytes, so tests, demos and
benchmarks can run without downloading a checkpoint. The weights are scaled
like open_clip's initialisation; they are not a trained model.

Built-in configs (open_clip's values; -quickgelu uses OpenAI's activation;
tiny is the shape of the golden test set):
  ` + strings.Join(modelinit.Names(), "\n  ") + `

--config also takes the path of an open_clip model config JSON file (or a
hub open_clip_config.json).`,
		Example: `  dapo model init --config tiny --seed 1 --out testdata/tiny
  dapo model init --config ViT-L-14-336-quickgelu --dtype f16 --out /tmp/vitl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dt, err := parseDType(dtype)
			if err != nil {
				return err
			}
			cfg, err := resolveConfig(config)
			if err != nil {
				return err
			}
			if err := checkOutDir(out, force); err != nil {
				return err
			}
			r, err := modelinit.Init(cfg, seed)
			if err != nil {
				return err
			}
			params := countParams(cfg)
			slog.Info("writing random backbone", "config", config, "seed", seed, "dtype", dt, "parameters", params, "out", out)
			meta := map[string]string{"seed": fmt.Sprint(seed), "producer": "dapo model init", "config_name": config}
			if err := modelinit.Write(cmd.Context(), out, cfg, r.Tensor, meta, dt); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %s, seed %d, %s, %.1fM parameters\n", out, config, seed, dt, float64(params)/1e6)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&config, "config", "", "built-in config name or open_clip config JSON file (required)")
	f.StringVar(&out, "out", "", "folder to write the backbone into (required)")
	f.Uint64Var(&seed, "seed", 0, "random seed")
	f.StringVar(&dtype, "dtype", "f32", "storage type: f32, f16 or bf16")
	f.BoolVar(&force, "force", false, "write into a non-empty --out folder, replacing its backbone files")
	_ = cmd.MarkFlagRequired("config")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// resolveConfig turns a --config value (built-in name or open_clip config
// JSON file) into a config; shared by the commands that make random
// backbones.
func resolveConfig(nameOrPath string) (clip.Config, error) {
	return modelinit.Config(nameOrPath)
}

func parseDType(s string) (safetensors.DType, error) {
	switch strings.ToLower(s) {
	case "f32", "float32":
		return safetensors.F32, nil
	case "f16", "float16", "fp16":
		return safetensors.F16, nil
	case "bf16", "bfloat16":
		return safetensors.BF16, nil
	}
	return "", fmt.Errorf("--dtype %q: want f32, f16 or bf16", s)
}

// checkOutDir refuses to mix a new backbone into a folder that holds
// anything, unless asked to.
func checkOutDir(dir string, force bool) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("--out %s: %w", dir, err)
	case len(entries) > 0 && !force:
		return fmt.Errorf("--out %s is not empty; pass --force to overwrite its backbone files", dir)
	}
	return nil
}

func countParams(cfg clip.Config) int64 {
	var n int64
	for _, s := range clip.ParamSpecs(cfg) {
		k := int64(1)
		for _, d := range s.Shape {
			k *= int64(d)
		}
		n += k
	}
	return n
}
