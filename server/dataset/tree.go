package dataset

import (
	"log/slog"
	"path/filepath"
)

// treeLayout is the MVTec-AD folder tree that MPDD and both MAD variants
// share: <product>/{train,test}/<defect>/<image> with masks in
// <product>/ground_truth/<defect>/. The formats differ only in how a
// product folder is named and how a mask file is named.
type treeLayout struct {
	format  string
	product func(folder string) string
	// masks lists the mask names to try for an image stem; the first is the
	// one the format documents and the one an error names.
	masks func(stem string) []string
}

// loadTree reads every product folder under root. A root that itself has a
// test/ folder is taken as a single product, so one category of a
// benchmark can be pointed at directly.
func loadTree(root string, l treeLayout) ([]Item, error) {
	if isDir(filepath.Join(root, SplitTest)) {
		abs, err := filepath.Abs(root)
		if err != nil {
			return nil, &LayoutError{Format: l.format, Path: root, Err: err}
		}
		return loadTreeProduct(root, l.product(filepath.Base(abs)), l)
	}
	dirs, err := subdirs(root)
	if err != nil {
		return nil, &LayoutError{Format: l.format, Path: root, Err: err}
	}
	if len(dirs) == 0 {
		return nil, layoutErr(l.format, root, "no product folders (want <product>/test/<defect>/...)")
	}
	var items []Item
	for _, d := range dirs {
		got, err := loadTreeProduct(filepath.Join(root, d), l.product(d), l)
		if err != nil {
			return nil, err
		}
		items = append(items, got...)
	}
	return items, nil
}

func loadTreeProduct(dir, product string, l treeLayout) ([]Item, error) {
	if !isDir(filepath.Join(dir, SplitTest)) {
		return nil, layoutErr(l.format, filepath.Join(dir, SplitTest), "missing test folder of product %q", product)
	}
	var items []Item
	for _, split := range []string{SplitTrain, SplitTest} {
		splitDir := filepath.Join(dir, split)
		if split == SplitTrain && !isDir(splitDir) {
			slog.Debug("dataset: product has no train split", "format", l.format, "product", product)
			continue
		}
		defects, err := subdirs(splitDir)
		if err != nil {
			return nil, &LayoutError{Format: l.format, Path: splitDir, Err: err}
		}
		for _, defect := range defects {
			names, err := imageFiles(filepath.Join(splitDir, defect))
			if err != nil {
				return nil, &LayoutError{Format: l.format, Path: filepath.Join(splitDir, defect), Err: err}
			}
			gtDir := filepath.Join(dir, "ground_truth", defect)
			gt, err := fileSet(gtDir)
			if err != nil {
				return nil, &LayoutError{Format: l.format, Path: gtDir, Err: err}
			}
			for _, name := range names {
				it := Item{
					ImagePath: filepath.Join(splitDir, defect, name),
					Product:   product,
					DefectKey: defect,
					Anomalous: defect != GoodKey,
					Split:     split,
				}
				candidates := l.masks(stem(name))
				for _, m := range candidates {
					if gt[m] {
						it.MaskPath = filepath.Join(gtDir, m)
						break
					}
				}
				// Normal images may carry an all-zero mask (MAD); defects must
				// have one or pixel metrics would be silently wrong.
				if it.Anomalous && it.MaskPath == "" {
					return nil, layoutErr(l.format, filepath.Join(gtDir, candidates[0]), "missing mask of %s", it.ImagePath)
				}
				items = append(items, it)
			}
		}
	}
	return items, nil
}

func mvtecLayout(format string) treeLayout {
	return treeLayout{
		format:  format,
		product: func(folder string) string { return folder },
		masks:   func(s string) []string { return []string{s + "_mask.png"} },
	}
}
