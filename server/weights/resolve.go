package weights

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Resolve turns a --model value into a backbone folder: an existing
// directory is used as is; anything else is a model NAME looked up as
// <cacheDir>/models/<NAME>, where 'dapo weights pull NAME' puts it.
func Resolve(model, cacheDir string) (string, error) {
	if model == "" {
		return "", fmt.Errorf("no model given: pass --model with a backbone folder or a model name")
	}
	if st, err := os.Stat(model); err == nil {
		if !st.IsDir() {
			return "", fmt.Errorf("model %s is a file; pass the folder that holds the backbone", model)
		}
		return model, nil
	}
	if looksLikePath(model) {
		return "", fmt.Errorf("model folder %s does not exist", model)
	}
	if cacheDir == "" {
		return "", fmt.Errorf("model %q: no such folder, and no cache folder is configured to look it up by name", model)
	}
	dir := filepath.Join(cacheDir, "models", filepath.FromSlash(model))
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return dir, nil
	}
	return "", fmt.Errorf("model %q: no such folder, and not fetched yet (looked in %s); run 'dapo weights pull %s' or pass --model with a backbone folder", model, dir, model)
}

// looksLikePath tells a path the user typed from a model name: names stay
// inside the cache folder.
func looksLikePath(s string) bool {
	return filepath.IsAbs(s) || !filepath.IsLocal(s) || strings.HasPrefix(s, ".") || strings.HasSuffix(s, string(filepath.Separator))
}
