package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"dapo/server/clip"
	"dapo/server/dapo"
	"dapo/server/modelinit"
	"dapo/shared/defects"
)

// referenceBackbone is the backbone the reference trains on; checkpoints
// imported without --model are checked against its shapes.
const referenceBackbone = "ViT-L-14-336-quickgelu"

func newCheckpointCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "checkpoint",
		Short: "Convert and inspect DAPO checkpoints",
	}
	cmd.AddCommand(newCheckpointImportCmd(), newCheckpointInitCmd())
	return cmd
}

func newCheckpointImportCmd() *cobra.Command {
	var configPath, model, out string
	cmd := &cobra.Command{
		Use:   "import PARAMS --dapo-config FILE.json [--model DIR] --out CKPT.safetensors",
		Short: "Turn the reference's learned parameters into a dapo checkpoint",
		Long: `Reads the learned parameters of the official DAPO code — a .pth file as its
train.py saves it (a dict of the prompt_learner, visual_prompt and
linear_adapter state dicts), or a safetensors file with the same flat names
(prompt_learner.learnable_normal_tokens, …) — and writes one dapo checkpoint:
the tensors plus JSON metadata with the DAPO config, the defect words and the
backbone's identity.

--dapo-config is a JSON object with the keys of the reference config
(feature_layers, depth, prefix_token_cnt, text_depth, layer_token_cnt,
normal_token_cnt, abnormal_token_cnt, prompt_count, defects, temperature,
alpha_blend, image_size, normal_word, class_word; optional anomaly_word,
text_readout "shifted"|"eot", text_causal), or a file holding such an
object under "dapo_config". Without --model the shapes are checked against
the reference backbone, ` + referenceBackbone + `.`,
		Example: `  dapo checkpoint import epoch_1.pth --dapo-config dapo.json --model ViT-L-14-336 --out dapo.safetensors`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("--out is required")
			}
			cfg, err := readDAPOConfig(configPath)
			if err != nil {
				return err
			}
			var bb clip.Config
			var id string
			if model != "" {
				b, err := openBackbone(model, cfg.ImageSize)
				if err != nil {
					return err
				}
				defer b.Close()
				bb, id = b.Config, b.ID
			} else {
				if bb, err = modelinit.Config(referenceBackbone); err != nil {
					return err
				}
				if bb, err = bb.WithImageSize(cfg.ImageSize); err != nil {
					return err
				}
			}
			if err := cfg.Validate(bb.Vision.Layers, bb.Text.Layers); err != nil {
				return err
			}
			params, err := dapo.ImportReference(args[0], cfg, bb)
			if err != nil {
				return err
			}
			ck := &dapo.Checkpoint{
				Meta:   dapo.Meta{Config: cfg, Backbone: dapo.BackboneInfo{ID: id, Config: bb}, Source: filepath.Base(args[0])},
				Params: params,
			}
			if err := ck.Save(out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %d classes (normal + %d defects), %d feature layers\n", out, 1+len(cfg.Defects), len(cfg.Defects), len(cfg.FeatureLayers))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&configPath, "dapo-config", "", "DAPO config JSON (required)")
	f.StringVar(&model, "model", "", "backbone folder or name the parameters belong to")
	f.StringVar(&out, "out", "", "checkpoint file to write (required)")
	return cmd
}

// readDAPOConfig reads a DAPO config object, or one nested under
// "dapo_config" (as in the reference's golden.json).
func readDAPOConfig(path string) (dapo.Config, error) {
	if path == "" {
		return dapo.Config{}, fmt.Errorf("--dapo-config is required")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return dapo.Config{}, fmt.Errorf("read DAPO config: %w", err)
	}
	var wrapped struct {
		DAPOConfig json.RawMessage `json:"dapo_config"`
	}
	if json.Unmarshal(b, &wrapped) == nil && len(wrapped.DAPOConfig) > 0 {
		b = wrapped.DAPOConfig
	}
	cfg, err := dapo.ParseConfig(b)
	if err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

func newCheckpointInitCmd() *cobra.Command {
	var configPath, model, out string
	var seed uint64
	var defects []string
	cmd := &cobra.Command{
		Use:   "init --model DIR [--dapo-config FILE.json] [--defects w1,w2] --seed N --out CKPT.safetensors",
		Short: "Write a checkpoint with freshly initialised (untrained) DAPO parameters",
		Long: `Initialises every learned DAPO tensor as the reference does (text context and
deep text tokens from the token embedding's per-dimension statistics, visual
tokens uniform, adapters with PyTorch's Linear default), deterministically
from --seed, and writes a checkpoint. It is the starting point of training
and a seeded untrained model for tests and demos; its maps carry no meaning.
Without --dapo-config the reference defaults are used (scaled to the
backbone's depth: deep prompts in every layer, feature layers at quarters).`,
		Example: `  dapo checkpoint init --model /tmp/tiny --seed 1 --out untrained.safetensors`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("--out is required")
			}
			var cfg dapo.Config
			var err error
			if configPath != "" {
				if cfg, err = readDAPOConfig(configPath); err != nil {
					return err
				}
			}
			bb, err := openBackbone(model, cfg.ImageSize)
			if err != nil {
				return err
			}
			defer bb.Close()
			if configPath == "" {
				if cfg, err = defaultConfigFor(bb.Config); err != nil {
					return err
				}
			}
			if len(defects) > 0 {
				cfg.Defects = cleanWords(defects)
			}
			if err := cfg.Validate(bb.Config.Vision.Layers, bb.Config.Text.Layers); err != nil {
				return err
			}
			ck := &dapo.Checkpoint{
				Meta:   dapo.Meta{Config: cfg, Backbone: dapo.BackboneInfo{ID: bb.ID, Config: bb.Config}, Source: fmt.Sprintf("init seed %d", seed)},
				Params: dapo.InitParams(cfg, bb.Weights, seed),
			}
			if err := ck.Save(out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: untrained, seed %d, %d defect words, image size %d\n", out, seed, len(cfg.Defects), bb.Config.Vision.ImageSize)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&configPath, "dapo-config", "", "DAPO config JSON (default: the reference's, fitted to the backbone)")
	f.StringVar(&model, "model", "", "backbone folder or name (required)")
	f.StringSliceVar(&defects, "defects", nil, "defect words (default: MVTec's 20 training states)")
	f.Uint64Var(&seed, "seed", 42, "random seed")
	f.StringVar(&out, "out", "", "checkpoint file to write (required)")
	return cmd
}

// defaultConfigFor is the reference config fitted to a backbone: deep
// prompts in every block, feature layers at each quarter of the depth, the
// backbone's own input size and MVTec's training states.
func defaultConfigFor(bb clip.Config) (dapo.Config, error) {
	states, err := defects.TrainStates("mvtec")
	if err != nil {
		return dapo.Config{}, err
	}
	cfg := dapo.Default(states)
	n := bb.Vision.Layers
	cfg.Depth, cfg.TextDepth = n, bb.Text.Layers
	cfg.FeatureLayers = nil
	for q := 1; q <= 4; q++ {
		if l := q * n / 4; l >= 1 && (len(cfg.FeatureLayers) == 0 || cfg.FeatureLayers[len(cfg.FeatureLayers)-1] != l) {
			cfg.FeatureLayers = append(cfg.FeatureLayers, l)
		}
	}
	cfg.ImageSize = bb.Vision.ImageSize
	return cfg, nil
}
