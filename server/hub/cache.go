package hub

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// CacheDir is where pulled backbones live: $DAPO_CACHE if set, else
// $XDG_CACHE_HOME/dapo, else ~/.cache/dapo.
func CacheDir() (string, error) {
	if d := os.Getenv("DAPO_CACHE"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "dapo"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cache dir: set DAPO_CACHE or XDG_CACHE_HOME: %w", err)
	}
	return filepath.Join(home, ".cache", "dapo"), nil
}

// ModelDir is the folder of backbone name inside cache.
func ModelDir(cache, name string) string {
	return filepath.Join(cache, "models", name)
}

// CachedModelDir resolves a backbone name (or alias) to its folder in the
// default cache, failing when the hub files have not been pulled there. It
// lets `--model NAME` find what `dapo weights pull NAME` fetched.
func CachedModelDir(name string) (string, error) {
	m, err := Lookup(name)
	if err != nil {
		return "", err
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	dir := ModelDir(cache, m.Name)
	for _, f := range HubFiles() {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return "", fmt.Errorf("backbone %s is not in %s: run 'dapo weights pull %s'", m.Name, dir, m.Name)
			}
			return "", fmt.Errorf("backbone %s: %w", m.Name, err)
		}
	}
	return dir, nil
}
