package metrics

import (
	"encoding/json"
	"math"
	"os"
	"strconv"
	"testing"
)

// sklearn_fixtures.json is made once by testdata/gen_fixtures.py with
// numpy/scikit-learn/scikit-image (the golden producer's versions); values
// are float32(q)·float32(scale), exact on both sides.
type fixtures struct {
	Image []struct {
		Labels             []int     `json:"labels"`
		Q                  []int     `json:"q"`
		Scale              float64   `json:"scale"`
		AUROC              float64   `json:"auroc"`
		AP                 float64   `json:"ap"`
		F1Max              float64   `json:"f1_max"`
		ROCFPR             []float64 `json:"roc_fpr"`
		ROCTPR             []float64 `json:"roc_tpr"`
		ROCThresholdsAfter []float64 `json:"roc_thresholds_after_first"`
	} `json:"image"`
	Pixel []struct {
		Name       string `json:"name"`
		N, H, W    int
		Q          []int   `json:"q"`
		Scale      float64 `json:"scale"`
		Masks      []int   `json:"masks"`
		PixelAUROC float64 `json:"pixel_auroc"`
		AUPRORef   float64 `json:"aupro_ref"`
	} `json:"pixel"`
	MultiClass []struct {
		Classes    int                `json:"classes"`
		GT         []int              `json:"gt"`
		Q          []int              `json:"q"`
		Scale      float64            `json:"scale"`
		AUROCMacro *float64           `json:"auroc_macro"`
		APMacro    float64            `json:"ap_macro"`
		F1Macro    float64            `json:"f1_macro"`
		AUROC      []*float64         `json:"auroc"`
		AP         []float64          `json:"ap"`
		F1         map[string]float64 `json:"f1"`
	} `json:"multiclass"`
}

func loadFixtures(t *testing.T) fixtures {
	t.Helper()
	b, err := os.ReadFile("testdata/sklearn_fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var f fixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func dequant(q []int, scale float64) []float32 {
	out := make([]float32, len(q))
	for i, v := range q {
		out[i] = float32(v) * float32(scale)
	}
	return out
}

func TestFixtureImage(t *testing.T) {
	f := loadFixtures(t)
	for i, c := range f.Image {
		labels := make([]bool, len(c.Labels))
		for j, l := range c.Labels {
			labels[j] = l == 1
		}
		s32 := dequant(c.Q, c.Scale)
		scores := make([]float64, len(s32))
		for j, v := range s32 {
			scores[j] = float64(v)
		}
		m := Image(labels, scores)
		name := "image" + strconv.Itoa(i)
		checkClose(t, name+" AUROC", m.AUROC, c.AUROC, 1e-15)
		checkClose(t, name+" AP", m.AP, c.AP, 1e-15)
		checkClose(t, name+" F1Max", m.F1Max, c.F1Max, 1e-15)
		r := ROC(labels, scores)
		maxAbsDiff(t, name+" roc fpr", r.FPR, c.ROCFPR, 1e-15)
		maxAbsDiff(t, name+" roc tpr", r.TPR, c.ROCTPR, 1e-15)
		if len(r.Thresholds) > 0 {
			maxAbsDiff(t, name+" roc thresholds[1:]", r.Thresholds[1:], c.ROCThresholdsAfter, 0)
		}
	}
}

func TestFixturePixel(t *testing.T) {
	f := loadFixtures(t)
	for _, c := range f.Pixel {
		maps := dequant(c.Q, c.Scale)
		acc := NewPixelAccumulator(0)
		n := c.H * c.W
		for i := range c.N {
			mask := make([]float32, n)
			for j := range mask {
				mask[j] = float32(c.Masks[i*n+j])
			}
			if err := acc.Add(maps[i*n:(i+1)*n], mask, c.W, c.H); err != nil {
				t.Fatal(err)
			}
		}
		r := acc.Result()
		checkClose(t, c.Name+" pixel AUROC", r.AUROC, c.PixelAUROC, 1e-15)
		checkClose(t, c.Name+" AUPRO (cal_pro_score)", r.AUPRORef, c.AUPRORef, 1e-15)
	}
}

func TestFixtureMultiClass(t *testing.T) {
	f := loadFixtures(t)
	for i, c := range f.MultiClass {
		name := "multiclass" + strconv.Itoa(i)
		acc, err := NewMultiClassAccumulator(c.Classes, 0)
		if err != nil {
			t.Fatal(err)
		}
		probs := dequant(c.Q, c.Scale)
		// Feed in two chunks to exercise accumulation.
		half := len(c.GT) / 2
		if err := acc.AddLabels(probs[:half*c.Classes], c.GT[:half]); err != nil {
			t.Fatal(err)
		}
		if err := acc.AddLabels(probs[half*c.Classes:], c.GT[half:]); err != nil {
			t.Fatal(err)
		}
		r := acc.Result()
		want := math.NaN()
		if c.AUROCMacro != nil {
			want = *c.AUROCMacro
		}
		checkClose(t, name+" macro AUROC", r.AUROC, want, 1e-12)
		checkClose(t, name+" macro AP", r.AP, c.APMacro, 1e-12)
		checkClose(t, name+" macro F1", r.F1, c.F1Macro, 1e-15)
		for k, pc := range r.PerClass {
			wa := math.NaN()
			if c.AUROC[k] != nil {
				wa = *c.AUROC[k]
			}
			checkClose(t, name+" AUROC class "+strconv.Itoa(k), pc.AUROC, wa, 1e-15)
			checkClose(t, name+" AP class "+strconv.Itoa(k), pc.AP, c.AP[k], 1e-12)
			wf, ok := c.F1[strconv.Itoa(k)]
			if !ok {
				wf = math.NaN()
			}
			checkClose(t, name+" F1 class "+strconv.Itoa(k), pc.F1, wf, 1e-15)
		}
	}
}
