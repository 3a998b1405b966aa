package dataset

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"dapo/shared/defects"
)

// Real-IAD (Tencent, CVPR 2024) ships one JSON per product in
// realiad_jsons/<product>.json, the format its official UniAD loader
// (datasets/explicit_dataset.py) reads:
//
//	{"meta": {"prefix": "audiojack/", "normal_class": "OK", ...},
//	 "train": [sample...], "test": [sample...]}
//	sample: {"category": "audiojack", "anomaly_class": "OK"|"AK"|"BX"|...,
//	         "image_path": "...jpg", "mask_path": "...png" | null}
//
// Fields read: meta.prefix and meta.normal_class (default "OK"), and the
// four sample fields; other keys are ignored. Paths are
// <image dir>/<prefix>/<image_path>, where the image dir is the first of
// realiad_1024, realiad_512, realiad_256, realiad_raw found under the root,
// else the root itself. As in the official loader, a sample is normal when
// its anomaly_class is the normal class or its mask_path is null (views of a
// defective part that do not show the defect). Anomaly codes become defect
// keys through the vocabulary's aliases: AK pit, BX deformation, CH
// abrasion, HS scratch, PS damage, QS missing, YW foreign, ZW contamination;
// an unknown code is kept as it is.

const realIADFormat = "real-iad"

type realIADFile struct {
	Meta struct {
		Prefix      string `json:"prefix"`
		NormalClass string `json:"normal_class"`
	} `json:"meta"`
	Train []realIADSample `json:"train"`
	Test  []realIADSample `json:"test"`
}

type realIADSample struct {
	Category     string  `json:"category"`
	AnomalyClass string  `json:"anomaly_class"`
	ImagePath    string  `json:"image_path"`
	MaskPath     *string `json:"mask_path"`
}

type realIADPart struct {
	split   string
	samples []realIADSample
}

// parts gives the splits in a fixed order, for deterministic errors.
func (f *realIADFile) parts() []realIADPart {
	return []realIADPart{{SplitTrain, f.Train}, {SplitTest, f.Test}}
}

// realIADImageDirs are tried in order; a function so the list stays constant.
func realIADImageDirs() []string {
	return []string{"realiad_1024", "realiad_512", "realiad_256", "realiad_raw"}
}

func loadRealIAD(root string) ([]Item, error) {
	jsonDir := filepath.Join(root, "realiad_jsons")
	entries, err := os.ReadDir(jsonDir)
	if err != nil {
		return nil, &LayoutError{Format: realIADFormat, Path: jsonDir, Err: err}
	}
	imageDir := root
	for _, d := range realIADImageDirs() {
		if isDir(filepath.Join(root, d)) {
			imageDir = filepath.Join(root, d)
			break
		}
	}
	slog.Debug("dataset: real-iad images", "dir", imageDir)
	var items []Item
	files := 0
	for _, e := range entries {
		if e.IsDir() || !strings.EqualFold(filepath.Ext(e.Name()), ".json") {
			continue
		}
		files++
		path := filepath.Join(jsonDir, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, &LayoutError{Format: realIADFormat, Path: path, Err: err}
		}
		f, err := parseRealIAD(data)
		if err != nil {
			return nil, &LayoutError{Format: realIADFormat, Path: path, Err: err}
		}
		got := realIADItems(f, stem(e.Name()), imageDir)
		if err := checkFiles(realIADFormat, path, got); err != nil {
			return nil, err
		}
		items = append(items, got...)
	}
	if files == 0 {
		return nil, layoutErr(realIADFormat, jsonDir, "no <product>.json files")
	}
	return items, nil
}

// parseRealIAD decodes one product JSON and checks the fields every sample
// needs; meta, train and test must all be present, as the official loader
// asserts.
func parseRealIAD(data []byte) (*realIADFile, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		return nil, fmt.Errorf("parse JSON: %w", err)
	}
	for _, k := range []string{"meta", "train", "test"} {
		if _, ok := keys[k]; !ok {
			return nil, fmt.Errorf("no %q key (want meta, train, test)", k)
		}
	}
	var f realIADFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("parse JSON: %w", err)
	}
	if f.Meta.NormalClass == "" {
		f.Meta.NormalClass = "OK"
	}
	for _, part := range f.parts() {
		for i, s := range part.samples {
			if s.ImagePath == "" {
				return nil, fmt.Errorf("%s sample %d: no image_path", part.split, i)
			}
			if s.AnomalyClass == "" {
				return nil, fmt.Errorf("%s sample %d (%s): no anomaly_class", part.split, i, s.ImagePath)
			}
		}
	}
	if len(f.Train)+len(f.Test) == 0 {
		return nil, errors.New("no samples in train or test")
	}
	return &f, nil
}

func realIADItems(f *realIADFile, fileProduct, imageDir string) []Item {
	base := filepath.Join(imageDir, filepath.FromSlash(f.Meta.Prefix))
	var items []Item
	for _, part := range f.parts() {
		for _, s := range part.samples {
			it := Item{
				ImagePath: resolve(base, s.ImagePath),
				Product:   s.Category,
				DefectKey: GoodKey,
				Split:     part.split,
			}
			if it.Product == "" {
				it.Product = fileProduct
			}
			hasMask := s.MaskPath != nil && *s.MaskPath != ""
			if s.AnomalyClass != f.Meta.NormalClass && hasMask {
				it.Anomalous = true
				it.MaskPath = resolve(base, *s.MaskPath)
				it.DefectKey = s.AnomalyClass
				if key, ok := defects.Alias(realIADFormat, s.AnomalyClass); ok {
					it.DefectKey = key
				}
			}
			items = append(items, it)
		}
	}
	return items
}
