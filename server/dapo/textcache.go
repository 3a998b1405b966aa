package dapo

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"

	"dapo/server/clip"
	"dapo/shared/safetensors"
	"dapo/shared/tokenizer"
)

// TextCache stores class text features on disk, keyed by everything they
// depend on: the learned text parameters, the config, the backbone identity
// and the class words. The text tower is the expensive part of inference
// for a large vocabulary (ViT-L: 21 classes × 10 groups × 81 tokens), and
// its result never depends on the image.
type TextCache struct {
	Dir string // "" disables caching
}

// Features returns the normalised class features [(1+S), E] for c.Defects,
// computing and storing them when they are not cached.
func (tc TextCache) Features(ctx context.Context, c Config, w *clip.Weights, backboneID string, p *Params) ([]float32, error) {
	key := textKey(c, backboneID, p, w.Config)
	path := ""
	if tc.Dir != "" {
		path = filepath.Join(tc.Dir, "text-"+key+".safetensors")
		if v, err := readCached(path, 1+len(c.Defects), w.Config.EmbedDim); err == nil {
			slog.Debug("text features from cache", "path", path)
			return v, nil
		}
	}
	tok, err := tokenizer.New()
	if err != nil {
		return nil, err
	}
	ids, err := c.TemplateIDs(tok, w.Config.Text.ContextLength)
	if err != nil {
		return nil, err
	}
	tf, err := EncodeText(ctx, c, clip.NewText(w), p, ids, nil)
	if err != nil {
		return nil, fmt.Errorf("encode class prompts: %w", err)
	}
	if path != "" {
		if err := os.MkdirAll(tc.Dir, 0o755); err == nil {
			shape := []int{1 + len(c.Defects), w.Config.EmbedDim}
			werr := writeAtomic(path, func(f *os.File) error {
				return safetensors.Write(f, []safetensors.Tensor{safetensors.FromFloat32("text.features", shape, tf.Features, safetensors.F32)}, nil)
			})
			if werr != nil {
				slog.Warn("could not cache text features", "err", werr)
			}
		}
	}
	return tf.Features, nil
}

func readCached(path string, rows, e int) ([]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := safetensors.Parse(b)
	if err != nil {
		return nil, err
	}
	v, shape, err := f.Float32("text.features")
	if err != nil {
		return nil, err
	}
	if !slices.Equal(shape, []int{rows, e}) {
		return nil, fmt.Errorf("cached shape %v", shape)
	}
	return v, nil
}

// textKey hashes what the text features depend on.
func textKey(c Config, backboneID string, p *Params, bb clip.Config) string {
	h := sha256.New()
	cfg, _ := json.Marshal(c)
	h.Write(cfg)
	h.Write([]byte(backboneID))
	bbj, _ := json.Marshal(bb)
	h.Write(bbj)
	var buf [4]byte
	for _, t := range append([][]float32{p.NormalCtx, p.AbnormalCtx}, p.TextDeep...) {
		for _, v := range t {
			binary.LittleEndian.PutUint32(buf[:], math.Float32bits(v))
			h.Write(buf[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}
