// Package datasettest gives tests the team folder's real MVTec sample and
// counts its files independently of the dataset loaders, so loader and CLI
// tests compare against the disk rather than against the loader itself.
package datasettest

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// EnvVar names a folder to use instead of ../shared/data/mvtec-mini.
const EnvVar = "DAPO_MVTEC_MINI"

// MVTecMini returns the path of the mvtec-mini sample: $DAPO_MVTEC_MINI, or
// the team folder beside the checkout (found by walking up to go.mod). The
// test is skipped when the folder is absent and not named explicitly.
func MVTecMini(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(EnvVar)
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				dir = filepath.Join(d, "..", "shared", "data", "mvtec-mini")
				break
			}
			if filepath.Dir(d) == d {
				t.Fatalf("no go.mod above %s", wd)
			}
		}
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		if os.Getenv(EnvVar) != "" {
			t.Fatalf("%s=%s is not a folder: %v", EnvVar, dir, err)
		}
		t.Skipf("no mvtec-mini at %s (set %s)", dir, EnvVar)
	}
	return dir
}

// TreeCounts holds counts of an MVTec-layout tree, product → split →
// defect folder → number.
type TreeCounts struct {
	Images map[string]map[string]map[string]int
	// Masks counts <product>/ground_truth/<defect>/*_mask.png files,
	// product → defect → number.
	Masks map[string]map[string]int
}

// WalkMVTec counts the images (.png/.jpg/.jpeg/.bmp/.tif/.tiff) at depth
// <product>/<train|test>/<defect>/<file> and the masks at
// <product>/ground_truth/<defect>/<file>_mask.png with filepath.WalkDir.
func WalkMVTec(t testing.TB, root string) TreeCounts {
	t.Helper()
	c := TreeCounts{Images: map[string]map[string]map[string]int{}, Masks: map[string]map[string]int{}}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if len(parts) != 4 {
			return nil
		}
		product, split, defect, name := parts[0], parts[1], parts[2], parts[3]
		switch {
		case split == "ground_truth" && strings.HasSuffix(name, "_mask.png"):
			if c.Masks[product] == nil {
				c.Masks[product] = map[string]int{}
			}
			c.Masks[product][defect]++
		case (split == "train" || split == "test") && isImageName(name):
			if c.Images[product] == nil {
				c.Images[product] = map[string]map[string]int{}
			}
			if c.Images[product][split] == nil {
				c.Images[product][split] = map[string]int{}
			}
			c.Images[product][split][defect]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func isImageName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff":
		return !strings.HasPrefix(name, ".")
	}
	return false
}
