package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The reference's meta.json (spec §5.5), images relative to the folder
// holding it. Three shapes are read:
//
//	{"train": {product: [entry...]}, "test": {product: [entry...]}}
//	  entry: img_path, mask_path ("" for normal), cls_name, specie_name, anomaly (0/1)
//	{product: [entry...]}    the repo's flat VisA file, key defect_cls; split test
//	MAD files: the first shape with product_cls/defect_cls for cls_name/specie_name
//
// The product is cls_name, else product_cls, else the key the list sits
// under; the defect key is specie_name, else defect_cls, and "good" for
// every normal entry (VisA writes "normal"). anomaly may be 0/1 or a bool.
// An anomalous entry needs a mask_path.

const metaFormat = "meta"

type metaEntry struct {
	ImgPath    string          `json:"img_path"`
	MaskPath   string          `json:"mask_path"`
	ClsName    string          `json:"cls_name"`
	ProductCls string          `json:"product_cls"`
	SpecieName string          `json:"specie_name"`
	DefectCls  string          `json:"defect_cls"`
	Anomaly    json.RawMessage `json:"anomaly"`
}

// metaRecord is one parsed entry with paths still as written in the file.
type metaRecord struct {
	split, product, defect, img, mask string
	anomalous                         bool
}

func loadMeta(root string) ([]Item, error) {
	path := filepath.Join(root, "meta.json")
	if st, err := os.Stat(root); err == nil && !st.IsDir() {
		path, root = root, filepath.Dir(root) // --root may name the file itself
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &LayoutError{Format: metaFormat, Path: path, Err: err}
	}
	recs, err := parseMeta(data)
	if err != nil {
		return nil, &LayoutError{Format: metaFormat, Path: path, Err: err}
	}
	items := make([]Item, 0, len(recs))
	for _, r := range recs {
		it := Item{
			ImagePath: resolve(root, r.img),
			Product:   r.product,
			DefectKey: r.defect,
			Anomalous: r.anomalous,
			Split:     r.split,
		}
		if r.mask != "" {
			it.MaskPath = resolve(root, r.mask)
		}
		items = append(items, it)
	}
	if err := checkFiles(metaFormat, path, items); err != nil {
		return nil, err
	}
	return items, nil
}

// parseMeta decodes any of the three meta.json shapes.
func parseMeta(data []byte) ([]metaRecord, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("parse JSON: %w", err)
	}
	if len(top) == 0 {
		return nil, errors.New("no entries")
	}
	nested, flat := 0, 0
	for _, v := range top {
		switch firstByte(v) {
		case '{':
			nested++
		case '[':
			flat++
		}
	}
	var recs []metaRecord
	switch {
	case nested == len(top):
		for _, split := range sortedKeys(top) {
			if split != SplitTrain && split != SplitTest {
				return nil, fmt.Errorf("top-level key %q: want train or test", split)
			}
			var byProduct map[string][]metaEntry
			if err := json.Unmarshal(top[split], &byProduct); err != nil {
				return nil, fmt.Errorf("%s: %w", split, err)
			}
			got, err := metaRecords(split, byProduct)
			if err != nil {
				return nil, err
			}
			recs = append(recs, got...)
		}
	case flat == len(top):
		byProduct := make(map[string][]metaEntry, len(top))
		for _, k := range sortedKeys(top) {
			var list []metaEntry
			if err := json.Unmarshal(top[k], &list); err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			byProduct[k] = list
		}
		return metaRecords(SplitTest, byProduct)
	default:
		return nil, errors.New("top level mixes shapes: want {train|test: {product: [...]}} or {product: [...]}")
	}
	return recs, nil
}

func metaRecords(split string, byProduct map[string][]metaEntry) ([]metaRecord, error) {
	var out []metaRecord
	for _, key := range sortedKeys(byProduct) {
		for i, e := range byProduct[key] {
			where := fmt.Sprintf("%s/%s entry %d", split, key, i)
			anomalous, err := parseAnomaly(e.Anomaly)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			r := metaRecord{
				split:     split,
				product:   firstNonEmpty(e.ClsName, e.ProductCls, key),
				defect:    firstNonEmpty(e.SpecieName, e.DefectCls),
				img:       strings.TrimSpace(e.ImgPath),
				mask:      strings.TrimSpace(e.MaskPath),
				anomalous: anomalous,
			}
			switch {
			case r.img == "":
				return nil, fmt.Errorf("%s: no img_path", where)
			case !anomalous:
				r.defect = GoodKey
			case r.defect == "":
				return nil, fmt.Errorf("%s (%s): anomalous but no specie_name/defect_cls", where, r.img)
			case r.mask == "":
				return nil, fmt.Errorf("%s (%s): anomalous but no mask_path", where, r.img)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// parseAnomaly reads the anomaly flag as 0/1 or a bool; a missing flag is
// an error because guessing would mislabel images.
func parseAnomaly(raw json.RawMessage) (bool, error) {
	switch strings.TrimSpace(string(raw)) {
	case "0", "false", "0.0":
		return false, nil
	case "1", "true", "1.0":
		return true, nil
	case "":
		return false, errors.New("no anomaly field")
	}
	return false, fmt.Errorf("anomaly %s: want 0 or 1", raw)
}

func firstByte(raw json.RawMessage) byte {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
