// Package dataset lists the images, masks and defect labels of the anomaly
// detection benchmarks DAPO is trained and evaluated on (spec §5.5), from
// their released folder layouts or from the reference's meta.json files.
//
// A loader only lists files and labels; it decodes no pixels. Every format
// fails with a *LayoutError naming the offending file or folder when the
// layout is malformed: a required folder, CSV or JSON missing, a CSV row with
// the wrong column count, unparsable JSON, an anomalous image without the
// mask its format requires, or a listed file that does not exist.
//
// Items come back sorted by product, split, defect key and image path, so
// two loads of one tree give the same order. Image and mask paths are root
// joined with the path the layout gives (relative when root is relative).
package dataset

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
)

// Item is one image of a dataset.
type Item struct {
	ImagePath string
	// MaskPath is the ground-truth mask, "" if the image has none.
	MaskPath string
	Product  string
	// DefectKey is the defect folder name; for VisA the image_anno.csv label
	// (kept whole when it lists several defects); "good" for normal images.
	DefectKey string
	Anomalous bool
	// Split is "train" or "test"; formats without splits use "test".
	Split string
}

// Splits a loader assigns.
const (
	SplitTrain = "train"
	SplitTest  = "test"
)

// GoodKey is the DefectKey of every normal image, whatever the format calls
// it ("good", "normal", "OK").
const GoodKey = "good"

// Dataset is a loaded dataset.
type Dataset struct {
	Format string
	Root   string
	Items  []Item
}

// Format describes one --format value.
type Format struct {
	Name   string
	Layout string
}

// ErrUnknownFormat is wrapped by Load's error for a format it does not know.
var ErrUnknownFormat = errors.New("unknown dataset format")

// loaders maps each format to its loader; a function, not a package
// variable, so the table cannot be changed from outside.
func loaders() map[string]func(root string) ([]Item, error) {
	return map[string]func(string) ([]Item, error){
		"mvtec":    func(r string) ([]Item, error) { return loadTree(r, mvtecLayout("mvtec")) },
		"mpdd":     func(r string) ([]Item, error) { return loadTree(r, mvtecLayout("mpdd")) },
		"visa":     loadVisA,
		"mad-sim":  func(r string) ([]Item, error) { return loadTree(r, madLayout("mad-sim")) },
		"mad-real": func(r string) ([]Item, error) { return loadTree(r, madLayout("mad-real")) },
		"real-iad": loadRealIAD,
		"meta":     loadMeta,
		"folder":   loadFolder,
	}
}

// Formats lists the formats Load reads, with the layout each expects.
func Formats() []Format {
	return []Format{
		{"mvtec", "<product>/{train,test}/<defect>/*.png, masks <product>/ground_truth/<defect>/<name>_mask.png (required for defects)"},
		{"mpdd", "same layout as mvtec"},
		{"visa", "split_csv/1cls.csv (object,split,label,image,mask) plus <product>/image_anno.csv (image,label,mask) for defect labels"},
		{"mad-sim", "<NN><Toy>/{train,test}/<defect>/*.png, masks <NN><Toy>/ground_truth/<defect>/<name>_mask.png; product = toy name without the number"},
		{"mad-real", "<Toy>/{train,test}/<defect>/*.jpg, masks <Toy>/ground_truth/<defect>/<name>.png"},
		{"real-iad", "realiad_jsons/<product>.json ({meta,train,test}), images under realiad_1024/ (or realiad_512, realiad_256, realiad_raw, or the root)"},
		{"meta", "meta.json of the reference: {train|test: {product: [entry]}} or flat {product: [entry]}; images relative to root"},
		{"folder", "one product: <root>/good/ and <root>/<defect>/ images; optional masks <root>/masks/<defect>/<name>.png or <name>_mask.png beside the image; split test"},
	}
}

// Load reads the dataset at root in the given format.
func Load(format, root string) (*Dataset, error) {
	name := strings.ToLower(strings.TrimSpace(format))
	load, ok := loaders()[name]
	if !ok {
		names := make([]string, 0, len(Formats()))
		for _, f := range Formats() {
			names = append(names, f.Name)
		}
		return nil, fmt.Errorf("dataset: %w %q (formats: %s)", ErrUnknownFormat, format, strings.Join(names, ", "))
	}
	if root == "" {
		return nil, errors.New("dataset: no root folder given")
	}
	items, err := load(root)
	if err != nil {
		return nil, err
	}
	sortItems(items)
	return &Dataset{Format: name, Root: root, Items: items}, nil
}

func sortItems(items []Item) {
	slices.SortFunc(items, func(a, b Item) int {
		return cmpStrings(a.Product, b.Product, a.Split, b.Split, a.DefectKey, b.DefectKey, a.ImagePath, b.ImagePath)
	})
}

// cmpStrings compares pairs (a0,b0), (a1,b1), … lexicographically.
func cmpStrings(pairs ...string) int {
	for i := 0; i+1 < len(pairs); i += 2 {
		if c := strings.Compare(pairs[i], pairs[i+1]); c != 0 {
			return c
		}
	}
	return 0
}

// Products lists the dataset's products, sorted.
func (d *Dataset) Products() []string {
	var out []string
	for _, it := range d.Items {
		out = append(out, it.Product)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Filter returns the items of one split as a new Dataset; the items are
// copied, so the two datasets do not share a backing array.
func (d *Dataset) Filter(split string) *Dataset {
	out := &Dataset{Format: d.Format, Root: d.Root}
	for _, it := range d.Items {
		if it.Split == split {
			out.Items = append(out.Items, it)
		}
	}
	return out
}

// ByProduct groups the items by product, each group in dataset order.
func (d *Dataset) ByProduct() map[string][]Item {
	out := map[string][]Item{}
	for _, it := range d.Items {
		out[it.Product] = append(out[it.Product], it)
	}
	return out
}

// LayoutError reports a malformed dataset layout at Path.
type LayoutError struct {
	Format string
	Path   string
	Err    error
}

func (e *LayoutError) Error() string {
	// Do not repeat the path an *fs.PathError already carries.
	var pe *fs.PathError
	if errors.As(e.Err, &pe) && pe.Path == e.Path {
		return fmt.Sprintf("%s dataset: %s: %s: %v", e.Format, e.Path, pe.Op, pe.Err)
	}
	return fmt.Sprintf("%s dataset: %s: %v", e.Format, e.Path, e.Err)
}

func (e *LayoutError) Unwrap() error { return e.Err }

func layoutErr(format, path, msg string, args ...any) error {
	return &LayoutError{Format: format, Path: path, Err: fmt.Errorf(msg, args...)}
}

// isImage says whether a loader that walks folders takes a file as an
// image; everything else (readme.txt, license.txt, .DS_Store, …) is skipped.
func isImage(name string) bool {
	if strings.HasPrefix(name, ".") {
		return false
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff":
		return true
	}
	return false
}

func stem(name string) string { return strings.TrimSuffix(name, filepath.Ext(name)) }
