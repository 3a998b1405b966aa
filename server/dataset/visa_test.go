package dataset

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dapo/shared/defects"
)

// visaFixture writes the VisA layout: split_csv/1cls.csv and per-product
// image_anno.csv with a quoted multi-label field, CRLF line ends as in the
// release, and a UTF-8 BOM on one header.
func visaFixture(t *testing.T) string {
	root := t.TempDir()
	for _, p := range []string{
		"candle/Data/Images/Normal/0000.JPG", "candle/Data/Images/Normal/0001.JPG",
		"candle/Data/Images/Anomaly/000.JPG", "candle/Data/Images/Anomaly/001.JPG",
		"pcb1/Data/Images/Normal/0002.JPG", "pcb1/Data/Images/Anomaly/001.JPG",
	} {
		writeJPEG(t, filepath.Join(root, p))
	}
	for _, p := range []string{"candle/Data/Masks/Anomaly/000.png", "candle/Data/Masks/Anomaly/001.png", "pcb1/Data/Masks/Anomaly/001.png"} {
		writePNG(t, filepath.Join(root, p), 255)
	}
	writeText(t, filepath.Join(root, "split_csv", "1cls.csv"), strings.Join([]string{
		"object,split,label,image,mask",
		"candle,train,normal,candle/Data/Images/Normal/0000.JPG,",
		"candle,test,normal,candle/Data/Images/Normal/0001.JPG,",
		"candle,test,anomaly,candle/Data/Images/Anomaly/000.JPG,candle/Data/Masks/Anomaly/000.png",
		"candle,test,anomaly,candle/Data/Images/Anomaly/001.JPG,candle/Data/Masks/Anomaly/001.png",
		"pcb1,test,normal,pcb1/Data/Images/Normal/0002.JPG,",
		"pcb1,test,anomaly,pcb1/Data/Images/Anomaly/001.JPG,pcb1/Data/Masks/Anomaly/001.png",
	}, "\r\n")+"\r\n")
	writeText(t, filepath.Join(root, "candle", "image_anno.csv"), strings.Join([]string{
		"\ufeffimage,label,mask",
		"candle/Data/Images/Normal/0000.JPG,normal,",
		"candle/Data/Images/Normal/0001.JPG,normal,",
		"candle/Data/Images/Anomaly/000.JPG,chunk of wax missing,candle/Data/Masks/Anomaly/000.png",
		`candle/Data/Images/Anomaly/001.JPG,"damaged corner of packaging,different colour spot",candle/Data/Masks/Anomaly/001.png`,
	}, "\r\n")+"\r\n")
	// Labels relative to the product folder are matched too.
	writeText(t, filepath.Join(root, "pcb1", "image_anno.csv"),
		"image,label,mask\nData/Images/Normal/0002.JPG,normal,\nData/Images/Anomaly/001.JPG,melt,Data/Masks/Anomaly/001.png\n")
	writeText(t, filepath.Join(root, "split_csv", "2cls_fewshot.csv"), "ignored")
	return root
}

func TestVisAFixture(t *testing.T) {
	root := visaFixture(t)
	d := load(t, "visa", root)
	want := []itemRow{
		{"candle/Data/Images/Anomaly/000.JPG", "candle/Data/Masks/Anomaly/000.png", "candle", "chunk of wax missing", true, "test"},
		{"candle/Data/Images/Anomaly/001.JPG", "candle/Data/Masks/Anomaly/001.png", "candle", "damaged corner of packaging,different colour spot", true, "test"},
		{"candle/Data/Images/Normal/0001.JPG", "", "candle", "good", false, "test"},
		{"candle/Data/Images/Normal/0000.JPG", "", "candle", "good", false, "train"},
		{"pcb1/Data/Images/Normal/0002.JPG", "", "pcb1", "good", false, "test"},
		{"pcb1/Data/Images/Anomaly/001.JPG", "pcb1/Data/Masks/Anomaly/001.png", "pcb1", "melt", true, "test"},
	}
	compareRows(t, rows(t, d), want)
	words := map[string]string{}
	for _, it := range d.Items {
		w, _ := defects.DefectWord("visa", it.DefectKey)
		words[it.DefectKey] = w
	}
	// A multi-defect label keeps no single word; single labels map.
	if words["chunk of wax missing"] != "missing" || words["melt"] != "melt" || words["good"] != "normal" ||
		words["damaged corner of packaging,different colour spot"] != "" {
		t.Errorf("defect words %v", words)
	}
}

func TestVisAMalformed(t *testing.T) {
	edit := func(t *testing.T, root, path, old, new string) {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s := strings.Replace(string(b), old, new, 1)
		if s == string(b) {
			t.Fatalf("%q not in %s", old, path)
		}
		writeText(t, path, s)
	}
	t.Run("no split csv", func(t *testing.T) {
		root := visaFixture(t)
		p := filepath.Join(root, "split_csv", "1cls.csv")
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		_, err := Load("visa", root)
		wantLayoutErr(t, err, p)
	})
	t.Run("wrong column count", func(t *testing.T) {
		root := visaFixture(t)
		p := filepath.Join(root, "split_csv", "1cls.csv")
		edit(t, root, p, "candle,test,normal,candle/Data/Images/Normal/0001.JPG,", "candle,test,normal,candle/Data/Images/Normal/0001.JPG")
		_, err := Load("visa", root)
		wantLayoutErr(t, err, p)
		if !strings.Contains(err.Error(), "line 3") {
			t.Errorf("error %q does not give the line", err)
		}
	})
	t.Run("missing column", func(t *testing.T) {
		root := visaFixture(t)
		p := filepath.Join(root, "split_csv", "1cls.csv")
		edit(t, root, p, "object,split,label,image,mask", "object,split,labels,image,mask")
		_, err := Load("visa", root)
		wantLayoutErr(t, err, p)
	})
	t.Run("anomaly without mask", func(t *testing.T) {
		root := visaFixture(t)
		p := filepath.Join(root, "split_csv", "1cls.csv")
		edit(t, root, p, "000.JPG,candle/Data/Masks/Anomaly/000.png", "000.JPG,")
		_, err := Load("visa", root)
		wantLayoutErr(t, err, p)
	})
	t.Run("bad label", func(t *testing.T) {
		root := visaFixture(t)
		p := filepath.Join(root, "split_csv", "1cls.csv")
		edit(t, root, p, "pcb1,test,normal", "pcb1,test,broken")
		_, err := Load("visa", root)
		wantLayoutErr(t, err, p)
	})
	t.Run("no image_anno", func(t *testing.T) {
		root := visaFixture(t)
		p := filepath.Join(root, "pcb1", "image_anno.csv")
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		_, err := Load("visa", root)
		wantLayoutErr(t, err, p)
	})
	t.Run("image without label", func(t *testing.T) {
		root := visaFixture(t)
		p := filepath.Join(root, "candle", "image_anno.csv")
		edit(t, root, p, "candle/Data/Images/Anomaly/000.JPG,chunk of wax missing", "candle/Data/Images/Anomaly/999.JPG,chunk of wax missing")
		_, err := Load("visa", root)
		wantLayoutErr(t, err, p)
	})
	t.Run("anomaly labelled normal", func(t *testing.T) {
		root := visaFixture(t)
		p := filepath.Join(root, "pcb1", "image_anno.csv")
		edit(t, root, p, "001.JPG,melt", "001.JPG,normal")
		_, err := Load("visa", root)
		wantLayoutErr(t, err, p)
	})
	t.Run("mask file missing", func(t *testing.T) {
		root := visaFixture(t)
		p := filepath.Join(root, "candle", "Data", "Masks", "Anomaly", "001.png")
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		_, err := Load("visa", root)
		wantLayoutErr(t, err, p)
	})
}
