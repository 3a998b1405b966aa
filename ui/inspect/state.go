package inspect

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"dapo/shared/bundle"
	"dapo/wasm/scoreapi"
)

// Item is one loaded image: its bundle, optional ground truth and the
// latest scoring result.
type Item struct {
	Name       string // display name (gallery name or file name)
	BundleName string // bundle file name, for mask matching and exports
	Bundle     []byte
	Meta       bundle.Meta
	JPEG       []byte  // the bundle's thumbnail, nil without one
	GT         []uint8 // ground truth at S×S (0/1), nil without one
	GTName     string
	Result     *scoreapi.Result
	Err        error // the last scoring error

	scoredWith string // options key of Result, to skip needless re-scoring
	base       *baseCache
}

// NewItem decodes a bundle (to read its metadata and thumbnail) and makes
// an unscored item.
func NewItem(name, bundleName string, data []byte) (*Item, error) {
	b, err := bundle.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", bundleName, err)
	}
	if name == "" {
		name = b.Meta.Image.Name
	}
	if name == "" {
		name = bundleName
	}
	return &Item{Name: name, BundleName: bundleName, Bundle: data, Meta: b.Meta, JPEG: b.JPEG}, nil
}

// Size is the side of the item's maps (the bundle's image_size).
func (it *Item) Size() int { return it.Meta.ImageSize }

// Layers is the number of feature layers: anomaly maps lie in [0, Layers].
func (it *Item) Layers() int { return len(it.Meta.FeatureLayers) }

// Defects are the item's defect classes (all classes but "normal").
func (it *Item) Defects() []string { return it.Meta.Classes[1:] }

// SetGT attaches a ground-truth mask image (any size; scaled to S×S).
func (it *Item) SetGT(name string, png []byte) error {
	m, err := DecodeMask(png, it.Size())
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	it.GT, it.GTName = m, name
	return nil
}

// Settings are the user's choices that apply to every item.
type Settings struct {
	// PixelThreshold for the mask; 0 means each bundle's default (half its
	// number of layers).
	PixelThreshold float64
	ImageThreshold float64
	Colormap       string
	Alpha          float64 // heatmap opacity over the image
	// Disabled defect types are left out of scoring (scoreapi's subset).
	Disabled map[string]bool
}

// DefaultSettings are the app's start values.
func DefaultSettings() Settings {
	return Settings{ImageThreshold: 0.5, Colormap: "jet", Alpha: 0.5, Disabled: map[string]bool{}}
}

// Options are the scoreapi options for it. Colormap and images are left
// out: the app composes its own view (Compose) and encodes the mask PNG
// only on export, so a threshold move re-scores without PNG encoding.
func (s Settings) Options(it *Item) (scoreapi.Options, error) {
	it0 := s.ImageThreshold
	alpha := 0.0
	o := scoreapi.Options{ImageThreshold: &it0, Alpha: &alpha, NoImages: true}
	if s.PixelThreshold > 0 {
		pt := s.PixelThreshold
		o.PixelThreshold = &pt
	}
	var subset []string
	for _, d := range it.Defects() {
		if !s.Disabled[d] {
			subset = append(subset, d)
		}
	}
	switch {
	case len(subset) == 0:
		return o, fmt.Errorf("%s: every defect type is switched off", it.Name)
	case len(subset) < len(it.Defects()):
		o.Subset = subset // all enabled: no subset, the plain (faster) path
	}
	return o, nil
}

func optionsKey(o scoreapi.Options) string {
	pt := "default"
	if o.PixelThreshold != nil {
		pt = fmt.Sprint(*o.PixelThreshold)
	}
	return fmt.Sprintf("%s|%v|%s", pt, *o.ImageThreshold, strings.Join(o.Subset, ","))
}

// Score (re-)scores it with s unless its result already reflects s. It
// reports whether it scored; a failure is kept in it.Err as well.
func (s Settings) Score(it *Item) (bool, error) {
	o, err := s.Options(it)
	if err == nil {
		key := optionsKey(o)
		if it.Result != nil && it.scoredWith == key {
			return false, nil
		}
		var r *scoreapi.Result
		if r, err = scoreapi.Score(it.Bundle, o); err == nil {
			it.Result, it.scoredWith, it.Err = r, key, nil
			return true, nil
		}
	}
	it.Err = err
	return false, err
}

// Sorted returns the items in gallery order: scored items by score,
// highest first, then the ones without a score; ties by name.
func Sorted(items []*Item) []*Item {
	out := slices.Clone(items)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.Result == nil) != (b.Result == nil) {
			return a.Result != nil
		}
		if a.Result != nil && a.Result.Score != b.Result.Score {
			return a.Result.Score > b.Result.Score
		}
		return a.Name < b.Name
	})
	return out
}
