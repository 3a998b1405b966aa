package evaluate

import "math"

// Metrics are one product's headline metrics (fractions in [0,1]; NaN,
// written as null, when undefined — e.g. a product without anomalies).
type Metrics struct {
	ImageAUROC     float64 `json:"image_auroc"`
	ImageAP        float64 `json:"image_ap"`
	ImageF1Max     float64 `json:"image_f1_max"`
	PixelAUROC     float64 `json:"pixel_auroc"`
	PixelAUPRORef  float64 `json:"pixel_aupro_ref"` // the reference's cal_pro_score
	PixelAUPRO     float64 `json:"pixel_aupro"`     // standard, threshold-free AUPRO to FPR 0.3
	MultiTypeAUROC float64 `json:"multitype_auroc"`
	MultiTypeAP    float64 `json:"multitype_ap"`
	MultiTypeF1    float64 `json:"multitype_f1"`
}

// MetricNames returns the metric column names (the JSON keys of Metrics)
// in Values order.
func MetricNames() []string {
	return []string{"image_auroc", "image_ap", "image_f1_max", "pixel_auroc", "pixel_aupro_ref", "pixel_aupro", "multitype_auroc", "multitype_ap", "multitype_f1"}
}

// Values lists the metrics in MetricNames order.
func (m Metrics) Values() []float64 {
	return []float64{m.ImageAUROC, m.ImageAP, m.ImageF1Max, m.PixelAUROC, m.PixelAUPRORef, m.PixelAUPRO, m.MultiTypeAUROC, m.MultiTypeAP, m.MultiTypeF1}
}

func metricsFromValues(v []float64) Metrics {
	return Metrics{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]}
}

// ProductResult is one product's evaluation.
type ProductResult struct {
	Product string `json:"product"`
	Metrics
	Images    int `json:"images"`
	Normal    int `json:"normal"`
	Anomalous int `json:"anomalous"`
	// PixelImages were pooled for the pixel metrics: normal images and
	// anomalous images with a mask. Regions counts their GT components.
	PixelImages int `json:"pixel_images"`
	Regions     int `json:"gt_regions"`
	// AnomalousWithoutMask were left out of the pixel metrics.
	AnomalousWithoutMask int              `json:"anomalous_without_mask"`
	MultiType            *MultiTypeResult `json:"multitype,omitempty"`
}

// MultiTypeResult is the §5.4 scoring of one product.
type MultiTypeResult struct {
	// Classes is the product's class list L_p, "normal" first.
	Classes  []string      `json:"classes"`
	PerClass []ClassResult `json:"per_class"`
	Images   int           `json:"images"`
	// Skipped counts the anomalous images left out because their defect
	// has no word in Classes (or they have no mask), by defect key.
	Skipped     int            `json:"skipped"`
	SkippedKeys map[string]int `json:"skipped_keys,omitempty"`
}

// ClassResult is one class's one-vs-rest pixel metrics within a product.
type ClassResult struct {
	Class  string  `json:"class"`
	AUROC  float64 `json:"auroc"`
	AP     float64 `json:"ap"`
	F1     float64 `json:"f1"`
	Pixels int     `json:"gt_pixels"`
}

// DefectResult is one defect word's one-vs-rest metrics averaged over the
// products whose class list holds it (finite values only).
type DefectResult struct {
	Defect   string   `json:"defect"`
	AUROC    float64  `json:"auroc"`
	AP       float64  `json:"ap"`
	F1       float64  `json:"f1"`
	Products []string `json:"products"`
}

// ConfusionMatrix is a count matrix indexed [true][predicted].
type ConfusionMatrix struct {
	Labels []string `json:"labels"`
	Counts [][]int  `json:"counts"`
}

// Config records what was evaluated.
type Config struct {
	Checkpoint     string   `json:"checkpoint"`
	Model          string   `json:"model"`
	Defects        []string `json:"defects"`
	ImageSize      int      `json:"image_size"`
	FeatureLayers  []int    `json:"feature_layers"`
	Format         string   `json:"dataset_format"`
	Root           string   `json:"dataset_root"`
	Split          string   `json:"split"`
	Vocab          string   `json:"vocabulary"`
	ImageThreshold float64  `json:"image_threshold"`
	PixelThreshold float64  `json:"pixel_threshold"`
	Thresholds     string   `json:"thresholds_source"`
	Samples        int      `json:"heatmap_samples_per_product"`
	MultiType      bool     `json:"multitype"`
}

// Counts are the run's totals.
type Counts struct {
	Products             int `json:"products"`
	Images               int `json:"images"`
	Normal               int `json:"normal"`
	Anomalous            int `json:"anomalous"`
	AnomalousWithoutMask int `json:"anomalous_without_mask"`
	MultiTypeImages      int `json:"multitype_images"`
	MultiTypeSkipped     int `json:"multitype_skipped"`
	EmbeddingPatches     int `json:"embedding_patches"`
	EmbeddingKept        int `json:"embedding_patches_plotted"`
}

// Report is the whole evaluation, written as metrics.json.
type Report struct {
	Config    Config          `json:"config"`
	Counts    Counts          `json:"counts"`
	Products  []ProductResult `json:"products"`
	Mean      Metrics         `json:"mean"`
	PerDefect []DefectResult  `json:"per_defect"`
	Binary    ConfusionMatrix `json:"confusion_binary"`
	// DefectType is the per-image defect type confusion over anomalous
	// images; empty when no image has a defect word in use.
	DefectType ConfusionMatrix `json:"confusion_defect_type"`
	Files      []string        `json:"files"`
}

// meanFinite is the unweighted mean of the finite values, NaN if none, as
// the tables' mean row (report.MeanRow) computes it.
func meanFinite(v []float64) float64 {
	var s float64
	n := 0
	for _, x := range v {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			s += x
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

// meanMetrics is the column-wise meanFinite over products.
func meanMetrics(ps []ProductResult) Metrics {
	n := len(MetricNames())
	cols := make([][]float64, n)
	for _, p := range ps {
		for j, v := range p.Values() {
			cols[j] = append(cols[j], v)
		}
	}
	out := make([]float64, n)
	for j := range out {
		out[j] = meanFinite(cols[j])
	}
	return metricsFromValues(out)
}

func nan() float64 { return math.NaN() }
