package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"dapo/shared/gallery"
)

// bundleSuffix ends every bundle file name dapo features writes.
const bundleSuffix = ".bundle.safetensors"

// groundTruthFor finds an image's ground-truth mask by the conventions of
// the dataset layouts dapo reads: MVTec's <root>/<product>/ground_truth/
// <type>/<stem>_mask.png beside test/<type>/<stem>.png, VisA-style
// <stem>_mask.png or <stem>.mask.png next to the image. "" when none.
func groundTruthFor(image string) string {
	dir, base := filepath.Split(image)
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	candidates := []string{
		filepath.Join(dir, stem+"_mask.png"),
		filepath.Join(dir, stem+".mask.png"),
	}
	typeDir := filepath.Clean(dir)
	if split := filepath.Dir(typeDir); filepath.Base(split) == "test" {
		candidates = append([]string{filepath.Join(filepath.Dir(split), "ground_truth", filepath.Base(typeDir), stem+"_mask.png")}, candidates...)
	}
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() {
			return c
		}
	}
	return ""
}

// sourceID identifies an image file by a hash of its absolute path: stable
// across runs, without putting local paths into a folder meant for the web.
func sourceID(file string) string {
	abs, err := filepath.Abs(file)
	if err != nil {
		abs = file
	}
	sum := sha256.Sum256([]byte(filepath.ToSlash(abs)))
	return hex.EncodeToString(sum[:8])
}

// displayNames names each image for the gallery by its path below the
// deepest folder all of them share ("pcb/test/crack/000.png" rather than
// "/data/B/pcb/test/crack/000.png"); a single image keeps its base name.
func displayNames(files []string) []string {
	parts := make([][]string, len(files))
	common := -1
	for i, f := range files {
		parts[i] = strings.Split(filepath.ToSlash(filepath.Clean(f)), "/")
		dirs := parts[i][:len(parts[i])-1]
		if common < 0 || len(dirs) < common {
			common = len(dirs)
		}
		for k := 0; k < common && k < len(dirs); k++ {
			if dirs[k] != parts[0][k] {
				common = k
				break
			}
		}
	}
	names := make([]string, len(files))
	for i, p := range parts {
		names[i] = strings.Join(p[max(common, 0):], "/")
	}
	return names
}

// copyFile copies src to dst through a temporary file, so an interrupted
// copy never leaves a truncated mask behind.
func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// readGalleryIndex returns the folder's index, or an empty one.
func readGalleryIndex(dir string) (*gallery.Index, error) {
	path := filepath.Join(dir, gallery.FileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &gallery.Index{}, nil
	} else if err != nil {
		return nil, err
	}
	ix, err := gallery.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (move it away to start a new index)", path, err)
	}
	return ix, nil
}

// avoidEarlierBundles renames outputs whose bundle name an earlier run
// into the same folder used for a different image (MVTec names every
// product's images 000.png…), so that image's bundle is not overwritten:
// the name gets a numeric suffix.
func avoidEarlierBundles(names, files []string, ix *gallery.Index) {
	taken := map[string]string{}
	for _, it := range ix.Items {
		taken[it.Bundle] = it.Source
	}
	for i, n := range names {
		src := sourceID(files[i])
		name := n
		for k := 2; ; k++ {
			prev, ok := taken[name+bundleSuffix]
			if !ok || prev == src {
				break
			}
			name = fmt.Sprintf("%s-%d", n, k)
		}
		names[i] = name
		taken[name+bundleSuffix] = src
	}
}

// writeGalleryIndex merges the written bundles into the folder's
// index.json (the browser app's gallery), keeping items of earlier runs.
func writeGalleryIndex(dir string, ix *gallery.Index, items []gallery.Item) error {
	path := filepath.Join(dir, gallery.FileName)
	if err := ix.Merge(items...); err != nil {
		return err
	}
	data, err := ix.Encode()
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
