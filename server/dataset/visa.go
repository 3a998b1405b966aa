package dataset

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// VisA as released (VisA_20220922): the split comes from
// split_csv/1cls.csv with the header object,split,label,image,mask (label
// "normal" or "anomaly", paths relative to the root, mask empty for normal
// images) and the defect names from each product's <product>/image_anno.csv
// with the header image,label,mask, where label is "normal" or free text
// such as "chunk of wax missing", or several comma-separated labels in one
// quoted field ("damaged corner of packaging,different colour spot"). That
// label is kept whole as the DefectKey; defects.DefectWord maps single
// labels onto the reference's short words and gives none for several.

const visaFormat = "visa"

type visaRow struct {
	object, split, image, mask string
	anomalous                  bool
	line                       int
}

func loadVisA(root string) ([]Item, error) {
	splitPath := filepath.Join(root, "split_csv", "1cls.csv")
	rows, err := readCSVFile(splitPath, parseVisASplit)
	if err != nil {
		return nil, err
	}
	annos := map[string]map[string]string{}
	var items []Item
	for _, r := range rows {
		labels, ok := annos[r.object]
		if !ok {
			annoPath := filepath.Join(root, r.object, "image_anno.csv")
			if labels, err = readCSVFile(annoPath, parseImageAnno); err != nil {
				return nil, err
			}
			annos[r.object] = labels
		}
		it := Item{
			ImagePath: resolve(root, r.image),
			Product:   r.object,
			DefectKey: GoodKey,
			Anomalous: r.anomalous,
			Split:     r.split,
		}
		if r.mask != "" {
			it.MaskPath = resolve(root, r.mask)
		}
		if r.anomalous {
			annoPath := filepath.Join(root, r.object, "image_anno.csv")
			key := cleanRel(r.image)
			label, ok := labels[key]
			if !ok { // image_anno.csv relative to the product folder
				label, ok = labels[strings.TrimPrefix(key, r.object+"/")]
			}
			switch {
			case !ok:
				return nil, layoutErr(visaFormat, annoPath, "no label for %s (1cls.csv line %d)", r.image, r.line)
			case strings.EqualFold(label, "normal"):
				return nil, layoutErr(visaFormat, annoPath, "labels %s normal but 1cls.csv line %d marks it anomalous", r.image, r.line)
			}
			it.DefectKey = label
		}
		items = append(items, it)
	}
	if err := checkFiles(visaFormat, splitPath, items); err != nil {
		return nil, err
	}
	return items, nil
}

// readCSVFile opens path and parses it, naming the file in any error.
func readCSVFile[T any](path string, parse func(io.Reader) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(path)
	if err != nil {
		return zero, &LayoutError{Format: visaFormat, Path: path, Err: err}
	}
	defer f.Close()
	v, err := parse(f)
	if err != nil {
		return zero, &LayoutError{Format: visaFormat, Path: path, Err: err}
	}
	return v, nil
}

// parseVisASplit parses 1cls.csv. Columns are found by header name, so
// their order does not matter, but every row must have the header's width.
func parseVisASplit(r io.Reader) ([]visaRow, error) {
	recs, cols, err := readCSV(r, "object", "split", "label", "image", "mask")
	if err != nil {
		return nil, err
	}
	var rows []visaRow
	for i, rec := range recs {
		line := i + 2
		row := visaRow{
			object: strings.TrimSpace(rec[cols["object"]]),
			split:  strings.ToLower(strings.TrimSpace(rec[cols["split"]])),
			image:  strings.TrimSpace(rec[cols["image"]]),
			mask:   strings.TrimSpace(rec[cols["mask"]]),
			line:   line,
		}
		switch label := strings.ToLower(strings.TrimSpace(rec[cols["label"]])); label {
		case "normal":
		case "anomaly":
			row.anomalous = true
		default:
			return nil, fmt.Errorf("line %d: label %q, want normal or anomaly", line, label)
		}
		if row.split != SplitTrain && row.split != SplitTest {
			return nil, fmt.Errorf("line %d: split %q, want train or test", line, row.split)
		}
		if row.object == "" || row.image == "" {
			return nil, fmt.Errorf("line %d: empty object or image", line)
		}
		if row.anomalous && row.mask == "" {
			return nil, fmt.Errorf("line %d: anomalous image %s has no mask", line, row.image)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// parseImageAnno parses a product's image_anno.csv into image → label,
// keyed by the cleaned slash path relative to the dataset root.
func parseImageAnno(r io.Reader) (map[string]string, error) {
	recs, cols, err := readCSV(r, "image", "label")
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(recs))
	for i, rec := range recs {
		img := cleanRel(strings.TrimSpace(rec[cols["image"]]))
		label := strings.TrimSpace(rec[cols["label"]])
		if img == "" || label == "" {
			return nil, fmt.Errorf("line %d: empty image or label", i+2)
		}
		if old, dup := out[img]; dup && old != label {
			return nil, fmt.Errorf("line %d: %s labelled both %q and %q", i+2, img, old, label)
		}
		out[img] = label
	}
	return out, nil
}

// readCSV reads a CSV with a header row that must name every column of
// want (case-insensitive, extra columns allowed) and returns the data rows
// and each wanted column's index. Rows of another width than the header
// are an error with their line number.
func readCSV(r io.Reader, want ...string) ([][]string, map[string]int, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, errors.New("empty file, want a header row")
	}
	if err != nil {
		return nil, nil, err
	}
	cols := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := cols[h]; !dup {
			cols[h] = i
		}
	}
	for _, w := range want {
		if _, ok := cols[w]; !ok {
			return nil, nil, fmt.Errorf("header %q lacks column %q (want %s)", strings.Join(header, ","), w, strings.Join(want, ","))
		}
	}
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, nil, err
	}
	return recs, cols, nil
}
