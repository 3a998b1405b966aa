package dataset

import (
	"path/filepath"
	"testing"
)

func TestMetaNested(t *testing.T) {
	root := t.TempDir()
	writePNG(t, filepath.Join(root, "bottle", "train", "good", "000.png"), 1)
	writePNG(t, filepath.Join(root, "bottle", "test", "good", "000.png"), 1)
	writePNG(t, filepath.Join(root, "bottle", "test", "broken_large", "000.png"), 1)
	writePNG(t, filepath.Join(root, "bottle", "ground_truth", "broken_large", "000_mask.png"), 255)
	writeText(t, filepath.Join(root, "meta.json"), `{
 "train": {"bottle": [
  {"img_path": "bottle/train/good/000.png", "mask_path": "", "cls_name": "bottle", "specie_name": "good", "anomaly": 0}]},
 "test": {"bottle": [
  {"img_path": "bottle/test/broken_large/000.png", "mask_path": "bottle/ground_truth/broken_large/000_mask.png", "cls_name": "bottle", "specie_name": "broken_large", "anomaly": 1},
  {"img_path": "bottle/test/good/000.png", "mask_path": "", "cls_name": "bottle", "specie_name": "good", "anomaly": 0}]}
}`)
	want := []itemRow{
		{"bottle/test/broken_large/000.png", "bottle/ground_truth/broken_large/000_mask.png", "bottle", "broken_large", true, "test"},
		{"bottle/test/good/000.png", "", "bottle", "good", false, "test"},
		{"bottle/train/good/000.png", "", "bottle", "good", false, "train"},
	}
	compareRows(t, rows(t, load(t, "meta", root)), want)
	// --root may also name the file; paths stay relative to its folder.
	viaFile := load(t, "meta", filepath.Join(root, "meta.json"))
	viaFile.Root = root
	compareRows(t, rows(t, viaFile), want)
}

// TestMetaVisAFlat reads the repo's flat VisA meta: no split level,
// defect_cls, "normal" for normal images.
func TestMetaVisAFlat(t *testing.T) {
	root := t.TempDir()
	writeJPEG(t, filepath.Join(root, "candle", "Data", "Images", "Normal", "0011.JPG"))
	writeJPEG(t, filepath.Join(root, "candle", "Data", "Images", "Anomaly", "003.JPG"))
	writePNG(t, filepath.Join(root, "candle", "Data", "Masks", "Anomaly", "003.png"), 255)
	writeText(t, filepath.Join(root, "meta.json"), `{"candle": [
 {"img_path": "candle/Data/Images/Normal/0011.JPG", "mask_path": "", "cls_name": "candle", "anomaly": 0, "defect_cls": "normal"},
 {"img_path": "candle/Data/Images/Anomaly/003.JPG", "mask_path": "candle/Data/Masks/Anomaly/003.png", "cls_name": "candle", "anomaly": 1, "defect_cls": "missing"}]}`)
	want := []itemRow{
		{"candle/Data/Images/Normal/0011.JPG", "", "candle", "good", false, "test"},
		{"candle/Data/Images/Anomaly/003.JPG", "candle/Data/Masks/Anomaly/003.png", "candle", "missing", true, "test"},
	}
	compareRows(t, rows(t, load(t, "meta", root)), want)
}

// TestMetaMAD reads the MAD variant: product_cls/defect_cls keys, a mask
// listed for a good image, product names without MAD-Sim's number.
func TestMetaMAD(t *testing.T) {
	root := t.TempDir()
	writePNG(t, filepath.Join(root, "02Unicorn", "test", "good", "1.png"), 1)
	writePNG(t, filepath.Join(root, "02Unicorn", "ground_truth", "good", "1_mask.png"), 0)
	writePNG(t, filepath.Join(root, "02Unicorn", "test", "Stains", "30.png"), 1)
	writePNG(t, filepath.Join(root, "02Unicorn", "ground_truth", "Stains", "30_mask.png"), 255)
	writeText(t, filepath.Join(root, "meta.json"), `{"train": {}, "test": {"Unicorn": [
 {"img_path": "02Unicorn/test/good/1.png", "mask_path": "02Unicorn/ground_truth/good/1_mask.png", "product_cls": "Unicorn", "defect_cls": "good", "anomaly": 0},
 {"img_path": "02Unicorn/test/Stains/30.png", "mask_path": "02Unicorn/ground_truth/Stains/30_mask.png", "product_cls": "Unicorn", "defect_cls": "Stains", "anomaly": true}]}}`)
	want := []itemRow{
		{"02Unicorn/test/Stains/30.png", "02Unicorn/ground_truth/Stains/30_mask.png", "Unicorn", "Stains", true, "test"},
		{"02Unicorn/test/good/1.png", "02Unicorn/ground_truth/good/1_mask.png", "Unicorn", "good", false, "test"},
	}
	compareRows(t, rows(t, load(t, "meta", root)), want)
}

func TestMetaMalformed(t *testing.T) {
	t.Run("missing", func(t *testing.T) {
		root := t.TempDir()
		_, err := Load("meta", root)
		wantLayoutErr(t, err, filepath.Join(root, "meta.json"))
	})
	for name, body := range map[string]string{
		"unparsable":        `{"test": {"a": [}`,
		"not an object":     `[1, 2]`,
		"empty":             `{}`,
		"unknown split":     `{"val": {"a": []}}`,
		"mixed shapes":      `{"test": {"a": []}, "b": []}`,
		"no img_path":       `{"a": [{"mask_path": "", "anomaly": 0}]}`,
		"no anomaly":        `{"a": [{"img_path": "x.png"}]}`,
		"bad anomaly":       `{"a": [{"img_path": "x.png", "anomaly": 2}]}`,
		"anomaly, no mask":  `{"test": {"a": [{"img_path": "x.png", "specie_name": "hole", "anomaly": 1, "mask_path": ""}]}}`,
		"anomaly, no label": `{"test": {"a": [{"img_path": "x.png", "mask_path": "m.png", "anomaly": 1}]}}`,
		"entry not object":  `{"a": [3]}`,
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			p := filepath.Join(root, "meta.json")
			writeText(t, p, body)
			_, err := Load("meta", root)
			wantLayoutErr(t, err, p)
		})
	}
	t.Run("listed image missing", func(t *testing.T) {
		root := t.TempDir()
		writeText(t, filepath.Join(root, "meta.json"), `{"a": [{"img_path": "gone.png", "anomaly": 0}]}`)
		_, err := Load("meta", root)
		wantLayoutErr(t, err, filepath.Join(root, "gone.png"))
	})
}
