package dataset

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// realIADFixture writes realiad_jsons/audiojack.json in the release's
// format, images under realiad_1024/<prefix>/.
func realIADFixture(t *testing.T) string {
	root := t.TempDir()
	img := filepath.Join(root, "realiad_1024", "audiojack")
	files := []string{
		"OK/S0001/audiojack_0001_OK_C1_20230922092825.jpg",
		"OK/S0002/audiojack_0002_OK_C2_20230922092900.jpg",
		"NG/AK/S0005/audiojack_0005_NG_AK_C1_20231021130059.jpg",
		"NG/AK/S0005/audiojack_0005_NG_AK_C2_20231021130059.jpg",
		"NG/QS/S0009/audiojack_0009_NG_QS_C3_20231021130500.jpg",
		"NG/ZZ/S0010/audiojack_0010_NG_ZZ_C1_20231021130600.jpg",
	}
	for _, f := range files {
		writeJPEG(t, filepath.Join(img, filepath.FromSlash(f)))
	}
	masks := []string{
		"NG/AK/S0005/audiojack_0005_NG_AK_C1_20231021130059.png",
		"NG/QS/S0009/audiojack_0009_NG_QS_C3_20231021130500.png",
		"NG/ZZ/S0010/audiojack_0010_NG_ZZ_C1_20231021130600.png",
	}
	for _, m := range masks {
		writePNG(t, filepath.Join(img, filepath.FromSlash(m)), 255)
	}
	sample := func(class, image string, mask any) map[string]any {
		return map[string]any{"category": "audiojack", "anomaly_class": class, "image_path": image, "mask_path": mask}
	}
	doc := map[string]any{
		"meta": map[string]any{"prefix": "audiojack/", "normal_class": "OK", "pixel_mean": []float64{0.1}},
		"train": []any{
			sample("OK", files[0], nil),
		},
		"test": []any{
			sample("OK", files[1], nil),
			sample("AK", files[2], masks[0]),
			sample("AK", files[3], nil), // defective part, defect not visible in this view
			sample("QS", files[4], masks[1]),
			sample("ZZ", files[5], masks[2]), // a code the vocabulary does not know
		},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	writeText(t, filepath.Join(root, "realiad_jsons", "audiojack.json"), string(b))
	writeText(t, filepath.Join(root, "realiad_jsons", "README.txt"), "not json")
	return root
}

func TestRealIADFixture(t *testing.T) {
	root := realIADFixture(t)
	d := load(t, "real-iad", root)
	p := "realiad_1024/audiojack/"
	want := []itemRow{
		{p + "NG/ZZ/S0010/audiojack_0010_NG_ZZ_C1_20231021130600.jpg", p + "NG/ZZ/S0010/audiojack_0010_NG_ZZ_C1_20231021130600.png", "audiojack", "ZZ", true, "test"},
		{p + "NG/AK/S0005/audiojack_0005_NG_AK_C2_20231021130059.jpg", "", "audiojack", "good", false, "test"},
		{p + "OK/S0002/audiojack_0002_OK_C2_20230922092900.jpg", "", "audiojack", "good", false, "test"},
		{p + "NG/QS/S0009/audiojack_0009_NG_QS_C3_20231021130500.jpg", p + "NG/QS/S0009/audiojack_0009_NG_QS_C3_20231021130500.png", "audiojack", "missing", true, "test"},
		{p + "NG/AK/S0005/audiojack_0005_NG_AK_C1_20231021130059.jpg", p + "NG/AK/S0005/audiojack_0005_NG_AK_C1_20231021130059.png", "audiojack", "pit", true, "test"},
		{p + "OK/S0001/audiojack_0001_OK_C1_20230922092825.jpg", "", "audiojack", "good", false, "train"},
	}
	compareRows(t, rows(t, d), want)
}

func TestRealIADMalformed(t *testing.T) {
	t.Run("no json folder", func(t *testing.T) {
		root := t.TempDir()
		_, err := Load("real-iad", root)
		wantLayoutErr(t, err, filepath.Join(root, "realiad_jsons"))
	})
	t.Run("empty json folder", func(t *testing.T) {
		root := t.TempDir()
		if err := os.Mkdir(filepath.Join(root, "realiad_jsons"), 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := Load("real-iad", root)
		wantLayoutErr(t, err, filepath.Join(root, "realiad_jsons"))
	})
	for name, body := range map[string]string{
		"unparsable":      `{"meta": {`,
		"no test key":     `{"meta": {}, "train": []}`,
		"no image_path":   `{"meta": {}, "train": [], "test": [{"anomaly_class": "OK"}]}`,
		"wrong type":      `{"meta": {}, "train": [], "test": {"a": 1}}`,
		"no samples":      `{"meta": {}, "train": [], "test": []}`,
		"no class":        `{"meta": {}, "train": [{"image_path": "a.jpg"}], "test": []}`,
		"listed, missing": `{"meta": {"prefix": "x/"}, "train": [], "test": [{"category": "x", "anomaly_class": "OK", "image_path": "a.jpg", "mask_path": null}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			root := realIADFixture(t)
			p := filepath.Join(root, "realiad_jsons", "bad.json")
			writeText(t, p, body)
			_, err := Load("real-iad", root)
			if name == "listed, missing" {
				wantLayoutErr(t, err, filepath.Join(root, "realiad_1024", "x", "a.jpg"))
				return
			}
			wantLayoutErr(t, err, p)
		})
	}
	t.Run("mask file missing", func(t *testing.T) {
		root := realIADFixture(t)
		p := filepath.Join(root, "realiad_1024", "audiojack", "NG", "QS", "S0009", "audiojack_0009_NG_QS_C3_20231021130500.png")
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		_, err := Load("real-iad", root)
		wantLayoutErr(t, err, p)
	})
}
