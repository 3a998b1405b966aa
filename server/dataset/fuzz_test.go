package dataset

import (
	"bytes"
	"testing"
)

// FuzzParseMeta feeds arbitrary bytes to the meta.json parser: it must not
// panic, and whatever it accepts must satisfy the loader's invariants.
func FuzzParseMeta(f *testing.F) {
	for _, s := range []string{
		`{"train": {"a": [{"img_path": "x.png", "mask_path": "", "cls_name": "a", "specie_name": "good", "anomaly": 0}]},
		  "test": {"a": [{"img_path": "y.png", "mask_path": "m.png", "cls_name": "a", "specie_name": "hole", "anomaly": 1}]}}`,
		`{"candle": [{"img_path": "c.JPG", "mask_path": "", "anomaly": 0, "defect_cls": "normal"}]}`,
		`{"test": {"U": [{"img_path": "u.png", "mask_path": "g.png", "product_cls": "U", "defect_cls": "good", "anomaly": false}]}}`,
		`{"test": {"a": []}, "b": []}`, `{}`, `[]`, `null`, `{"a": [null]}`, `{"test": null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := parseMeta(data)
		if err != nil {
			return
		}
		for _, r := range recs {
			if r.img == "" || (r.split != SplitTrain && r.split != SplitTest) {
				t.Fatalf("accepted record %+v", r)
			}
			if r.anomalous && (r.mask == "" || r.defect == "") || !r.anomalous && r.defect != GoodKey {
				t.Fatalf("accepted record %+v", r)
			}
		}
	})
}

// FuzzParseRealIAD: no panics; accepted files have paths and classes.
func FuzzParseRealIAD(f *testing.F) {
	for _, s := range []string{
		`{"meta": {"prefix": "a/", "normal_class": "OK"}, "train": [{"category": "a", "anomaly_class": "OK", "image_path": "x.jpg", "mask_path": null}],
		  "test": [{"category": "a", "anomaly_class": "AK", "image_path": "y.jpg", "mask_path": "y.png"}]}`,
		`{"meta": {}, "train": [], "test": []}`, `{"meta": null, "train": null, "test": [{}]}`, `[]`, `{"meta": 1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rf, err := parseRealIAD(data)
		if err != nil {
			return
		}
		if rf.Meta.NormalClass == "" {
			t.Fatal("accepted file without a normal class")
		}
		for _, part := range rf.parts() {
			for _, s := range part.samples {
				if s.ImagePath == "" || s.AnomalyClass == "" {
					t.Fatalf("accepted sample %+v", s)
				}
			}
		}
		for _, it := range realIADItems(rf, "p", "/img") {
			if it.Anomalous && it.MaskPath == "" || !it.Anomalous && it.DefectKey != GoodKey {
				t.Fatalf("item %+v", it)
			}
		}
	})
}

// FuzzParseVisACSV runs both VisA CSV parsers on the same bytes.
func FuzzParseVisACSV(f *testing.F) {
	for _, s := range []string{
		"object,split,label,image,mask\ncandle,test,anomaly,c/a.JPG,c/m.png\ncandle,train,normal,c/n.JPG,\n",
		"image,label,mask\nc/a.JPG,\"scratch,chip\",c/m.png\nc/n.JPG,normal,\n",
		"\ufeffobject,split,label,image,mask\r\nx,test,normal,y\r\n", "", "\"", "a,b\n\"c",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if rows, err := parseVisASplit(bytes.NewReader(data)); err == nil {
			for _, r := range rows {
				if r.image == "" || r.object == "" || (r.split != SplitTrain && r.split != SplitTest) || r.anomalous && r.mask == "" {
					t.Fatalf("accepted row %+v", r)
				}
			}
		}
		if labels, err := parseImageAnno(bytes.NewReader(data)); err == nil {
			for img, l := range labels {
				if img == "" || l == "" {
					t.Fatalf("accepted %q → %q", img, l)
				}
			}
		}
	})
}
