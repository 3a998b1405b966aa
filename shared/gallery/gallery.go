// Package gallery reads and writes the index of a folder of feature
// bundles (index.json), which the browser app loads as its gallery: each
// item names a bundle and, optionally, a ground-truth mask PNG, by paths
// relative to the index.
package gallery

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
)

// Version is the index format version written; readers accept it only.
const Version = 1

// FileName is the index's name inside a bundle folder.
const FileName = "index.json"

// Item is one image of the gallery.
type Item struct {
	Name   string `json:"name"`           // source image, for display
	Bundle string `json:"bundle"`         // bundle file, relative to the index
	Mask   string `json:"mask,omitempty"` // ground-truth mask PNG, relative; white = defect
	// Source identifies the source image (a hash of its absolute path,
	// not the path itself), so a later run into the same folder knows
	// whether a bundle name it wants is already another image's.
	Source string `json:"source,omitempty"`
}

// Index lists a folder's bundles.
type Index struct {
	Version int    `json:"version"`
	Items   []Item `json:"items"`
}

// Parse reads an index and checks that every path stays inside the
// folder, so a page or a server following it cannot be sent elsewhere.
func Parse(data []byte) (*Index, error) {
	var ix Index
	if err := json.Unmarshal(data, &ix); err != nil {
		return nil, fmt.Errorf("gallery index: %w", err)
	}
	if ix.Version != Version {
		return nil, fmt.Errorf("gallery index: version %d, this build reads %d", ix.Version, Version)
	}
	for i, it := range ix.Items {
		if it.Bundle == "" {
			return nil, fmt.Errorf("gallery index: item %d has no bundle", i)
		}
		for _, p := range []string{it.Bundle, it.Mask} {
			if p != "" && !local(p) {
				return nil, fmt.Errorf("gallery index: item %d: path %q leaves the folder", i, p)
			}
		}
	}
	return &ix, nil
}

func local(p string) bool {
	c := path.Clean(p)
	return !path.IsAbs(c) && c != ".." && !strings.HasPrefix(c, "../") && !strings.Contains(p, "\\") && !strings.Contains(p, "://")
}

// Merge adds items to the index, replacing items with the same bundle,
// and keeps the list sorted by bundle name so rewrites are stable.
func (ix *Index) Merge(items ...Item) error {
	for _, it := range items {
		if it.Bundle == "" || !local(it.Bundle) || (it.Mask != "" && !local(it.Mask)) {
			return errors.New("gallery index: item paths must be relative and inside the folder")
		}
		replaced := false
		for i := range ix.Items {
			if ix.Items[i].Bundle == it.Bundle {
				ix.Items[i], replaced = it, true
			}
		}
		if !replaced {
			ix.Items = append(ix.Items, it)
		}
	}
	sort.Slice(ix.Items, func(i, j int) bool { return ix.Items[i].Bundle < ix.Items[j].Bundle })
	return nil
}

// Encode writes the index as indented JSON.
func (ix *Index) Encode() ([]byte, error) {
	ix.Version = Version
	if ix.Items == nil {
		ix.Items = []Item{}
	}
	b, err := json.MarshalIndent(ix, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
