package weights

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Layout names how a backbone folder is organised.
type Layout string

// The folder layouts Open understands, tried in this order.
const (
	// LayoutProject is this project's own: model_config.json (open_clip's
	// config schema) and backbone.safetensors with open_clip tensor names.
	LayoutProject Layout = "dapo"
	// LayoutOpenCLIPHub is open_clip's Hugging Face hub layout:
	// open_clip_config.json (model_cfg, preprocess_cfg) and
	// open_clip_model.safetensors with open_clip names.
	LayoutOpenCLIPHub Layout = "open_clip-hub"
	// LayoutHF is a Hugging Face transformers CLIPModel: config.json and
	// model.safetensors with transformers names (see hf.go for the mapping).
	LayoutHF Layout = "hf-transformers"
)

type layoutFiles struct {
	layout          Layout
	config, weights string
	// unreadable are other weight files of the layout this loader cannot
	// use; their presence makes the error say so.
	unreadable []string
}

var layouts = []layoutFiles{
	{LayoutProject, "model_config.json", "backbone.safetensors", nil},
	{LayoutOpenCLIPHub, "open_clip_config.json", "open_clip_model.safetensors", []string{"open_clip_pytorch_model.bin"}},
	{LayoutHF, "config.json", "model.safetensors", []string{"model.safetensors.index.json", "pytorch_model.bin"}},
}

// detectLayout finds the first complete layout in dir and returns the
// paths of its config and weights files.
func detectLayout(dir string) (layout Layout, config, weights string, err error) {
	st, err := os.Stat(dir)
	if err != nil {
		return "", "", "", err
	}
	if !st.IsDir() {
		return "", "", "", fmt.Errorf("%s is not a folder", dir)
	}
	var partial []string
	for _, l := range layouts {
		c, w := filepath.Join(dir, l.config), filepath.Join(dir, l.weights)
		hasC, hasW := isFile(c), isFile(w)
		if hasC && hasW {
			return l.layout, c, w, nil
		}
		if !hasC {
			continue
		}
		msg := fmt.Sprintf("%s has %s but no %s", l.layout, l.config, l.weights)
		for _, u := range l.unreadable {
			if isFile(filepath.Join(dir, u)) {
				msg += fmt.Sprintf(" (found %s, which this loader cannot read: it needs a single safetensors file)", u)
			}
		}
		partial = append(partial, msg)
	}
	if len(partial) > 0 {
		return "", "", "", errors.New("incomplete backbone folder: " + strings.Join(partial, "; "))
	}
	var want []string
	for _, l := range layouts {
		want = append(want, l.config+" + "+l.weights)
	}
	return "", "", "", fmt.Errorf("not a backbone folder: expected one of %s", strings.Join(want, ", "))
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
