package inspect

import (
	"fmt"
	"net/url"

	"dapo/shared/gallery"
)

// IndexEntry is one gallery item, its paths resolved against the index URL.
type IndexEntry struct {
	Name      string // display name, e.g. "pcb/test/missing/000.png"
	BundleURL string
	MaskURL   string // "" when the item has no ground truth
}

// ParseIndex reads gallery/index.json (format: shared/gallery, written by
// `dapo features`) and resolves its paths against indexURL. gallery.Parse
// refuses paths that leave the folder, so the app is never pointed at
// another origin.
func ParseIndex(data []byte, indexURL string) ([]IndexEntry, error) {
	ix, err := gallery.Parse(data)
	if err != nil {
		return nil, err
	}
	base, err := url.Parse(indexURL)
	if err != nil {
		return nil, fmt.Errorf("gallery index URL %q: %w", indexURL, err)
	}
	out := make([]IndexEntry, 0, len(ix.Items))
	for i, it := range ix.Items {
		e := IndexEntry{Name: it.Name}
		if e.Name == "" {
			e.Name = it.Bundle
		}
		if e.BundleURL, err = resolve(base, it.Bundle); err != nil {
			return nil, fmt.Errorf("gallery index: item %d bundle: %w", i, err)
		}
		if it.Mask != "" {
			if e.MaskURL, err = resolve(base, it.Mask); err != nil {
				return nil, fmt.Errorf("gallery index: item %d mask: %w", i, err)
			}
		}
		out = append(out, e)
	}
	return out, nil
}

func resolve(base *url.URL, ref string) (string, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("%q: %w", ref, err)
	}
	return base.ResolveReference(u).String(), nil
}
