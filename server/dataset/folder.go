package dataset

import (
	"path/filepath"
	"strings"
)

// The generic folder format, for a user's own product photos: one product,
// named after the root folder, and no splits (everything is "test").
//
//	<root>/good/<name>.png           normal images ("good" is the only normal folder name)
//	<root>/<defect>/<name>.png       defective images, defect key = folder name
//	<root>/masks/<defect>/<name>.png or <name>_mask.png    optional masks
//	<root>/<defect>/<name>_mask.png  optional masks beside the image
//
// Masks are looked for in that order and are optional for every image;
// files named *_mask.* are masks, never images. Loose files in the root
// and hidden folders are ignored.

const folderFormat = "folder"

func loadFolder(root string) ([]Item, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, &LayoutError{Format: folderFormat, Path: root, Err: err}
	}
	product := filepath.Base(abs)
	dirs, err := subdirs(root)
	if err != nil {
		return nil, &LayoutError{Format: folderFormat, Path: root, Err: err}
	}
	var items []Item
	for _, defect := range dirs {
		if defect == "masks" {
			continue
		}
		dir := filepath.Join(root, defect)
		names, err := imageFiles(dir)
		if err != nil {
			return nil, &LayoutError{Format: folderFormat, Path: dir, Err: err}
		}
		maskDir := filepath.Join(root, "masks", defect)
		masks, err := fileSet(maskDir)
		if err != nil {
			return nil, &LayoutError{Format: folderFormat, Path: maskDir, Err: err}
		}
		beside, err := fileSet(dir)
		if err != nil {
			return nil, &LayoutError{Format: folderFormat, Path: dir, Err: err}
		}
		for _, name := range names {
			s := stem(name)
			if strings.HasSuffix(s, "_mask") {
				continue
			}
			it := Item{
				ImagePath: filepath.Join(dir, name),
				Product:   product,
				DefectKey: defect,
				Anomalous: defect != GoodKey,
				Split:     SplitTest,
			}
			switch {
			case masks[s+".png"]:
				it.MaskPath = filepath.Join(maskDir, s+".png")
			case masks[s+"_mask.png"]:
				it.MaskPath = filepath.Join(maskDir, s+"_mask.png")
			case beside[s+"_mask.png"]:
				it.MaskPath = filepath.Join(dir, s+"_mask.png")
			}
			items = append(items, it)
		}
	}
	if len(items) == 0 {
		return nil, layoutErr(folderFormat, root, "no images in sub-folders (want <root>/good/ and <root>/<defect>/)")
	}
	return items, nil
}
