package inspect

import (
	"encoding/json"
	"testing"
)

func TestReport(t *testing.T) {
	it := testItem(t, 7, "pcb/test/hole/001.png", false)
	it.BundleName = "pcb_test_hole_001.bundle.safetensors"
	s := DefaultSettings()
	s.PixelThreshold = 0.8
	s.Disabled["defect3"] = true
	if _, err := s.Score(it); err != nil {
		t.Fatal(err)
	}
	r := it.Result
	it.GT = append([]uint8(nil), r.Mask...) // GT equal to the prediction
	it.GTName = "gt.png"
	raw, err := ReportJSON(it, s)
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	n := Count(r.Mask)
	if rep.Score != r.Score || rep.Verdict != r.Verdict || rep.PixelThreshold != 0.8 || rep.ImageThreshold != 0.5 ||
		rep.MaskPixels != n || rep.MaskFraction != float64(n)/float64(32*32) || rep.MapSize != 32 ||
		len(rep.Subset) != 2 || rep.TopDefect != r.TopDefect || len(rep.DefectTypes) != 2 {
		t.Errorf("report %+v does not match result", rep)
	}
	if g := rep.GroundTruth; g == nil || g.IoU != 1 || g.Dice != 1 || g.Pixels != n || g.Mask != "gt.png" {
		t.Errorf("ground truth %+v, want IoU = Dice = 1, %d pixels", g, n)
	}
	if got := ExportName(it, ".mask.png"); got != "pcb_test_hole_001.mask.png" {
		t.Errorf("ExportName = %q", got)
	}
	it.BundleName = ""
	if got := ExportName(it, ".report.json"); got != "001.report.json" {
		t.Errorf("ExportName without bundle name = %q", got)
	}
	if _, err := BuildReport(&Item{Name: "x"}, s); err == nil {
		t.Error("report of an unscored item")
	}
}

func TestFormat(t *testing.T) {
	if FormatScore(0.123456) != "0.1235" || FormatPercent(0.4567) != "45.7%" {
		t.Errorf("FormatScore %q, FormatPercent %q", FormatScore(0.123456), FormatPercent(0.4567))
	}
}
