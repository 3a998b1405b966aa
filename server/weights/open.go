package weights

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"

	"dapo/server/clip"
)

// Options adjust how a backbone is loaded.
type Options struct {
	// ImageSize, when non-zero and different from the checkpoint's, runs
	// the vision tower at that input size: the config says so and the
	// positional embedding is resized as open_clip's resize_pos_embed does
	// (DAPO: ViT-L/14-336 at 518 px).
	ImageSize int
	// QuickGELU, when set, overrides the activation the folder implies.
	QuickGELU *bool
	// Logger receives load messages; nil means slog.Default().
	Logger *slog.Logger
	// LazyHalf leaves the four matrices of every transformer block
	// (in_proj, out_proj, c_fc, c_proj weights) of F16 and BF16
	// checkpoints in the mapped file, half-precision, to be widened per
	// block as the CPU towers run (clip.BindLazy): the process then holds
	// the file plus one block's float32 matrices, not the whole backbone
	// twice over. Their Linear.Weight is nil (see clip.Linear); code that
	// reads it directly, such as a GPU upload, must not set LazyHalf, or
	// must call Weights.Densify first. F32 tensors are used in place
	// either way.
	LazyHalf bool
}

// Backbone is a loaded CLIP backbone.
//
// The weights of F32 checkpoints are views of the memory-mapped file, not
// copies, and so are the half-precision block matrices loaded with
// Options.LazyHalf: they are read-only (writing into them faults) and
// valid only until Close. Keep the Backbone open as long as Weights is
// used.
type Backbone struct {
	// Config is the config the towers run with (after Options).
	Config clip.Config
	// Stored is the config as the folder describes it.
	Stored clip.Config
	// Weights are bound by open_clip names; see the note on Backbone.
	Weights *clip.Weights
	// Layout is the folder layout that was found.
	Layout Layout
	// Dir, ConfigFile and WeightsFile are where it was loaded from.
	Dir, ConfigFile, WeightsFile string
	// ID identifies the loaded model cheaply: a SHA-256 of the effective
	// config, the safetensors header (names, shapes, dtypes, offsets) and
	// the file size. It is meant for cache keys, not for integrity.
	ID string

	ckpt *checkpoint
}

// Open loads the backbone in dir, in any of the layouts of Layout.
func Open(dir string, opts Options) (*Backbone, error) {
	b, err := open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("load backbone %s: %w", dir, err)
	}
	return b, nil
}

func open(dir string, opts Options) (*Backbone, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	layout, configPath, weightsPath, err := detectLayout(dir)
	if err != nil {
		return nil, err
	}
	stored, err := readConfig(layout, configPath, log)
	if err != nil {
		return nil, err
	}
	cfg := stored
	if opts.QuickGELU != nil && *opts.QuickGELU != cfg.QuickGELU {
		log.Info("quick_gelu forced by option", "quick_gelu", *opts.QuickGELU, "folder_says", cfg.QuickGELU)
		cfg.QuickGELU = *opts.QuickGELU
	}
	if opts.ImageSize != 0 && opts.ImageSize != cfg.Vision.ImageSize {
		if cfg, err = cfg.WithImageSize(opts.ImageSize); err != nil {
			return nil, fmt.Errorf("image size %d: %w", opts.ImageSize, err)
		}
		log.Info("resizing the vision positional embedding", "from_grid", stored.Grid(), "to_grid", cfg.Grid(), "image_size", cfg.Vision.ImageSize)
	}

	ck, err := openCheckpoint(weightsPath)
	if err != nil {
		return nil, err
	}
	var src clip.TensorSource = ck.tensor
	var lazy clip.LazySource
	if opts.LazyHalf {
		lazy = halfSource(ck)
	}
	if layout == LayoutHF {
		src = hfSource(ck)
		if opts.LazyHalf {
			lazy = hfHalfSource(ck)
		}
	}
	if cfg.Grid() != stored.Grid() {
		src = resizedPosEmbed(src, stored, cfg)
	}
	w, bindErr := clip.BindLazy(cfg, src, lazy)
	if err := errors.Join(bindErr, checkExtra(ck, layout, log)); err != nil {
		ck.close()
		return nil, err
	}
	return &Backbone{
		Config: cfg, Stored: stored, Weights: w, Layout: layout,
		Dir: dir, ConfigFile: configPath, WeightsFile: weightsPath,
		ID: identity(cfg, ck), ckpt: ck,
	}, nil
}

// Close unmaps the weights file. The Weights must not be used afterwards.
// Close is idempotent.
func (b *Backbone) Close() error {
	if b == nil || b.ckpt == nil {
		return nil
	}
	err := b.ckpt.close()
	b.ckpt = nil
	return err
}

func readConfig(layout Layout, path string, log *slog.Logger) (clip.Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return clip.Config{}, err
	}
	var cfg clip.Config
	switch layout {
	case LayoutHF:
		cfg, err = parseHFConfig(raw)
	case LayoutOpenCLIPHub:
		var act activationChoice
		cfg, act, err = parseHubConfig(raw, provenance(filepath.Dir(path)))
		if err == nil {
			level := slog.LevelInfo
			if act.doubtful {
				level = slog.LevelWarn
			}
			log.Log(context.Background(), level, "open_clip hub config: activation decided", "quick_gelu", act.quickGELU, "reason", act.reason)
		}
	default:
		cfg, err = clip.ParseConfig(raw)
	}
	if err != nil {
		return clip.Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

const posEmbedName = "visual.positional_embedding"

// resizedPosEmbed serves the positional embedding at the new grid from the
// checkpoint's, and every other tensor unchanged.
func resizedPosEmbed(src clip.TensorSource, from, to clip.Config) clip.TensorSource {
	return func(name string, shape []int) ([]float32, error) {
		if name != posEmbedName {
			return src(name, shape)
		}
		g, w := from.Grid(), from.Vision.Width
		pe, err := src(name, []int{g*g + 1, w})
		if err != nil {
			return nil, err
		}
		return ResizePosEmbed(pe, g, to.Grid(), w), nil
	}
}

// checkExtra logs tensors nobody asked for and refuses known open_clip
// extensions this implementation does not compute.
func checkExtra(ck *checkpoint, layout Layout, log *slog.Logger) error {
	var refused []string
	for _, n := range ck.unused() {
		if _, bad := nonStandardFeature(n); bad && layout != LayoutHF {
			refused = append(refused, n)
			continue
		}
		log.Debug("ignoring extra tensor", "tensor", n, "file", ck.path)
	}
	if len(refused) > 0 {
		return describeNonStandard(refused)
	}
	return nil
}

func identity(cfg clip.Config, ck *checkpoint) string {
	h := sha256.New()
	h.Write(cfg.JSON())
	h.Write(ck.header)
	h.Write([]byte(strconv.FormatInt(ck.size, 10)))
	return hex.EncodeToString(h.Sum(nil))
}
