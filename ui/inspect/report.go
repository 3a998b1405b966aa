package inspect

import (
	"encoding/json"
	"fmt"
	"strconv"

	"dapo/wasm/scoreapi"
)

// FormatScore is how the app shows scores (and how tests compare them).
func FormatScore(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }

// FormatPercent shows a probability or fraction as a percentage.
func FormatPercent(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" }

// Report is the JSON report of one inspected image.
type Report struct {
	Tool            string                `json:"tool"`
	Image           string                `json:"image"`
	Bundle          string                `json:"bundle,omitempty"`
	Width           int                   `json:"width"`
	Height          int                   `json:"height"`
	Backbone        string                `json:"backbone"`
	Checkpoint      string                `json:"checkpoint"`
	Score           float64               `json:"score"`
	Verdict         string                `json:"verdict"`
	ImageThreshold  float64               `json:"image_threshold"`
	PixelThreshold  float64               `json:"pixel_threshold"`
	Subset          []string              `json:"subset,omitempty"` // defect types considered, when not all
	DefectTypes     []scoreapi.DefectType `json:"defect_types"`
	TopDefect       string                `json:"top_defect"`
	TopDefectInMask string                `json:"top_defect_in_mask,omitempty"`
	MapSize         int                   `json:"map_size"`
	MaskPixels      int                   `json:"mask_pixels"`
	MaskFraction    float64               `json:"anomalous_pixel_fraction"`
	GroundTruth     *GTReport             `json:"ground_truth,omitempty"`
}

// GTReport compares the predicted mask with the ground truth at S×S.
type GTReport struct {
	Mask   string  `json:"mask"`
	Pixels int     `json:"pixels"`
	IoU    float64 `json:"iou"`
	Dice   float64 `json:"dice"`
}

// BuildReport describes it as scored with s.
func BuildReport(it *Item, s Settings) (*Report, error) {
	r := it.Result
	if r == nil {
		return nil, fmt.Errorf("report: %s is not scored", it.Name)
	}
	o, err := s.Options(it)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	n := Count(r.Mask)
	rep := &Report{
		Tool: scoreapi.Version(), Image: it.Name, Bundle: it.BundleName,
		Width: r.Width, Height: r.Height,
		Backbone: it.Meta.Backbone.ID, Checkpoint: it.Meta.Checkpoint.ID,
		Score: r.Score, Verdict: r.Verdict, ImageThreshold: *o.ImageThreshold, PixelThreshold: r.PixelThreshold,
		Subset: o.Subset, DefectTypes: r.DefectTypes, TopDefect: r.TopDefect, TopDefectInMask: r.TopDefectInMask,
		MapSize: r.Size, MaskPixels: n, MaskFraction: float64(n) / float64(len(r.Mask)),
	}
	if it.GT != nil {
		iou, dice, err := Overlap(r.Mask, it.GT)
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		rep.GroundTruth = &GTReport{Mask: it.GTName, Pixels: Count(it.GT), IoU: iou, Dice: dice}
	}
	return rep, nil
}

// ReportJSON is BuildReport, indented.
func ReportJSON(it *Item, s Settings) ([]byte, error) {
	rep, err := BuildReport(it, s)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(rep, "", "  ")
}

// ExportName is the download name for an item's file with suffix, e.g.
// ".mask.png" or ".report.json".
func ExportName(it *Item, suffix string) string {
	stem := Stem(it.BundleName)
	if stem == "" || it.BundleName == "" {
		stem = Stem(it.Name)
	}
	return stem + suffix
}
