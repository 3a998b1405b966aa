package inspect

import (
	"fmt"
	"path"
	"strings"
)

// Kind is what a dropped or opened file is taken to be, by its name.
type Kind int

const (
	KindUnknown Kind = iota
	KindBundle       // *.safetensors: scored locally
	KindMask         // *.mask.png / *_mask.png: ground truth for a loaded item
	KindImage        // *.png / *.jpg / *.jpeg: sent to the server to be encoded
)

// BundleSuffix is how `dapo features` names bundles.
const BundleSuffix = ".bundle.safetensors"

var maskSuffixes = []string{".mask.png", "_mask.png"}

// Classify tells the kind of a file from its name (case-insensitive).
func Classify(name string) Kind {
	n := strings.ToLower(path.Base(name))
	switch {
	case strings.HasSuffix(n, ".safetensors"):
		return KindBundle
	case maskStem(n) != "":
		return KindMask
	case strings.HasSuffix(n, ".png"), strings.HasSuffix(n, ".jpg"), strings.HasSuffix(n, ".jpeg"):
		return KindImage
	}
	return KindUnknown
}

// Stem is a file name without its folder and its known extension
// (".bundle.safetensors", ".safetensors", ".png", ".jpg", ".jpeg").
func Stem(name string) string {
	b := path.Base(strings.ReplaceAll(name, "\\", "/"))
	l := strings.ToLower(b)
	for _, suf := range []string{BundleSuffix, ".safetensors", ".png", ".jpg", ".jpeg"} {
		if strings.HasSuffix(l, suf) {
			return b[:len(b)-len(suf)]
		}
	}
	return b
}

// maskStem returns the stem of a ground-truth mask name ("" if name is not
// one): "000.mask.png" and "000_mask.png" both give "000".
func maskStem(name string) string {
	b := path.Base(name)
	l := strings.ToLower(b)
	for _, suf := range maskSuffixes {
		if strings.HasSuffix(l, suf) && len(l) > len(suf) {
			return b[:len(b)-len(suf)]
		}
	}
	return ""
}

// itemKeys are the stems a mask may be named after: the item's own name
// ("000"), its path flattened the way `dapo features` names bundles
// ("pcb_test_missing_000") and its bundle file's stem.
func itemKeys(name, bundleName string) []string {
	keys := []string{Stem(name)}
	flat := strings.Trim(strings.ReplaceAll(strings.TrimSuffix(name, path.Ext(name)), "/", "_"), "_")
	keys = append(keys, flat)
	if bundleName != "" {
		keys = append(keys, Stem(bundleName))
	}
	return keys
}

// MatchMask finds the item a dropped ground-truth mask belongs to: the one
// whose name or bundle stem equals the mask's stem. It fails when the name
// is not a mask name, when no item matches, or when several do (a bare
// "000_mask.png" with several products' "000.png" loaded).
func MatchMask(maskName string, items []*Item) (int, error) {
	stem := maskStem(maskName)
	if stem == "" {
		return -1, fmt.Errorf("%s: not a mask name (want <stem>.mask.png or <stem>_mask.png)", maskName)
	}
	found := -1
	for i, it := range items {
		for _, k := range itemKeys(it.Name, it.BundleName) {
			if strings.EqualFold(k, stem) {
				if found >= 0 && found != i {
					return -1, fmt.Errorf("%s: matches both %s and %s", maskName, items[found].Name, it.Name)
				}
				found = i
			}
		}
	}
	if found < 0 {
		return -1, fmt.Errorf("%s: no loaded item is named %s", maskName, stem)
	}
	return found, nil
}
