package dataset

import (
	"errors"
	"slices"
	"testing"
)

func TestLoadUnknownFormat(t *testing.T) {
	_, err := Load("coco", t.TempDir())
	if !errors.Is(err, ErrUnknownFormat) {
		t.Fatalf("error %v, want ErrUnknownFormat", err)
	}
	if _, err := Load("mvtec", ""); err == nil {
		t.Fatal("empty root accepted")
	}
	// Every documented format has a loader and vice versa.
	var names []string
	for _, f := range Formats() {
		names = append(names, f.Name)
		if _, ok := loaders()[f.Name]; !ok {
			t.Errorf("format %s has no loader", f.Name)
		}
	}
	if len(names) != len(loaders()) {
		t.Errorf("Formats() lists %q, loaders has %d", names, len(loaders()))
	}
}

func TestHelpers(t *testing.T) {
	d := load(t, "mvtec", mvtecFixture(t))
	if p := d.Products(); !slices.Equal(p, []string{"bolt", "widget"}) {
		t.Errorf("Products() = %q", p)
	}
	train, test := d.Filter(SplitTrain), d.Filter(SplitTest)
	if len(train.Items) != 4 || len(test.Items) != 5 || train.Format != "mvtec" || test.Root != d.Root {
		t.Errorf("Filter: %d train, %d test", len(train.Items), len(test.Items))
	}
	for _, it := range train.Items {
		if it.Split != SplitTrain {
			t.Errorf("train filter kept %+v", it)
		}
	}
	train.Items[0].Product = "changed"
	if d.Items[0].Product == "changed" {
		t.Error("Filter shares items with the source")
	}
	by := d.ByProduct()
	if len(by) != 2 || len(by["bolt"]) != 5 || len(by["widget"]) != 4 {
		t.Errorf("ByProduct sizes: bolt %d widget %d", len(by["bolt"]), len(by["widget"]))
	}
	c := d.Counts()
	if got := c["bolt"][SplitTest]["scratch_head"]; got != (Count{Images: 1, Masks: 1, Anomalous: 1}) {
		t.Errorf("Counts bolt/test/scratch_head = %+v", got)
	}
	if got := c["widget"][SplitTrain]["good"]; got != (Count{Images: 2}) {
		t.Errorf("Counts widget/train/good = %+v", got)
	}
}
