package metrics

import (
	"encoding/json"
	"math"
	"sort"
	"testing"

	"dapo/shared/golden"
)

// Tolerances from the golden README: metric values are float64 numpy /
// sklearn results ("match them to ~1e-9"), per-threshold float64 arrays to
// ~1e-12.
const (
	tolScalar = 1e-9
	tolArray  = 1e-12
)

type goldenMetric struct {
	Labels          []int     `json:"labels"`
	Scores          []float64 `json:"scores"`
	ImageAUROC      *float64  `json:"image_auroc"`
	ImageAUROCError string    `json:"image_auroc_error"`
	ImageAP         *float64  `json:"image_ap"`
	ImageF1Max      *float64  `json:"image_f1_max"`
	PRCurve         *struct {
		Precision  []float64 `json:"precision"`
		Recall     []float64 `json:"recall"`
		Thresholds []float64 `json:"thresholds"`
		F1         []float64 `json:"f1"`
	} `json:"pr_curve"`

	NImages         int      `json:"n_images"`
	PixelAUROC      *float64 `json:"pixel_auroc"`
	PixelAUPRO      *float64 `json:"pixel_aupro"`
	NRegions8       []int    `json:"n_regions_per_image_8conn"`
	NThresholds     int      `json:"n_thresholds"`
	NThresholdsKept int      `json:"n_thresholds_kept"`
	Delta           *float64 `json:"delta"`
	ProArrays       *struct {
		Thresholds []float64 `json:"thresholds"`
		FPRs       []float64 `json:"fprs"`
		PROs       []float64 `json:"pros"`
	} `json:"pro_arrays_float64"`
}

func loadGoldenMetrics(t *testing.T) (*golden.Set, map[string]goldenMetric) {
	t.Helper()
	set := golden.Load(t)
	var doc struct {
		Metrics map[string]json.RawMessage `json:"metrics"`
	}
	set.JSON(t, "golden.json", &doc)
	if len(doc.Metrics) == 0 {
		t.Fatal("golden.json has no metrics section")
	}
	out := map[string]goldenMetric{}
	for name, raw := range doc.Metrics {
		var m goldenMetric
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("metrics.%s: %v", name, err)
		}
		out[name] = m
	}
	return set, out
}

func sortedNames(m map[string]goldenMetric) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// checkScalar compares a metric with a golden value; nil golden (Python
// None, sklearn raised) expects NaN.
func checkScalar(t *testing.T, what string, got float64, want *float64) {
	t.Helper()
	if want == nil {
		if !math.IsNaN(got) {
			t.Errorf("%s: got %v, golden is undefined (None): want NaN", what, got)
		}
		return
	}
	d := math.Abs(got - *want)
	if !(d <= tolScalar) {
		t.Errorf("%s: got %.17g, want %.17g (|diff| %.3g)", what, got, *want, d)
		return
	}
	t.Logf("%s: %.17g |diff| %.3g", what, got, d)
}

func maxAbsDiff(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, golden has %d", what, len(got), len(want))
		return
	}
	worst, at := 0.0, -1
	for i := range want {
		d := math.Abs(got[i] - want[i])
		if math.IsNaN(got[i]) != math.IsNaN(want[i]) {
			d = math.Inf(1)
		} else if math.IsNaN(d) {
			d = 0
		}
		if d > worst || at < 0 {
			worst, at = d, i
		}
	}
	if worst > tol {
		t.Errorf("%s: max |diff| %.3g at %d (got %.17g want %.17g) > %.1g", what, worst, at, got[at], want[at], tol)
		return
	}
	t.Logf("%s: %d values, max |diff| %.3g", what, len(want), worst)
}

func TestGoldenImageMetrics(t *testing.T) {
	_, cases := loadGoldenMetrics(t)
	n := 0
	for _, name := range sortedNames(cases) {
		c := cases[name]
		if c.Labels == nil || c.Scores == nil {
			continue
		}
		n++
		t.Run(name, func(t *testing.T) {
			labels := make([]bool, len(c.Labels))
			for i, l := range c.Labels {
				labels[i] = l == 1
			}
			if c.ImageAUROC == nil && c.ImageAUROCError == "" {
				t.Fatal("golden image_auroc is null without image_auroc_error")
			}
			m := Image(labels, c.Scores)
			checkScalar(t, "image_auroc", m.AUROC, c.ImageAUROC)
			checkScalar(t, "image_ap", m.AP, c.ImageAP)
			checkScalar(t, "image_f1_max", m.F1Max, c.ImageF1Max)
			// The separate entry points agree with the one-sort Image.
			for what, v := range map[string]float64{
				"AUROC": AUROC(labels, c.Scores), "AveragePrecision": AveragePrecision(labels, c.Scores),
				"F1Max": F1Max(labels, c.Scores),
			} {
				w := map[string]float64{"AUROC": m.AUROC, "AveragePrecision": m.AP, "F1Max": m.F1Max}[what]
				if !(v == w || math.IsNaN(v) && math.IsNaN(w)) {
					t.Errorf("%s = %v, Image gives %v", what, v, w)
				}
			}
			if c.ImageAP != nil && math.Signbit(*c.ImageAP) != math.Signbit(m.AP) {
				t.Logf("note: AP sign differs from golden (%v vs %v)", m.AP, *c.ImageAP)
			}
			if c.PRCurve == nil {
				return
			}
			pr := PrecisionRecallCurve(labels, c.Scores)
			maxAbsDiff(t, "pr_curve.precision", pr.Precision, c.PRCurve.Precision, tolArray)
			maxAbsDiff(t, "pr_curve.recall", pr.Recall, c.PRCurve.Recall, tolArray)
			maxAbsDiff(t, "pr_curve.thresholds", pr.Thresholds, c.PRCurve.Thresholds, 0)
			if c.PRCurve.F1 != nil {
				maxAbsDiff(t, "pr_curve.f1", pr.F1(), c.PRCurve.F1, tolArray)
			}
		})
	}
	if n == 0 {
		t.Fatal("no image case (labels + scores) in golden.json metrics")
	}
}

// goldenImages splits a [N,H,W] (or [N,1,H,W]) tensor into images.
func goldenImages(t *testing.T, v []float32, shape []int) (imgs [][]float32, w, h int) {
	t.Helper()
	if len(shape) < 3 {
		t.Fatalf("want [N,(1,)H,W], got shape %v", shape)
	}
	h, w = shape[len(shape)-2], shape[len(shape)-1]
	for i := 0; i+w*h <= len(v); i += w * h {
		imgs = append(imgs, v[i:i+w*h])
	}
	if len(imgs) != shape[0] {
		t.Fatalf("shape %v does not split into %d images", shape, shape[0])
	}
	return imgs, w, h
}

func TestGoldenPixelMetrics(t *testing.T) {
	set, cases := loadGoldenMetrics(t)
	n := 0
	for _, name := range sortedNames(cases) {
		c := cases[name]
		if c.PixelAUROC == nil && c.PixelAUPRO == nil || !set.HasTensor(t, "metrics", name+".maps") {
			continue
		}
		n++
		t.Run(name, func(t *testing.T) {
			mv, mshape := set.Float32(t, "metrics", name+".maps")
			kv, kshape := set.Float32(t, "metrics", name+".masks")
			maps, w, h := goldenImages(t, mv, mshape)
			masks, mw, mh := goldenImages(t, kv, kshape)
			if mw != w || mh != h || len(masks) != len(maps) {
				t.Fatalf("maps %v vs masks %v", mshape, kshape)
			}
			if c.NImages != 0 && c.NImages != len(maps) {
				t.Errorf("n_images %d, tensor has %d", c.NImages, len(maps))
			}

			// Connected components: exact skimage labelling.
			var all []int64
			for i, mk := range masks {
				fg := make([]bool, len(mk))
				for j, v := range mk {
					fg[j] = v > 0.5
				}
				lab := make([]int32, len(mk))
				nr := Label8(fg, w, h, lab)
				if c.NRegions8 != nil && nr != c.NRegions8[i] {
					t.Errorf("image %d: %d regions, golden %d", i, nr, c.NRegions8[i])
				}
				for _, v := range lab {
					all = append(all, int64(v))
				}
			}
			if set.HasTensor(t, "metrics", name+".region_labels") {
				set.CompareInt64(t, "metrics", name+".region_labels", all)
			}

			acc := NewPixelAccumulator(0)
			for i := range maps {
				if err := acc.Add(maps[i], masks[i], w, h); err != nil {
					t.Fatal(err)
				}
			}
			r := acc.Result()
			checkScalar(t, "pixel_auroc", r.AUROC, c.PixelAUROC)
			checkScalar(t, "pixel_aupro", r.AUPRORef, c.PixelAUPRO)
			t.Logf("standard AUPRO(0.3) = %.15g (no golden value)", r.AUPRO)

			pc := r.RefCurve
			if c.NThresholds != 0 && len(pc.Thresholds) != c.NThresholds {
				t.Errorf("%d thresholds, golden n_thresholds %d", len(pc.Thresholds), c.NThresholds)
			}
			kept := 0
			keptI := make([]int64, len(pc.Kept))
			for i, k := range pc.Kept {
				if k {
					kept++
					keptI[i] = 1
				}
			}
			if c.NThresholdsKept != 0 && kept != c.NThresholdsKept {
				t.Errorf("%d kept, golden n_thresholds_kept %d", kept, c.NThresholdsKept)
			}
			if c.Delta != nil && pc.Delta != *c.Delta {
				t.Errorf("delta %.17g, golden %.17g", pc.Delta, *c.Delta)
			}
			if c.ProArrays != nil {
				maxAbsDiff(t, "thresholds", pc.Thresholds, c.ProArrays.Thresholds, tolArray)
				maxAbsDiff(t, "fprs", pc.FPRs, c.ProArrays.FPRs, tolArray)
				maxAbsDiff(t, "pros", pc.PROs, c.ProArrays.PROs, tolArray)
			}
			for _, part := range []struct {
				name string
				v    []float64
			}{{"thresholds", pc.Thresholds}, {"fprs", pc.FPRs}, {"pros", pc.PROs}} {
				if set.HasTensor(t, "metrics", name+".pro."+part.name) {
					set.CompareFloat32(t, "metrics", name+".pro."+part.name, toF32(part.v))
				}
			}
			if set.HasTensor(t, "metrics", name+".pro.kept") {
				set.CompareInt64(t, "metrics", name+".pro.kept", keptI)
			}

			// Independent brute force on the same pixels.
			scores, labels, regions := flatten(maps, masks, w, h)
			checkClose(t, "pixel AUROC vs Mann–Whitney", r.AUROC, bruteAUROC(labels, scores), 1e-12)
			checkClose(t, "standard AUPRO vs brute force", r.AUPRO, bruteStdAUPRO(scores, regions), 1e-12)
		})
	}
	if n == 0 {
		t.Fatal("no pixel case in golden.json metrics")
	}
}

// TestGoldenDAPOPipeline scores the set's DAPO forward outputs: anomaly maps
// (dapo_forward anomaly_map), test-time masks (preprocess
// mask_test_binarised), image scores (dapo_forward image.score) and the
// batch's anomaly labels (train_step batch.label, the same two images).
func TestGoldenDAPOPipeline(t *testing.T) {
	set, cases := loadGoldenMetrics(t)
	c, ok := cases["dapo_pipeline"]
	if !ok {
		t.Skip("golden set has no dapo_pipeline metrics")
	}
	need := [][2]string{{"dapo_forward", "anomaly_map"}, {"preprocess", "mask_test_binarised"}}
	for _, n := range need {
		if !set.HasTensor(t, n[0], n[1]) {
			t.Skipf("golden set lacks %s/%s", n[0], n[1])
		}
	}
	mv, mshape := set.Float32(t, "dapo_forward", "anomaly_map")
	kv, kshape := set.Float32(t, "preprocess", "mask_test_binarised")
	maps, w, h := goldenImages(t, mv, mshape)
	masks, mw, mh := goldenImages(t, kv, kshape)
	if mw != w || mh != h || len(maps) != len(masks) {
		t.Fatalf("anomaly_map %v vs mask_test_binarised %v", mshape, kshape)
	}
	acc := NewPixelAccumulator(len(mv))
	for i := range maps {
		if err := acc.Add(maps[i], masks[i], w, h); err != nil {
			t.Fatal(err)
		}
	}
	r := acc.Result()
	checkScalar(t, "pixel_auroc", r.AUROC, c.PixelAUROC)
	checkScalar(t, "pixel_aupro", r.AUPRORef, c.PixelAUPRO)

	if c.ImageAUROC == nil && c.ImageAUROCError == "" {
		return
	}
	if !set.HasTensor(t, "dapo_forward", "image.score") || !set.HasTensor(t, "train_step", "batch.label") {
		t.Skip("golden set lacks image.score or batch.label")
	}
	sv, _ := set.Float32(t, "dapo_forward", "image.score")
	lv, _ := set.Int64(t, "train_step", "batch.label")
	if len(sv) != len(lv) {
		t.Fatalf("%d scores, %d labels", len(sv), len(lv))
	}
	labels := make([]bool, len(lv))
	scores := make([]float64, len(sv))
	for i := range lv {
		labels[i] = lv[i] == 1
		scores[i] = float64(sv[i])
		// The labels must be the masks' anomaly flags.
		anom := false
		for _, v := range masks[i] {
			anom = anom || v > 0.5
		}
		if anom != labels[i] {
			t.Errorf("image %d: batch.label %d but mask anomalous=%v", i, lv[i], anom)
		}
	}
	checkScalar(t, "image_auroc", AUROC(labels, scores), c.ImageAUROC)
}

func toF32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func checkClose(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) && math.IsNaN(want) {
		return
	}
	if d := math.Abs(got - want); !(d <= tol) {
		t.Errorf("%s: got %.17g want %.17g (|diff| %.3g)", what, got, want, d)
		return
	}
	t.Logf("%s: %.15g |diff| %.3g", what, got, math.Abs(got-want))
}

// sameOrBothNaN reports |got − want| <= tol, treating two NaNs as equal.
func sameOrBothNaN(got, want, tol float64) bool {
	if math.IsNaN(got) || math.IsNaN(want) {
		return math.IsNaN(got) && math.IsNaN(want)
	}
	return math.Abs(got-want) <= tol
}
