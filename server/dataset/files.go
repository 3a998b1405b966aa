package dataset

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// isDir follows symlinks, as datasets are often linked into place.
func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// subdirs lists the visible sub-folders of dir, sorted.
func subdirs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if e.IsDir() || (e.Type()&fs.ModeSymlink != 0 && isDir(filepath.Join(dir, e.Name()))) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// imageFiles lists the image files of dir, sorted; other files are skipped.
func imageFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if isImage(e.Name()) && !e.IsDir() && !isDir(filepath.Join(dir, e.Name())) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// fileSet returns the names in dir; a missing dir is an empty set, since
// whether a mask is required is the caller's decision.
func fileSet(dir string) (map[string]bool, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(entries))
	for _, e := range entries {
		out[e.Name()] = true
	}
	return out, nil
}

// cleanRel normalises a relative path from a CSV or JSON for lookups.
func cleanRel(p string) string {
	p = strings.ReplaceAll(p, "\\", "/")
	if p == "" {
		return ""
	}
	return path.Clean(p)
}

// resolve turns a path from a listing into a file path: relative paths are
// taken from root, absolute ones are kept.
func resolve(root, p string) string {
	p = filepath.FromSlash(strings.ReplaceAll(p, "\\", "/"))
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(root, p)
}

// checkFiles makes sure every image and mask a listing names exists, so a
// bad listing fails at load time and names the missing file.
func checkFiles(format, listing string, items []Item) error {
	for _, it := range items {
		for _, p := range []string{it.ImagePath, it.MaskPath} {
			if p == "" {
				continue
			}
			if _, err := os.Stat(p); err != nil {
				return layoutErr(format, p, "listed in %s but not readable: %v", listing, err)
			}
		}
	}
	return nil
}
