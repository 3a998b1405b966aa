package cli

import (
	"fmt"
	"os"

	"dapo/server/hub"
	"dapo/server/weights"
)

// openBackbone resolves --model and loads it, at imageSize when non-zero.
func openBackbone(model string, imageSize int) (*weights.Backbone, error) {
	dir, err := resolveModel(model)
	if err != nil {
		return nil, err
	}
	return weights.Open(dir, weights.Options{ImageSize: imageSize})
}

// resolveModel turns --model (a folder, or a name fetched with 'dapo
// weights pull') into a backbone folder.
func resolveModel(model string) (string, error) {
	if model == "" {
		return "", fmt.Errorf("--model is required: a backbone folder, or a name fetched with 'dapo weights pull NAME' (or made with 'dapo model init')")
	}
	cache, err := hub.CacheDir()
	if err != nil {
		return "", err
	}
	// A known name may be typed in any case or as an alias; the cache
	// folder uses the canonical name 'weights pull' wrote.
	if st, err := os.Stat(model); err != nil || !st.IsDir() {
		if m, err := hub.Lookup(model); err == nil {
			model = m.Name
		}
	}
	return weights.Resolve(model, cache)
}
