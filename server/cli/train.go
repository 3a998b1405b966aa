package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"dapo/server/clip"
	"dapo/server/dapo"
	"dapo/server/device"
	"dapo/server/train"
	"dapo/server/weights"
	"dapo/shared/imaging"
)

func newTrainCmd() *cobra.Command {
	var (
		o                train.Options
		model, defectMap string
		c                dapo.Config
		featureLayers    []int
		depth, textDepth int
		maxPixels        int64
		localW, imageW   float64
		betas            []float64
	)
	var dev *deviceFlags
	cmd := &cobra.Command{
		Use:   "train --format FORMAT --root DIR --model DIR --out DIR",
		Short: "Learn DAPO's prompts and adapters on a labelled dataset (the backbone stays frozen)",
		Long: `Trains DAPO as the reference's train.py does: hybrid text prompts (learned
context around "flawless object" / "<defect> anomaly object"), deep text and
visual prompt tokens blended into every block, and one linear adapter per
feature layer, with the loss 1·CE(image) + 4·Σ_layers [focal + Dice(normal)
+ Dice(anomaly)] and Adam (lr 1e-3, betas 0.5/0.999). The reference trains
on MVTec-AD's test split (--split test, the default).

Defect words: MVTec and VisA use the reference's folder→class maps;
--defect-map FILE.json maps defect keys to words for other data; a dataset
whose defect folders are already words (dapo synth) needs none. Images of
anomalous items without a mask train with the image loss only.

Output (--out): epoch_<N>.safetensors after every epoch (N from 0, as the
reference), last.safetensors after every epoch, at the end and on
Ctrl-C/SIGTERM (parameters, optimizer state, data order, global step;
written atomically), train_log.jsonl (losses per step) and loss.png.
--resume continues from last.safetensors and refuses changed settings
(only --epochs and --max-steps may change); a resumed run is
tensor-for-tensor identical to an uninterrupted one.

Hyperparameters left at their defaults are fitted to the backbone: deep
prompts in every vision and text layer and feature layers at each quarter
of the depth — exactly the reference's 24/12 and 6,12,18,24 on ViT-L/14.

Target masks: --mask-mode reference casts the resized float mask to an
integer before thresholding (only pixels exactly 1.0 after the bilinear
resize count, soft edges become background), as train.py does;
--mask-mode threshold counts pixels > 0.5, as the reference's test code.

--device cuda[:N] (a build with -tags dapocuda) runs the whole step on the
GPU: both towers, the adapters and the fused loss head; only the learned
tensors, the loss values and their gradients cross the bus, and the
optimizer, checkpoints and resume are those of a CPU run. By default each
block keeps only its input for the backward and re-runs its forward there;
--full-tapes keeps all activations instead (no recomputed forward: the
same step on the CPU backend runs 30 % faster; 9× the activation memory,
some 15 GB at ViT-L/14@518, batch 8).`,
		Example: `  dapo synth --family A --n 40 --size 256 --out data/A
  dapo model init --config tiny --seed 1 --out tiny
  dapo train --format mvtec --root data/A --model tiny --image-size 70 --epochs 2 --batch 4 --out runs/a
  dapo train --format mvtec --root mvtec_ad --model ViT-L-14-336 --out runs/mvtec --device cuda   # the reference setup (CUDA build)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Format == "" || o.Root == "" || model == "" {
				return fmt.Errorf("--format, --root and --model are required")
			}
			spec, _, err := dev.spec()
			if err != nil {
				return err
			}
			if o.FullTapes && spec.Kind == device.CPU {
				return fmt.Errorf("--full-tapes needs --device cuda (the CPU step records full tapes already)")
			}
			if spec.Kind != device.CPU {
				// The whole step (towers, adapters, fused loss head) runs on
				// the device; open it before reading any data so a missing
				// GPU is reported at once. --device cpu keeps the CPU Step.
				be, release, err := dev.open()
				if err != nil {
					return err
				}
				defer release()
				o.Backend = be
			}
			if o.ModelDir, err = resolveModel(model); err != nil {
				return err
			}
			bbCfg, err := peekBackbone(o.ModelDir)
			if err != nil {
				return err
			}
			fitted, err := defaultConfigFor(bbCfg)
			if err != nil {
				return err
			}
			fl := cmd.Flags()
			c.FeatureLayers, c.Depth, c.TextDepth = fitted.FeatureLayers, fitted.Depth, fitted.TextDepth
			if fl.Changed("feature-layers") {
				c.FeatureLayers = featureLayers
			}
			if fl.Changed("depth") {
				c.Depth = depth
			}
			if fl.Changed("text-depth") {
				c.TextDepth = textDepth
			}
			if defectMap != "" {
				b, err := os.ReadFile(defectMap)
				if err != nil {
					return fmt.Errorf("read --defect-map: %w", err)
				}
				if err := json.Unmarshal(b, &o.DefectMap); err != nil {
					return fmt.Errorf("--defect-map %s must be a JSON object from defect key to word: %w", defectMap, err)
				}
			}
			if len(betas) != 2 {
				return fmt.Errorf("--betas takes two values, got %d", len(betas))
			}
			o.Betas = [2]float64{betas[0], betas[1]}
			o.Config, o.LocalWeight, o.ImageWeight = c, float32(localW), float32(imageW)
			o.Limits = imaging.Limits{MaxPixels: maxPixels}
			prog := newTrainProgress(cmd)
			o.Progress = prog.update
			path, err := train.Run(cmd.Context(), o)
			prog.finish()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "trained checkpoint: %s\n", path)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Format, "format", "", "dataset format: "+strings.Join(formatNames(), ", "))
	f.StringVar(&o.Root, "root", "", "dataset folder")
	f.StringVar(&o.Split, "split", "test", "dataset split to train on (the reference trains on MVTec's test split)")
	f.StringVar(&model, "model", "", "backbone folder or name")
	f.StringVar(&o.Out, "out", "", "output folder for checkpoints and logs")
	f.IntVar(&o.Epochs, "epochs", 5, "epochs")
	f.IntVar(&o.Batch, "batch", 8, "images per step")
	f.Float64Var(&o.LR, "lr", 1e-3, "Adam learning rate")
	f.Float64SliceVar(&betas, "betas", []float64{0.5, 0.999}, "Adam β1,β2")
	f.Float64Var(&o.Eps, "eps", 1e-8, "Adam ε")
	f.IntVar(&c.ImageSize, "image-size", 518, "input size in pixels (the positional embedding is resized)")
	f.Uint64Var(&o.Seed, "seed", 42, "seed of the initialisation and the data order")
	f.StringVar(&defectMap, "defect-map", "", "JSON object mapping defect keys to defect words")
	f.IntVar(&o.MaxSteps, "max-steps", 0, "stop after this many optimizer steps from the start of training (0: no limit)")
	f.BoolVar(&o.Resume, "resume", false, "continue the run in --out from last.safetensors")
	f.IntSliceVar(&featureLayers, "feature-layers", []int{6, 12, 18, 24}, "1-based blocks whose outputs give anomaly maps")
	f.IntVar(&depth, "depth", 24, "vision blocks that get deep visual prompts")
	f.IntVar(&c.PrefixTokenCnt, "prefix-token-cnt", 4, "deep visual prompt tokens per block")
	f.IntVar(&textDepth, "text-depth", 12, "text blocks that get deep text prompts")
	f.IntVar(&c.LayerTokenCnt, "layer-token-cnt", 4, "deep text prompt tokens per block")
	f.IntVar(&c.NormalTokenCnt, "normal-token-cnt", 5, "learned context tokens before the normal anchor")
	f.IntVar(&c.AbnormalTokenCnt, "abnormal-token-cnt", 5, "learned context tokens before each defect anchor")
	f.IntVar(&c.PromptCount, "prompt-count", 10, "independent prompt groups (averaged)")
	f.Float64Var(&c.Temperature, "temperature", 0.07, "softmax temperature of the similarities")
	f.Float64Var(&c.AlphaBlend, "alpha-blend", 0.01, "weight of the previous block's prompt output in the blend")
	f.StringVar(&c.NormalWord, "normal-word", "flawless", "normal anchor word")
	f.StringVar(&c.ClassWord, "class-word", "object", "object word of both anchors")
	f.StringVar(&c.AnomalyWord, "anomaly-word", "anomaly", "word after each defect word")
	f.StringVar(&c.TextReadout, "text-readout", dapo.ReadoutShifted, `text read-out row: "shifted" (the reference) or "eot"`)
	f.BoolVar(&c.TextCausal, "text-causal", false, "causal mask in the prompt encoder (the reference has none)")
	f.Float64Var(&localW, "local-weight", 4, "weight of the pixel losses")
	f.Float64Var(&imageW, "image-weight", 1, "weight of the image loss")
	f.StringVar(&o.MaskMode, "mask-mode", train.MaskReference, `target mask binarisation: "reference" or "threshold"`)
	f.Int64Var(&maxPixels, "max-pixels", imaging.DefaultMaxPixels, "refuse images with more pixels than this")
	f.BoolVar(&o.FullTapes, "full-tapes", false, "with --device cuda: keep every block's activations for the backward instead of recomputing them (faster, 9× the memory)")
	dev = addDeviceFlags(cmd)
	return cmd
}

// peekBackbone reads a backbone folder's config without keeping it open.
func peekBackbone(dir string) (cfgOut clip.Config, err error) {
	b, err := weights.Open(dir, weights.Options{})
	if err != nil {
		return cfgOut, err
	}
	defer b.Close()
	return b.Config, nil
}

// trainProgress shows a bar with running losses and ETA on a terminal and
// logs every tenth of the run otherwise.
type trainProgress struct {
	p    *progress
	cmd  *cobra.Command
	last time.Time
}

func newTrainProgress(cmd *cobra.Command) *trainProgress { return &trainProgress{cmd: cmd} }

func (t *trainProgress) update(p train.Progress) {
	if t.p == nil {
		t.p = newProgress(t.cmd.ErrOrStderr(), p.TotalSteps, "train")
		t.p.done = p.Step - 1
	}
	desc := fmt.Sprintf("epoch %d/%d  loss %.3f (local %.3f, image %.3f)", p.Epoch+1, p.Epochs,
		p.Losses["loss.total"], p.Losses["loss.local"], p.Losses["loss.image_ce"])
	if t.p.bar != nil {
		t.p.bar.Describe(desc)
	} else {
		// Without a terminal the log line carries the ETA the bar would show.
		eta := time.Duration(float64(p.Elapsed) / float64(max(p.Step, 1)) * float64(max(p.TotalSteps-p.Step, 0)))
		t.p.what = fmt.Sprintf("train %s  eta %s", desc, eta.Round(time.Second))
	}
	t.p.add(1)
}

func (t *trainProgress) finish() {
	if t.p != nil {
		t.p.finish()
	}
}
